"""A provider's default httpx2 clients: created lazily, safe under threads, loops and forks.

- The sync client is created once per provider, under a lock, however many threads ask
  for it at once; ``close_sync`` closes it, and the next use creates a new one.
- An async client belongs to the event loop it was created in: its pooled connections
  cannot be used from another loop. Each running loop gets its own client. Under asyncio
  the client is closed inside its loop as the loop shuts down (``asyncio.run`` and
  ``asyncio.Runner`` close the async generators still alive, and one is kept alive per client
  for that purpose), so a second ``asyncio.run`` on the same provider starts clean.
- After ``os.fork`` the child forgets every default client (``os.register_at_fork``): its
  copies share the parent's sockets, so reusing or even closing them (a TLS close notice)
  would disturb the parent. They are kept referenced, unused, so they are never collected.

Clients passed in by the caller are not handled here: they stay the caller's.
This module creates clients and closes them; it sends nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, cast

import httpx2

_live: weakref.WeakSet[DefaultClients] = weakref.WeakSet()
_inherited: list[object] = []
"""In a forked child: the parent's clients, kept so they are never collected (nor closed)."""


class DefaultClients:
    """The default clients of one provider (see the module docstring).

    Args:
        make_sync: Builds the sync client.
        make_async: Builds an async client.
    """

    def __init__(
        self, make_sync: Callable[[], httpx2.Client], make_async: Callable[[], httpx2.AsyncClient]
    ) -> None:
        self._make_sync = make_sync
        self._make_async = make_async
        self._lock = threading.Lock()
        self._sync: httpx2.Client | None = None
        # Keyed by event loop (weakly: a collected loop drops its client); ``None`` is the key
        # where no asyncio loop runs (trio). The generator closes the client as its loop ends.
        self._async: weakref.WeakKeyDictionary[object, _AsyncEntry] = weakref.WeakKeyDictionary()
        self._loopless: _AsyncEntry | None = None
        _live.add(self)

    def __repr__(self) -> str:
        return f"DefaultClients(sync={self._sync is not None}, async_loops={len(self._async)})"

    def sync_client(self) -> httpx2.Client:
        """The sync client, created on first use (once, whichever thread asks first)."""
        client = self._sync
        if client is None:
            with self._lock:
                client = self._sync
                if client is None:
                    client = self._sync = self._make_sync()
        return client

    def async_client(self) -> httpx2.AsyncClient:
        """The async client of the running event loop, created on its first use there."""
        loop = _running_loop()
        with self._lock:
            entry = self._async.get(loop) if loop is not None else self._loopless
            if entry is None or entry.client.is_closed:
                entry = _AsyncEntry(self._make_async(), close_with_loop=loop is not None)
                if loop is None:
                    self._loopless = entry
                else:
                    self._async[loop] = entry
            return entry.client

    def close_sync(self) -> None:
        """Close the sync client, if one was created."""
        with self._lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()

    async def aclose_async(self) -> None:
        """Close the running loop's async client (clients of other loops close with their loop)."""
        loop = _running_loop()
        with self._lock:
            if loop is None:
                entry, self._loopless = self._loopless, None
            else:
                entry = self._async.pop(loop, None)
        if entry is not None:
            await entry.client.aclose()

    def _forget(self) -> None:
        """In a forked child: drop every client without closing it, and the lock too."""
        self._lock = threading.Lock()  # another thread may have held it at the fork
        _inherited.extend((self._sync, self._loopless, *self._async.values()))
        self._sync, self._loopless = None, None
        self._async = weakref.WeakKeyDictionary()


class _AsyncEntry:
    __slots__ = ("client", "closer")

    def __init__(self, client: httpx2.AsyncClient, *, close_with_loop: bool) -> None:
        self.client = client
        self.closer: AsyncGenerator[None, None] | None = None
        if close_with_loop:
            self.closer = _close_at_loop_end(client)
            # Start it now (the first step runs no await): the loop's async generator hooks
            # see it, and its shutdown runs the ``finally`` that closes the client in the loop.
            step = cast("Generator[Any, None, Any]", self.closer.__anext__())
            with contextlib.suppress(StopIteration):
                step.send(None)


async def _close_at_loop_end(client: httpx2.AsyncClient) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        if not client.is_closed:
            await client.aclose()


def _running_loop() -> object | None:
    asyncio = sys.modules.get("asyncio")  # no import: nothing runs an asyncio loop without it
    if asyncio is None:
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # another async library (trio): one client, as before
        return None


def _forget_all_in_child() -> None:
    for clients in list(_live):
        clients._forget()  # pyright: ignore[reportPrivateUsage]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_all_in_child)

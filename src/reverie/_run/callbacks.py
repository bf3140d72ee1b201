"""Callbacks that may be ``async def``: awaited by async runs, refused by sync runs.

The run machine calls every callback as a plain function. Before a run starts, the driver
adopts the agent's callbacks here: in an async run each callback is wrapped so that what it
returns, when awaitable (an ``async def`` callback's coroutine), is queued for the driver to
await before it goes on; a sync run refuses an ``async def`` callback with a ``UserError``
before any request, and any other callback that returns an awaitable when it is called.
This module does not await anything itself.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from reverie._errors import UserError
from reverie._run.config import Callbacks, RunConfig

_Wrap = Callable[[str, Callable[[Any], Any]], Callable[[Any], None]]


def adopt_callbacks_async(config: RunConfig) -> tuple[RunConfig, list[Awaitable[Any]]]:
    """``config`` with callbacks whose awaitable outcomes land in the returned queue."""
    pending: list[Awaitable[Any]] = []

    def wrap(name: str, callback: Callable[[Any], Any]) -> Callable[[Any], None]:
        del name

        def queued(argument: Any) -> None:
            outcome = callback(argument)
            if outcome is not None and inspect.isawaitable(outcome):
                pending.append(outcome)

        return queued

    return _wrapped(config, wrap), pending


def adopt_callbacks(config: RunConfig) -> tuple[RunConfig, list[Awaitable[Any]]]:
    """``config`` for a sync run: an ``async def`` callback is a ``UserError`` now, not ignored later."""
    for name, callback in _set_callbacks(config.callbacks):
        if inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
            getattr(callback, "__call__", None)  # noqa: B004 (an object with an async __call__)
        ):
            raise _refusal(name)

    def wrap(name: str, callback: Callable[[Any], Any]) -> Callable[[Any], None]:
        def checked(argument: Any) -> None:
            outcome = callback(argument)
            if outcome is not None and inspect.isawaitable(outcome):
                close = getattr(outcome, "close", None)
                if close is not None:
                    close()  # never awaited: closing it avoids a "never awaited" warning
                raise _refusal(name)

        return checked

    return _wrapped(config, wrap), []


def _refusal(name: str) -> UserError:
    return UserError(
        f"{name} is an async callback, which a sync run cannot await; use generate_async / "
        "stream_async, or pass a plain def"
    )


def _set_callbacks(callbacks: Callbacks) -> list[tuple[str, Callable[[Any], Any]]]:
    found: list[tuple[str, Callable[[Any], Any]]] = []
    for item in dataclasses.fields(callbacks):
        value: Callable[[Any], Any] | None = getattr(callbacks, item.name)
        if value is not None:
            found.append((item.name, value))
    return found


def _wrapped(config: RunConfig, wrap: _Wrap) -> RunConfig:
    present = _set_callbacks(config.callbacks)
    if not present:
        return config
    wrapped = {name: wrap(name, callback) for name, callback in present}
    return dataclasses.replace(config, callbacks=dataclasses.replace(config.callbacks, **wrapped))

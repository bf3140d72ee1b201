"""``RateLimiter``: one limiter shared by every thread and task that sends through it.

This is the thin shell around the decisions of ``reverie._http.rate_state``: one
``threading.Lock`` guards that state, so threads and event loops (several at once, and a
mix) share a limiter safely.
Nothing here waits except ``sleep`` / ``async_sleep`` and the concurrency-slot waiters; the
engine (``reverie._async.engine`` and its generated sync twin) drives an ``Admission``
through them before each request, and reports the response back to it.

Colour-specific primitives are written here in both colours, as ``reverie._concurrency``
does for the run: a thread waits for a slot on a ``threading.Event``, a task on an
``anyio.Event`` that the releasing thread sets through the task's event loop, so a slot
freed by a thread wakes a task and the other way round. Waiting never polls: a slot is
handed to its next waiter when it is released, and timed waits sleep exactly as long as
the state says. anyio and asyncio are imported only when a task waits.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from reverie import _clock
from reverie._content import Usage
from reverie._errors import DeadlineExceededError
from reverie._http.rate_headers import parse_rate_limit_headers, rate_limit_headers
from reverie._http.rate_state import LimiterState, Reservation, Slots, Ticket, estimate_tokens
from reverie._log import logger, safe_url

ANNOUNCED_WAIT = 1.0
"""Waits longer than this many seconds are logged and shown as a ``rate_limit_wait`` part."""


def sleep(seconds: float) -> None:
    """Block the thread for ``seconds`` (tests replace it to move a fake clock instead)."""
    if seconds > 0:
        time.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Wait ``seconds`` without blocking the event loop."""
    import anyio

    await anyio.sleep(seconds)


class _Waiter(Protocol):
    granted: bool

    def wake(self) -> bool: ...


WaiterT = TypeVar("WaiterT", bound=_Waiter)


class SlotWaiter:
    """A thread waiting for a concurrency slot."""

    __slots__ = ("_event", "granted")

    def __init__(self) -> None:
        self._event = threading.Event()
        self.granted = False

    def wake(self) -> bool:
        """Tell the thread its slot is there (from any thread)."""
        self._event.set()
        return True

    def wait(self, seconds: float | None) -> None:
        """Block until woken, or for at most ``seconds``."""
        self._event.wait(seconds)


class AsyncSlotWaiter:
    """A task waiting for a concurrency slot; any thread can wake it."""

    __slots__ = ("_call_soon", "_event", "granted")

    def __init__(self) -> None:
        import anyio

        self._event = anyio.Event()
        self._call_soon = _loop_scheduler()
        self.granted = False

    def wake(self) -> bool:
        """Set the task's event in its own event loop; ``False`` if that loop is gone."""
        try:
            self._call_soon(self._event.set)
        except RuntimeError:  # the loop is closed: nobody waits there any more
            return False
        return True

    async def wait(self, seconds: float | None) -> None:
        """Wait until woken, or for at most ``seconds``."""
        import anyio

        with anyio.move_on_after(math.inf if seconds is None else seconds):
            await self._event.wait()


def _loop_scheduler() -> Callable[[Callable[[], object]], object]:
    """The thread-safe "run this soon" of the running event loop (asyncio or trio)."""
    import asyncio

    try:
        return asyncio.get_running_loop().call_soon_threadsafe
    except RuntimeError:
        pass
    import importlib

    trio: Any = importlib.import_module("trio")  # the only other loop anyio runs on
    return trio.lowlevel.current_trio_token().run_sync_soon


class RateLimiter:
    """Client-side rate limits shared by every request of the providers it is given to.

    Pass it as ``Provider(rate_limiter=...)``; every model, agent, thread and task using
    that provider (or any other provider given the same limiter) shares it. Before a
    request is sent it waits for a concurrency slot, for its place in the per-minute
    buckets, and for what the provider itself reported; the response's rate-limit headers
    then update the limiter, and a 429 pauses every caller until the provider's reset.

    Per-minute limits refill continuously and allow a burst of one second's share (at
    least one request), so callers that all start at once do not exceed the limit. Tokens
    are estimated from the request body (about four bytes per token) and corrected by the
    usage the response reports.

    Args:
        requests_per_minute: Requests allowed per minute (``None``: no such limit).
        tokens_per_minute: Tokens (prompt and output) allowed per minute (``None``: no limit).
        max_concurrency: Requests in progress at once, streams until they are read to the
            end or closed (``None``: no limit).
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        for name, value in (
            ("requests_per_minute", requests_per_minute),
            ("tokens_per_minute", tokens_per_minute),
        ):
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ValueError(f"{name} must be a positive number or None, not {value!r}")
        if max_concurrency is not None and (
            isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int) or max_concurrency < 1  # pyright: ignore[reportUnnecessaryIsInstance]
        ):
            raise ValueError(f"max_concurrency must be a positive int or None, not {max_concurrency!r}")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.max_concurrency = max_concurrency
        self._lock = threading.Lock()
        self._state = LimiterState.per_minute(requests_per_minute, tokens_per_minute)
        self._slots: Slots[_Waiter] | None = None if max_concurrency is None else Slots(max_concurrency)

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute!r}, "
            f"tokens_per_minute={self.tokens_per_minute!r}, max_concurrency={self.max_concurrency!r})"
        )

    def admission(self, *, url: str, body_size: int, deadline_at: float | None) -> Admission:
        """The way of one request through the limiter (see ``Admission``)."""
        return Admission(
            self._lock, self._state, self._slots, url=url, tokens=estimate_tokens(body_size), ends=deadline_at
        )

    def pause(self, seconds: float) -> None:
        """Hold every request of this limiter for ``seconds`` from now (as a 429 does)."""
        with self._lock:
            self._state.pause(_clock.now(), seconds)


def _release_slot(slots: Slots[_Waiter]) -> None:
    """Give a slot back: to the next waiter that can still be woken, else to the pool (lock held)."""
    while (waiter := slots.release()) is not None:
        waiter.granted = True
        if waiter.wake():
            return
        waiter.granted = False  # its loop is gone: the slot goes on to the next one


class Admission:
    """One request's way through a ``RateLimiter``, driven by the engine in this order.

    ``take_slot`` (and, if queued, the waiter's ``wait`` then ``check_slot``), ``next_wait``
    until it returns 0 (sleeping what it returns), the request, ``observe`` with its status
    and headers, ``used`` with the reported usage, and always ``release`` at the end (also
    after a failure or a cancellation; calling it again does nothing). One caller uses it.
    """

    __slots__ = (
        "_ends",
        "_lock",
        "_reservation",
        "_slot",
        "_slots",
        "_state",
        "_ticket",
        "_tokens",
        "_url",
        "_waiter",
        "waited",
    )

    def __init__(
        self,
        lock: threading.Lock,
        state: LimiterState,
        slots: Slots[_Waiter] | None,
        *,
        url: str,
        tokens: int,
        ends: float | None,
    ) -> None:
        self._lock = lock
        self._state = state
        self._slots = slots
        self._url = url
        self._tokens = tokens
        self._ends = ends
        self._waiter: _Waiter | None = None
        self._slot = False
        self._reservation: Reservation | None = None
        self._ticket: Ticket | None = None
        self.waited = False
        """Whether any wait was needed (the request's timeout is then cut to the deadline)."""

    @property
    def needs_slot(self) -> bool:
        """Whether the limiter bounds concurrency."""
        return self._slots is not None

    def take_slot(self, waiter_type: Callable[[], WaiterT]) -> WaiterT | None:
        """Take a slot now (``None``), or queue a new ``waiter_type()`` and return it.

        A returned waiter is waited on (``wait(time_left())``), then ``check_slot`` says
        whether the slot came.
        """
        slots = self._slots
        assert slots is not None
        with self._lock:
            if slots.take():
                self._slot = True
                return None
            waiter = waiter_type()
            slots.enqueue(waiter)
            self._waiter = waiter
        self.waited = True
        logger.debug("rate limit: waiting for a free slot before POST %s", safe_url(self._url))
        return waiter

    def time_left(self) -> float | None:
        """Seconds until the deadline (``None``: none); a deadline already passed raises."""
        if self._ends is None:
            return None
        left = self._ends - _clock.now()
        if left <= 0:
            self.release()
            raise self._deadline_error("waiting for a free slot")
        return left

    def check_slot(self) -> None:
        """After the wait: the slot is ours, or the deadline came first (raises)."""
        waiter = self._waiter
        assert waiter is not None
        with self._lock:
            if waiter.granted:
                self._slot, self._waiter = True, None
                return
        self.release()
        raise self._deadline_error("waiting for a free slot")

    def next_wait(self) -> float:
        """Seconds to sleep before asking again; 0 when the request may be sent now.

        Raises:
            DeadlineExceededError: the wait would not end before the deadline.
        """
        state = self._state
        with self._lock:
            now = _clock.now()
            reservation = self._reservation
            if reservation is None:
                reservation = self._reservation = state.reserve(now, self._tokens)
            seconds = state.wait(reservation, now)
            if seconds <= 0:
                self._ticket = state.commit(reservation)
                self._reservation = None
                return 0.0
        self.waited = True
        if self._ends is not None and now + seconds >= self._ends:
            self.release()
            raise self._deadline_error(f"a rate-limit wait of {seconds:.3g} s")
        if seconds > ANNOUNCED_WAIT:
            logger.info("rate limit: waiting %.1f s before POST %s", seconds, safe_url(self._url))
        return seconds

    def timeout(self, timeout: float | None) -> float | None:
        """``timeout`` cut to what the deadline leaves now (a wait may have used some)."""
        if self._ends is None:
            return timeout
        left = self._ends - _clock.now()
        return left if timeout is None else min(timeout, left)

    def observe(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        """Learn from the response's status and rate-limit headers (name, value pairs)."""
        ticket = self._ticket
        if ticket is None:
            return
        found = rate_limit_headers(headers)
        if not found and status != 429:
            return
        report = parse_rate_limit_headers(found, wall_now=time.time())
        if report.empty and status != 429:
            return
        with self._lock:
            self._state.observe(ticket, report, status=status, now=_clock.now())
        if status == 429:
            logger.debug("rate limit: POST %s answered 429; the limiter pauses", safe_url(self._url))

    def used(self, usage: Usage) -> None:
        """Correct the estimated tokens by the usage the response reported."""
        ticket = self._ticket
        if ticket is None or self._state.tokens is None:
            return
        used = usage.total_tokens or usage.input_tokens + usage.output_tokens
        if used <= 0:
            return  # no usage reported: the estimate stands
        with self._lock:
            self._state.finish(ticket, used)

    def release(self) -> None:
        """The request is over (or never sent): free its slot and any unused reservation."""
        if not (self._slot or self._waiter is not None or self._reservation is not None):
            return
        with self._lock:
            if self._reservation is not None:
                self._state.cancel(self._reservation)
                self._reservation = None
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None
                slots = self._slots
                assert slots is not None
                if not slots.withdraw(waiter) and waiter.granted:
                    self._slot = True  # handed over while we were leaving: pass it on below
            if self._slot:
                self._slot = False
                assert self._slots is not None
                _release_slot(self._slots)

    def _deadline_error(self, what: str) -> DeadlineExceededError:
        left = 0.0 if self._ends is None else max(self._ends - _clock.now(), 0.0)
        where = safe_url(self._url)
        message = f"{what} before POST {where} would not end before the deadline ({left:.3g} s left)"
        return DeadlineExceededError(left, message=message)

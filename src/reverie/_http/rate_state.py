"""The decisions of a rate limiter: when a request may go, and what a response teaches.

Pure state and arithmetic on clock readings passed in: nothing here reads a clock, sleeps,
locks or wakes anyone (``reverie._rate_limiter`` does, under one lock). Four things
decide when a request may be sent:

- **Per-minute limits** are token buckets refilled continuously, kept as GCRA (the
  "generic cell rate algorithm": one theoretical arrival time per bucket). A bucket holds
  one second's share of its limit, at least one unit, so a crowd of callers that starts at
  once sends that burst and then one request per interval, never the whole minute at once.
  Each caller *reserves* its place when it arrives and sleeps until then: waiters queue in
  arrival order and nobody is woken to find the capacity taken.
- **Windows the provider reports** (``remaining`` requests or tokens until a reset, from
  its headers): a request waits for the reset when what it needs is not left. The newest
  report wins, less the requests (and estimated tokens) sent since its own request left,
  which the provider may not have counted yet. A window ends at its reset; after it nothing
  is assumed until the next report.
- **A pause after a 429**: until ``retry-after``, else the reset of an exhausted window, else
  one second. It holds every caller of the limiter, those already waiting included: their
  reservations are void (a new *generation*), and they reserve again after the pause, when
  the buckets are full again.
- **Concurrency slots** (``Slots``): handed over in arrival order, directly to the next
  waiter when a request ends, so a slot never goes to whoever happens to wake first.

Token counts are estimates until the response says how many were used (``finish``
corrects the bucket and the window by the difference).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from reverie._http.rate_headers import RateLimitReport

DEFAULT_PAUSE = 1.0
"""Seconds a 429 pauses the limiter when it says nothing about when to come back."""

W = TypeVar("W")


@dataclass(slots=True)
class Bucket:
    """A per-minute limit as a GCRA token bucket (times in seconds of the monotonic clock)."""

    interval: float
    """Seconds per unit: ``60 / per_minute``."""
    capacity: float
    """The burst, in seconds of refill: one second, or one interval if that is longer."""
    full_at: float = -math.inf
    """The theoretical arrival time: when the bucket is full again."""

    @classmethod
    def per_minute(cls, limit: float) -> Bucket:
        """A bucket of ``limit`` units per minute holding one second's share (at least one unit)."""
        interval = 60.0 / limit
        return cls(interval=interval, capacity=max(1.0, interval))

    def reserve(self, now: float, units: float) -> float:
        """Take ``units`` and return when they may be used (``now`` or later).

        A request larger than the burst goes when the bucket is full, and leaves it in debt.
        """
        cost = units * self.interval
        ready = max(now, self.full_at + cost - max(self.capacity, cost))
        self.full_at = max(self.full_at, ready) + cost
        return ready

    def give_back(self, units: float) -> None:
        """Return ``units`` not used (a negative count takes more).

        Always safe: a token bucket never breaks its limit because a request went later or
        not at all, so later reservations keep their times.
        """
        self.full_at -= units * self.interval

    def fill_at(self, moment: float) -> None:
        """Forget every reservation: the bucket is full again at ``moment``."""
        self.full_at = moment


@dataclass(slots=True)
class ReportedWindow:
    """What the provider said is left of one limit, less what was sent since."""

    remaining: float
    reset_at: float


@dataclass(slots=True)
class Reservation:
    """A caller's place in the buckets; void when a pause starts a new generation."""

    tokens: float
    ready_at: float
    generation: int


@dataclass(slots=True, frozen=True)
class Ticket:
    """A request that was let through: which one it was and what it was charged."""

    serial: int
    """How many requests were let through before it."""
    tokens: float
    """The tokens it was charged (an estimate until ``finish``)."""
    tokens_after: float
    """The running total of charged tokens including this request's."""


@dataclass(slots=True)
class LimiterState:
    """Buckets, reported windows and the pause of one limiter; see the module docstring."""

    requests: Bucket | None = None
    tokens: Bucket | None = None
    paused_until: float = -math.inf
    generation: int = 0
    requests_window: ReportedWindow | None = None
    tokens_window: ReportedWindow | None = None
    sent: int = 0
    """Requests let through so far."""
    sent_tokens: float = 0.0
    """Tokens charged so far (estimates, corrected by ``finish``)."""

    @classmethod
    def per_minute(cls, requests: float | None, tokens: float | None) -> LimiterState:
        """A state with the buckets of these per-minute limits (``None``: no such limit)."""
        return cls(
            requests=None if requests is None else Bucket.per_minute(requests),
            tokens=None if tokens is None else Bucket.per_minute(tokens),
        )

    # -- before a request ----------------------------------------------------------------

    def reserve(self, now: float, tokens: float) -> Reservation:
        """Take a place in the buckets for a request of ``tokens`` estimated tokens."""
        return Reservation(tokens=tokens, ready_at=self._reserve(now, tokens), generation=self.generation)

    def _reserve(self, now: float, tokens: float) -> float:
        ready = now
        if self.requests is not None:
            ready = max(ready, self.requests.reserve(now, 1.0))
        if self.tokens is not None:
            ready = max(ready, self.tokens.reserve(now, tokens))
        return ready

    def wait(self, reservation: Reservation, now: float) -> float:
        """Seconds ``reservation`` must still wait (0: it may go now; then call ``commit``).

        A reservation made before the latest pause takes a new place first.
        """
        if reservation.generation != self.generation:
            reservation.ready_at = self._reserve(now, reservation.tokens)
            reservation.generation = self.generation
        ready = max(reservation.ready_at, self.paused_until)
        window = self._window_open(now, reservation.tokens)
        return max(max(ready, window) - now, 0.0)

    def _window_open(self, now: float, tokens: float) -> float:
        """When the reported windows let a request of ``tokens`` through (``-inf``: they do now)."""
        opens = -math.inf
        window = self.requests_window
        if window is not None:
            if now >= window.reset_at:
                self.requests_window = None
            elif window.remaining < 1:
                opens = window.reset_at
        window = self.tokens_window
        if window is not None:
            if now >= window.reset_at:
                self.tokens_window = None
            elif window.remaining < tokens:
                opens = max(opens, window.reset_at)
        return opens

    def commit(self, reservation: Reservation) -> Ticket:
        """Let the request of ``reservation`` through (``wait`` returned 0)."""
        tokens = reservation.tokens
        if self.requests_window is not None:
            self.requests_window.remaining -= 1
        if self.tokens_window is not None:
            self.tokens_window.remaining -= tokens
        serial = self.sent
        self.sent += 1
        self.sent_tokens += tokens
        return Ticket(serial=serial, tokens=tokens, tokens_after=self.sent_tokens)

    def cancel(self, reservation: Reservation) -> None:
        """The caller gave up before its request went: its place goes back to the buckets."""
        if reservation.generation != self.generation:
            return  # the pause already emptied the buckets of it
        if self.requests is not None:
            self.requests.give_back(1.0)
        if self.tokens is not None:
            self.tokens.give_back(reservation.tokens)

    # -- after a response ----------------------------------------------------------------

    def observe(self, ticket: Ticket, report: RateLimitReport, *, status: int, now: float) -> None:
        """Learn from the headers of ``ticket``'s response (``status`` 429 pauses the limiter)."""
        requests, tokens = report.requests, report.tokens
        if requests is not None and requests.reset is not None:
            # Requests let through after this one may not have been counted in the report.
            later = self.sent - ticket.serial - 1
            self.requests_window = ReportedWindow(requests.remaining - later, now + requests.reset)
        if tokens is not None and tokens.reset is not None:
            later_tokens = self.sent_tokens - ticket.tokens_after
            self.tokens_window = ReportedWindow(tokens.remaining - later_tokens, now + tokens.reset)
        if status == 429:
            self.pause(now, pause_seconds(report))

    def pause(self, now: float, seconds: float) -> None:
        """Hold every caller until ``now + seconds``; the buckets are full again then."""
        self.paused_until = max(self.paused_until, now + seconds)
        self.generation += 1
        for bucket in (self.requests, self.tokens):
            if bucket is not None:
                bucket.fill_at(self.paused_until)

    def finish(self, ticket: Ticket, used_tokens: int | None) -> None:
        """The response reported ``used_tokens``: correct what ``ticket`` was charged."""
        if used_tokens is None:
            return
        extra = used_tokens - ticket.tokens
        if extra == 0:
            return
        if self.tokens is not None:
            self.tokens.give_back(-extra)
        if self.tokens_window is not None:
            self.tokens_window.remaining -= extra
        self.sent_tokens += extra


def pause_seconds(report: RateLimitReport) -> float:
    """How long a 429 with ``report`` pauses the limiter.

    ``retry-after``, else the latest reset of an exhausted limit (else of any reported
    limit), else ``DEFAULT_PAUSE``.
    """
    if report.retry_after is not None:
        return report.retry_after
    windows = [window for window in (report.requests, report.tokens) if window is not None]
    resets = [window.reset for window in windows if window.reset is not None and window.remaining < 1]
    if not resets:
        resets = [window.reset for window in windows if window.reset is not None]
    return max(resets) if resets else DEFAULT_PAUSE


def estimate_tokens(body_size: int) -> int:
    """The tokens a request body of ``body_size`` bytes is charged before its usage is known.

    About four bytes of JSON per token: the body's syntax and tool schemas count too, so
    this tends to overestimate the prompt; the reported usage (prompt and output) replaces
    it when the response arrives.
    """
    return max(1, math.ceil(body_size / 4))


@dataclass(slots=True)
class Slots(Generic[W]):
    """``limit`` concurrency slots, handed to waiters ``W`` in arrival order."""

    limit: int
    free: int = field(init=False)
    queue: deque[W] = field(default_factory=deque[W])

    def __post_init__(self) -> None:
        self.free = self.limit

    def take(self) -> bool:
        """Take a free slot; ``False`` if none is free (then ``enqueue`` the caller)."""
        if self.free > 0:
            self.free -= 1
            return True
        return False

    def enqueue(self, waiter: W) -> None:
        """``waiter`` waits for the next slot released (after those queued before it)."""
        self.queue.append(waiter)

    def release(self) -> W | None:
        """Give a slot back: the waiter it is handed to, or ``None`` (it is free)."""
        if self.queue:
            return self.queue.popleft()
        self.free += 1
        return None

    def withdraw(self, waiter: W) -> bool:
        """Take ``waiter`` out of the queue; ``False`` if it was not there (it was handed a slot)."""
        try:
            self.queue.remove(waiter)
        except ValueError:
            return False
        return True

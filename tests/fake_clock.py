"""A monotonic clock that moves only when a test moves it (the ``clock`` fixture installs it).

Request timeouts, run deadlines and the rate limiter read ``reverie._clock.monotonic``; the
tests that replace it with ``FakeClock`` move ``now`` themselves (a scripted server that
drips, a limiter's recorded wait), so nothing waits on a wall clock.
"""

from __future__ import annotations


class FakeClock:
    """Returns ``now`` when called; starts at 1000.0."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

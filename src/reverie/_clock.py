"""The monotonic clock that request timeouts and run deadlines are measured with.

One seam, so tests can move time without waiting (replace ``monotonic``); nothing here
sleeps or enforces anything: the run machine computes budgets, the engine checks them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

monotonic: Callable[[], float] = time.monotonic
"""Seconds from an arbitrary start; read through this module (``_clock.monotonic()``)."""


def now() -> float:
    """The current reading of ``monotonic`` (looked up at call time, so a replacement applies)."""
    return monotonic()

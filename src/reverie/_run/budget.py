"""Time budgets of a run: the seconds one model request may take and what the deadline allows.

Pure arithmetic on clock readings passed in; nothing here reads a clock, sleeps or cancels.
The run machine asks these questions; the engine enforces the request budget it is given.
"""

from __future__ import annotations


def deadline_at(started: float, deadline: float | None) -> float | None:
    """The clock reading at which a run started at ``started`` must be over (``None``: never)."""
    return None if deadline is None else started + deadline


def request_budget(timeout: float | None, ends: float | None, now: float) -> float | None:
    """Seconds the next model request may take: its ``timeout``, cut to what the deadline leaves.

    ``None`` means no bound beyond the HTTP client's own timeouts.
    """
    if ends is None:
        return timeout
    left = ends - now
    return left if timeout is None else min(timeout, left)


def passed(ends: float | None, now: float) -> bool:
    """Whether the deadline ``ends`` has come."""
    return ends is not None and now >= ends


def wait_fits(ends: float | None, now: float, seconds: float) -> bool:
    """Whether a wait of ``seconds`` ends before the deadline (a retry after it is pointless)."""
    return ends is None or now + seconds < ends

"""The budgets of a run: time (the deadline, each request's seconds) and spending (a ``Budget``).

Pure arithmetic on clock readings and on a ``Budget``'s counts passed in; nothing here reads a
clock, sleeps, cancels or changes a counter. The run machine asks these questions; the engine
enforces the request budget it is given, and ``reverie._run.spending`` keeps the counts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from reverie._run.spending import Budget, Spent

Overrun: TypeAlias = tuple[str, float, float]
"""A spending limit that was reached: its name, its value and what was spent against it."""


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


def no_room(budget: Budget, spent: Spent) -> Overrun | None:
    """Before a request: the limit that leaves no room for it; ``None``: it may be sent.

    No room: every request is taken, or an amount is already spent in full.
    """
    if budget.max_requests is not None and spent.requests >= budget.max_requests:
        return ("max_requests", budget.max_requests, spent.requests)
    for overrun in _spent_against(budget, spent):
        if overrun[2] >= overrun[1]:
            return overrun
    return None


def past_limit(budget: Budget, spent: Spent) -> Overrun | None:
    """After a step: the limit that was gone past (``None``: the run may go on)."""
    for overrun in _spent_against(budget, spent):
        if overrun[2] > overrun[1]:
            return overrun
    return None


def overrun_message(overrun: Overrun, *, before_request: bool) -> str:
    """What ``BudgetExceededError`` says: the limit, its value and what was spent."""
    limit, maximum, spent = overrun
    stated = f"budget exceeded: {limit} is {_shown(limit, maximum)}"
    if before_request:
        return f"{stated} and {_shown(limit, spent)} were spent; no further request is sent"
    return f"{stated}; {_shown(limit, spent)} were spent"


def _spent_against(budget: Budget, spent: Spent) -> list[Overrun]:
    """Each amount limit the budget sets, with what was spent against it."""
    pairs: list[tuple[str, float | None, float]] = [
        ("max_cost", budget.max_cost, spent.cost),
        ("max_input_tokens", budget.max_input_tokens, spent.input_tokens),
        ("max_output_tokens", budget.max_output_tokens, spent.output_tokens),
    ]
    return [(name, maximum, value) for name, maximum, value in pairs if maximum is not None]


def _shown(limit: str, amount: float) -> str:
    if limit == "max_cost":
        return "$" + (f"{amount:.10f}".rstrip("0").rstrip(".") or "0")
    noun = {"max_input_tokens": "input tokens", "max_output_tokens": "output tokens"}.get(limit, "requests")
    return f"{int(amount)} {noun}"

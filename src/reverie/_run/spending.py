"""``Budget``: what runs may spend (money, tokens, requests), and the counters of what they spent.

One ``Budget`` may be shared by any number of runs (a batch), in threads and tasks alike: its
counters change under a ``threading.Lock`` held only for the arithmetic, never across I/O or
an ``await``, so sync and async runs in one process can share it. A request is reserved
atomically with the check that allows it, so concurrent runs cannot overshoot
``max_requests``.

This module counts; it does not decide. The run machine (``reverie._run.machine``) asks
for each request and records each step, and decides from the counts whether the run may go
on; it raises ``BudgetExceededError``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reverie._errors import UserError

RefusalT = TypeVar("RefusalT")


@dataclass(slots=True, frozen=True)
class Spent:
    """What a budget has counted so far, over every run that uses it."""

    cost: float = 0.0
    """US dollars; counted only while the budget has a ``max_cost`` (pricing costs time)."""
    input_tokens: int = 0
    """Every input token, cached or not."""
    output_tokens: int = 0
    """Every output token, reasoning included."""
    requests: int = 0
    """Model requests sent (or about to be), retries included."""


class Budget:
    """Limits on what runs may spend; pass it as ``Agent(budget=...)`` or per call.

    One budget can be shared by many runs (sync or async, in threads or tasks): every run
    that uses it counts against the same limits. Before each model request (retries
    included) the run takes one request from ``max_requests``; a request that a limit leaves
    no room for is not sent. After each step its tokens and cost are counted (those of failed
    attempts too: they are billed); a step that goes past a limit ends the run. Either way
    the run raises ``BudgetExceededError``, whose ``result`` holds the steps so far.

    Args:
        max_cost: US dollars, counted with ``step.cost`` (reported by the provider or computed
            from price data; a step without a known price counts 0).
        max_input_tokens: Input tokens, cached ones included.
        max_output_tokens: Output tokens, reasoning included.
        max_requests: Model requests, retries included.

    Raises:
        UserError: If a limit is negative or not a number.
    """

    __slots__ = (
        "_cost",
        "_input_tokens",
        "_lock",
        "_output_tokens",
        "_requests",
        "max_cost",
        "max_input_tokens",
        "max_output_tokens",
        "max_requests",
    )

    def __init__(
        self,
        max_cost: float | None = None,
        max_input_tokens: int | None = None,
        max_output_tokens: int | None = None,
        max_requests: int | None = None,
    ) -> None:
        self.max_cost: float | None = _money_limit(max_cost)
        self.max_input_tokens: int | None = _count_limit("max_input_tokens", max_input_tokens)
        self.max_output_tokens: int | None = _count_limit("max_output_tokens", max_output_tokens)
        self.max_requests: int | None = _count_limit("max_requests", max_requests)
        self._lock = threading.Lock()
        self._cost = 0.0
        self._input_tokens = 0
        self._output_tokens = 0
        self._requests = 0

    def __repr__(self) -> str:
        limits = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("max_cost", self.max_cost),
                ("max_input_tokens", self.max_input_tokens),
                ("max_output_tokens", self.max_output_tokens),
                ("max_requests", self.max_requests),
            )
            if value is not None
        )
        return f"Budget({limits})"

    @property
    def spent(self) -> Spent:
        """What every run using this budget has spent so far (a consistent snapshot)."""
        with self._lock:
            return self._snapshot()

    def reserve_request(self, refuse: Callable[[Spent], RefusalT | None]) -> RefusalT | None:
        """Count one request unless ``refuse`` (given the counts) objects; returns its objection.

        The check and the count happen under one lock: of many runs asking at once, exactly
        as many get a request as the limits allow.
        """
        with self._lock:
            refusal = refuse(self._snapshot())
            if refusal is None:
                self._requests += 1
            return refusal

    def record(self, *, input_tokens: int, output_tokens: int, cost: float) -> Spent:
        """Count what a step (or a failed attempt) used; returns the counts after it."""
        with self._lock:
            self._input_tokens += input_tokens
            self._output_tokens += output_tokens
            self._cost += cost
            return self._snapshot()

    def _snapshot(self) -> Spent:
        return Spent(
            cost=self._cost,
            input_tokens=self._input_tokens,
            output_tokens=self._output_tokens,
            requests=self._requests,
        )


def _money_limit(value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        raise UserError(f"Budget(max_cost=...) must be a number of US dollars or None; got {value!r}")
    if math.isnan(value) or value < 0:
        raise UserError(f"Budget(max_cost=...) must not be negative; got {value!r}")
    return float(value)


def _count_limit(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        raise UserError(f"Budget({name}=...) must be an int or None; got {value!r}")
    if value < 0:
        raise UserError(f"Budget({name}=...) must not be negative; got {value!r}")
    return value

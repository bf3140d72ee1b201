"""What a run spent: its failed attempts' tokens, and what its ``Budget`` counts.

A ``Ledger`` is owned by one run. It takes a request from the budget before each attempt,
counts a step's tokens and cost when the step ends (and a failed attempt's when it fails), and
says which limit was reached; ``budget_error`` words the error that ends a run whose budget is
spent.

It does not decide what the run does about a reached limit (the machine,
``reverie._run.machine``, stops the run) and it does not compute the limits (pure arithmetic
in ``reverie._run.budget``) nor keep the shared counters (``reverie._run.spending``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reverie._content import Usage
from reverie._errors import BudgetExceededError
from reverie._log import logger
from reverie._model import LanguageModel
from reverie._results import AgentResult, StepResult
from reverie._run.budget import Overrun, no_room, overrun_message, past_limit

if TYPE_CHECKING:
    from reverie._run.spending import Budget, Spent

_NO_USAGE = Usage()


class Ledger:
    """One run's spending: the tokens of its failed attempts, and its ``Budget`` (if any)."""

    __slots__ = ("attempts_usage", "budget")

    def __init__(self, budget: Budget | None) -> None:
        self.budget = budget
        self.attempts_usage = _NO_USAGE  # frozen: shared, never changed in place
        """Tokens reported by the run's failed attempts."""

    def take_request(self) -> Overrun | None:
        """Take one request from the budget; the limit reached when it has no room for one."""
        budget = self.budget
        if budget is None:
            return None
        return budget.reserve_request(lambda spent: no_room(budget, spent))

    def count_step(self, step: StepResult) -> Overrun | None:
        """Count a finished step; the limit it went past, if any."""
        budget = self.budget
        if budget is None:
            return None
        spent = _record(budget, step.usage, step.provider, step.model_id, step, step.step_number)
        return past_limit(budget, spent)

    def count_paused(self, step: StepResult) -> None:
        """Count the step a run pauses in: spent, whether it went past a limit or not."""
        budget = self.budget
        if budget is not None:
            _record(budget, step.usage, step.provider, step.model_id, step, step.step_number)

    def count_attempt(self, usage: Usage | None, model: LanguageModel, step_number: int) -> None:
        """Count a failed attempt's usage (a later request finds out if it went past a limit)."""
        if usage is None or usage == _NO_USAGE:
            return
        self.attempts_usage = self.attempts_usage + usage
        budget = self.budget
        if budget is not None:
            _record(budget, usage, model.provider, model.model_id, None, step_number)


def budget_error(
    overrun: Overrun, *, before_request: bool, result: AgentResult[Any], step_number: int
) -> BudgetExceededError:
    """The error that ends a run whose budget is spent, at ``step_number``; ``result``: the run so far."""
    limit, maximum, spent = overrun
    message = overrun_message(overrun, before_request=before_request)
    logger.debug("step %d: %s", step_number, message)
    return BudgetExceededError(message, result=result, limit=limit, maximum=maximum, spent=spent)


def _record(
    budget: Budget,
    usage: Usage,
    provider: str,
    model_id: str,
    step: StepResult | None,
    step_number: int,
) -> Spent:
    """Count ``usage`` against the budget (its cost only when the budget limits money)."""
    from reverie._cost import computed_cost, token_counts, usage_shape  # with a budget only

    counts = token_counts(usage, usage_shape(provider, model_id))
    cost = 0.0
    if budget.max_cost is not None:  # pricing loads the price data: only when money counts
        priced = step.cost if step is not None else computed_cost(usage, provider=provider, model_id=model_id)
        if priced is None:
            logger.warning(
                "step %d: no price is known for %s:%s; the budget's max_cost counts it as 0",
                step_number,
                provider,
                model_id,
            )
        else:
            cost = priced.total
    return budget.record(input_tokens=counts.all_input, output_tokens=counts.output, cost=cost)

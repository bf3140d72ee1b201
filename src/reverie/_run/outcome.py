"""The result of a run: the ``AgentResult`` it ends with, whole, paused or cut short.

``final_result`` builds the result of a run that finished (or raises when it was to give a
typed output and did not), ``paused_result`` that of a run paused for approval, and
``partial_result`` the run so far that a ``BudgetExceededError`` carries.

It does not decide when a run ends, fire ``on_finish`` or queue the ``finish`` part: the
machine (``reverie._run.machine``) does. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reverie._content import Message, ToolCallPart, Usage
from reverie._errors import NoObjectGeneratedError
from reverie._parts import OutputPart
from reverie._results import AgentResult, StepResult
from reverie._run.config import RunConfig

if TYPE_CHECKING:
    from reverie._run.output import OutputRun


def input_messages(config: RunConfig) -> list[Message]:
    """The messages the run was given (what ``AgentResult.input_messages`` holds)."""
    given = config.input_messages
    return list(config.messages if given is None else given)


def final_result(
    config: RunConfig, steps: list[StepResult], output: OutputRun | None, attempts_usage: Usage
) -> tuple[AgentResult[Any], OutputPart | None]:
    """The result of a finished run, with the last ``output`` part to yield (if the output changed).

    Raises:
        NoObjectGeneratedError: the run was to give a typed output and ended without a valid one.
    """
    if output is None:
        return AgentResult(
            steps=steps, input_messages=input_messages(config), attempts_usage=attempts_usage
        ), None
    last = steps[-1]
    if not output.done:
        raise NoObjectGeneratedError(
            "the run ended before the model gave a valid output",
            raw_text=last.text,
            error=None,
            usage=sum((step.usage for step in steps), Usage()),
            finish_reason=last.finish_reason,
        )
    last_part: OutputPart | None = None
    if output.stream is not None:
        final = output.final_value()
        if final != output.stream.last:
            last_part = OutputPart(object=final)
    result = AgentResult(
        steps=steps,
        input_messages=input_messages(config),
        typed_output=output.value,
        has_typed_output=True,
        attempts_usage=attempts_usage,
    )
    return result, last_part


def paused_result(
    config: RunConfig,
    steps: list[StepResult],
    held: Sequence[ToolCallPart],
    output: OutputRun | None,
    attempts_usage: Usage,
) -> AgentResult[Any]:
    """The result of a run paused before the ``held`` calls; ``steps`` ends with the paused step."""
    done = output is not None and output.done
    return AgentResult(
        steps=steps,
        input_messages=input_messages(config),
        typed_output=output.value if output is not None and done else None,
        has_typed_output=done,
        attempts_usage=attempts_usage,
        status="paused",
        pending_approvals=list(held),
        output_failures=0 if output is None else output.failures,
    )


def partial_result(
    config: RunConfig, steps: Sequence[StepResult], output: OutputRun | None, attempts_usage: Usage
) -> AgentResult[Any]:
    """The run so far, for a ``BudgetExceededError`` (the typed output, if it was given)."""
    done = output is not None and output.done
    return AgentResult(
        steps=list(steps),
        input_messages=input_messages(config),
        typed_output=output.value if output is not None and done else None,
        has_typed_output=done,
        attempts_usage=attempts_usage,
    )

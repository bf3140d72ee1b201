"""Human approval of tool calls: which calls wait for a person, and what the answers become.

A tool asks for approval with a ``requires_approval`` attribute: ``True``, or a function of
the call's validated arguments that says whether this call needs it (``@tool`` sets it; any
``Tool`` may have one). The run machine holds those calls at the end of the step, runs the
step's other calls, and ends the run paused: its result (``status == "paused"``) is the whole
paused state, and is what ``Agent.resume`` takes back, with the answers (a ``Resume``).
An approved call runs; a refused one gets an error result carrying the reason; a result the
caller supplies stands in for the call.

Pure: nothing here runs a tool or calls a model. The machine (``reverie._run.machine``)
decides with these functions; the driver carries out what it decided.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reverie._content import ContentPart, Message, ToolCallPart, ToolResultPart
from reverie._errors import UserError
from reverie._record import FrozenRecord
from reverie._results import StepResult
from reverie._run.actions import PreparedToolCall, ToolJob
from reverie._run.resume import Resume
from reverie._run.tools import output_result, prepare_tool_call
from reverie._tools.protocol import Tool

REFUSED = "refused"
"""The error result a refused call gets (followed by ``: reason`` when one is given)."""


def needs_approval(prepared: PreparedToolCall) -> bool:
    """Whether a valid call must wait for a person (its tool's ``requires_approval``)."""
    rule: Any = getattr(prepared.tool, "requires_approval", False)
    if callable(rule):
        return bool(rule(prepared.arguments))
    return bool(rule)


def check_resume(resume: Resume) -> None:
    """Refuse a resume that cannot go on: not paused, or the answers do not fit its held calls.

    Raises:
        UserError: the result is not paused; a held call has no answer (the message names the
            call ids); an answer names no held call; a call has both an approval and a result;
            an approval is not ``True``, ``False`` or a string.
    """
    paused = resume.paused
    if paused.status != "paused" or not paused.steps:
        raise UserError("only a paused result (result.status == 'paused') can be resumed")
    held = [call.tool_call_id for call in paused.pending_approvals]
    approvals, supplied = resume.approvals, resume.tool_results
    unknown = sorted((set(approvals) | set(supplied)) - set(held))
    if unknown:
        raise UserError(
            f"no call with the id(s) {', '.join(unknown)} waits for approval; "
            f"the pending calls are {', '.join(held)}"
        )
    missing = [call_id for call_id in held if call_id not in approvals and call_id not in supplied]
    if missing:
        raise UserError(
            f"the paused run needs an approval (True, False or a reason) or a tool result for "
            f"every pending call; missing: {', '.join(missing)}"
        )
    both = [call_id for call_id in held if call_id in approvals and call_id in supplied]
    if both:
        raise UserError(f"give an approval or a tool result for a call, not both: {', '.join(both)}")
    for call_id, answer in approvals.items():
        if not isinstance(answer, bool | str):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise UserError(
                f"the approval of {call_id} must be True, False or a reason (a str); "
                f"got {type(answer).__name__}"
            )


@dataclass(slots=True, frozen=True, kw_only=True, repr=False, eq=False)
class PausedRun(FrozenRecord):
    """A paused result taken apart for the machine that resumes it."""

    finished: list[StepResult]
    """The steps that had finished before the pause."""
    step: StepResult
    """The paused step: the model's answer and the results given before the pause."""
    results: list[ToolResultPart]
    """The results of the step's calls answered before the pause."""
    answered: list[ToolJob]
    """The calls the step answers: those answered before the pause, then the held ones (no
    provider-executed call, no accepted output call)."""


def take_apart(resume: Resume) -> PausedRun:
    """``resume.paused`` taken apart, once ``check_resume`` accepted the answers.

    Raises:
        UserError: see ``check_resume``.
    """
    check_resume(resume)
    paused = resume.paused
    *finished, step = paused.steps
    _, results = split_paused_step(step)
    answered = {result.tool_call_id for result in results}
    answered.update(call.tool_call_id for call in paused.pending_approvals)
    jobs: list[ToolJob] = [(call, None) for call in step.tool_calls if call.tool_call_id in answered]
    return PausedRun(finished=finished, step=step, results=results, answered=jobs)


def answer_held(resume: Resume, tools: Mapping[str, Tool]) -> tuple[list[ToolResultPart], list[ToolJob]]:
    """The held calls answered: results for the refused and supplied ones, jobs for the approved ones.

    Raises:
        UserError: an approved call names a tool the agent does not have.
    """
    results: list[ToolResultPart] = []
    approved: list[ToolJob] = []
    for call in resume.paused.pending_approvals:
        result = answered_result(call, resume)
        if result is not None:
            results.append(result)
            continue
        if call.tool_name not in tools:
            offered = ", ".join(sorted(tools)) or "none"
            raise UserError(
                f"cannot run the approved call {call.tool_call_id}: the agent has no tool "
                f"{call.tool_name!r} (its tools: {offered}); resume with the agent that paused, "
                "or give the call's result in tool_results"
            )
        approved.append(prepare_tool_call(call, tools))
    return results, approved


def answered_result(call: ToolCallPart, resume: Resume) -> ToolResultPart | None:
    """The result a held call gets without running (refused, or supplied); ``None``: run it."""
    call_id = call.tool_call_id
    if call_id in resume.tool_results:
        return supplied_result(call, resume.tool_results[call_id])
    answer = resume.approvals[call_id]
    if answer is True:
        return None
    reason = answer.strip() if isinstance(answer, str) else ""
    output = f"{REFUSED}: {reason}" if reason else REFUSED
    return ToolResultPart(tool_call_id=call_id, tool_name=call.tool_name, output=output, is_error=True)


def supplied_result(call: ToolCallPart, value: Any) -> ToolResultPart:
    """The result the caller gave for ``call``: a ``ToolResultPart`` as is, else as a tool's return value."""
    if isinstance(value, ToolResultPart):
        return replace(value, tool_call_id=call.tool_call_id, tool_name=call.tool_name)
    return output_result(call, value)


def split_paused_step(step: StepResult) -> tuple[list[ContentPart], list[ToolResultPart]]:
    """A paused step's model content, and the results of the calls the run answered before pausing."""
    content: list[ContentPart] = []
    results: list[ToolResultPart] = []
    for part in step.content:
        if isinstance(part, ToolResultPart) and not part.provider_executed:
            results.append(part)
        else:
            content.append(part)
    return content, results


def resumed_step(paused: StepResult, results: Sequence[ToolResultPart]) -> StepResult:
    """The paused step finished: its model content, then every result in the order of the calls."""
    content, _ = split_paused_step(paused)
    ordered = in_call_order(results, [part for part in content if isinstance(part, ToolCallPart)])
    messages: list[Message] = [message for message in paused.messages if message.role == "assistant"]
    if ordered:
        messages.append(Message(role="tool", content=list(ordered)))
    return replace(paused, content=[*content, *ordered], messages=messages)


def in_call_order(results: Sequence[ToolResultPart], calls: Sequence[ToolCallPart]) -> list[ToolResultPart]:
    """``results`` in the order of their calls (a result of no listed call goes last)."""
    position = {call.tool_call_id: index for index, call in reversed(list(enumerate(calls)))}
    return sorted(results, key=lambda result: position.get(result.tool_call_id, len(calls)))

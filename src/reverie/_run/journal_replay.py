"""What a durable run replays from its journal, and what it must still do: pure decisions.

A run given a journal (``RunConfig.journal``) starts from what was recorded about its
``run_id`` (a ``RunRecord``). A step with a recorded answer (``recorded_answer``) is replayed:
the machine hands the answer over in its ``CallModel`` action (``recorded``) and neither takes
a request from the run's ``Budget`` nor counts the step's tokens (the run that recorded it did);
the driver feeds it (whole, or as ``replayed_parts`` for a streamed run) instead of sending the
request. Before each tool call it asks ``tool_decision``: a recorded
result is used; a call that started and never finished runs again if its tool is idempotent,
and otherwise stops the run (``InterruptedToolError``). ``start_point`` picks where a run
begins (its input, or its last pause with the answers it was resumed with), and
``plan_resume`` checks the answers ``Agent.resume(run_id, ...)`` gives.

No I/O here: the driver (``reverie._async.runner``) and ``Agent`` read and write the journal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from reverie._content import Message, ReasoningPart, TextPart, ToolCallPart, ToolResultPart
from reverie._errors import UserError
from reverie._journal.protocol import RunRecord
from reverie._model import Response
from reverie._parts import (
    FinishPart,
    ModelStreamPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningStartPart,
    StreamStartPart,
    TextDeltaPart,
    TextEndPart,
    TextStartPart,
)
from reverie._results import AgentResult, StepResult
from reverie._run.approval import supplied_result
from reverie._run.resume import Answer, Resume
from reverie._run.step import response_of

ToolDecision = Literal["run", "replay", "interrupted"]
"""``run``: run the call (and record it); ``replay``: use its recorded result; ``interrupted``:
it started once, never finished, and its tool is not idempotent."""


def recorded_answer(record: RunRecord | None, step_number: int) -> Response | None:
    """The model's recorded answer of step ``step_number`` (``None``: ask the model)."""
    return None if record is None else record.responses.get(step_number)


def answer_to_record(answer: StepResult) -> Response:
    """What the model answered in a step (``Run.answer()``), as the response the journal keeps."""
    return response_of(answer)


def replayed_parts(response: Response) -> list[ModelStreamPart]:
    """A recorded answer as the stream parts a streamed run yields.

    Each text and reasoning block comes whole, in one delta; then the calls and the rest in
    order, and the finish part.
    """
    parts: list[ModelStreamPart] = []
    if response.warnings:
        parts.append(StreamStartPart(warnings=list(response.warnings)))
    for index, part in enumerate(response.content):
        block = f"replay-{index}"
        if isinstance(part, TextPart):
            parts.append(TextStartPart(id=block, provider_metadata=part.provider_metadata))
            parts.append(TextDeltaPart(id=block, delta=part.text))
            parts.append(TextEndPart(id=block))
        elif isinstance(part, ReasoningPart):
            parts.append(ReasoningStartPart(id=block, provider_metadata=part.provider_metadata))
            parts.append(ReasoningDeltaPart(id=block, delta=part.text))
            parts.append(ReasoningEndPart(id=block))
        else:
            parts.append(part)
    parts.append(
        FinishPart(
            finish_reason=response.finish_reason,
            usage=response.usage,
            provider_metadata=response.provider_metadata,
            response_id=response.response_id,
            model_id=response.model_id,
        )
    )
    return parts


def tool_decision(
    record: RunRecord | None, step_number: int, call: ToolCallPart, *, idempotent: bool
) -> tuple[ToolDecision, ToolResultPart | None]:
    """What to do with a valid call of step ``step_number``, and its recorded result to use."""
    if record is None:
        return "run", None
    key = (step_number, call.tool_call_id)
    result = record.tool_results.get(key)
    if result is not None:
        return "replay", result
    if key in record.started and not idempotent:
        return "interrupted", None
    return "run", None


def interrupted_calls(record: RunRecord) -> list[tuple[int, ToolCallPart]]:
    """The calls that started and have no result, with their step numbers, in the order they started."""
    return [(key[0], call) for key, call in record.started.items() if key not in record.tool_results]


def start_point(record: RunRecord | None) -> Resume | None:
    """Where a run with this record begins: its last pause, resumed with the recorded answers.

    ``None``: from its input (a pause not answered yet is reached again by replaying).
    """
    if record is None or record.paused is None or record.approvals is None:
        return None
    return Resume(paused=record.paused, approvals=dict(record.approvals), tool_results=dict(record.supplied))


def check_input(record: RunRecord, run_id: str, messages: Sequence[Message]) -> None:
    """Refuse to go on with a run whose input differs from the recorded one.

    Raises:
        UserError: the messages (system prompt, messages and prompt) are not those the run
            ``run_id`` started with.
    """
    if _documents(record.messages) != _documents(messages):
        raise UserError(
            f"run {run_id!r} was started with other messages (prompt, messages or system prompt): "
            "a run id names one run; run it again with the same agent and prompt, or use a new id"
        )


def _documents(messages: Sequence[Message]) -> str:
    from reverie._serialisation import to_json

    return to_json(list(messages))


def records_end(record: RunRecord | None, result: AgentResult[Any]) -> bool:
    """Whether a run's end (a pause or the final result) is new to the journal."""
    if record is None:
        return True
    if result.status == "paused":
        # Replaying reaches the pause that waits for answers again: it is recorded already.
        return not (record.paused is not None and record.approvals is None)
    return record.result is None


@dataclass(slots=True, kw_only=True)
class ResumePlan:
    """What ``Agent.resume(run_id, ...)`` records before the run goes on."""

    results: list[tuple[int, ToolResultPart]] = field(default_factory=list[tuple[int, ToolResultPart]])
    """Results the caller gave for interrupted calls, with their step numbers."""
    answers: tuple[dict[str, Answer], dict[str, ToolResultPart]] | None = None
    """The answers to the pause that waits for them (``None``: the run is not paused)."""


def plan_resume(
    record: RunRecord, approvals: Mapping[str, Answer], tool_results: Mapping[str, Any]
) -> ResumePlan:
    """Check the answers given to a recorded run, and what to record of them.

    A result given for an interrupted call is that call's result. Otherwise, a run paused for
    approval takes the answers as ``Agent.resume`` takes them for a paused result.

    Raises:
        UserError: an answer names no interrupted or held call, or the paused run's answers do
            not fit its held calls (see ``reverie._run.approval.check_resume``).
    """
    plan = ResumePlan()
    interrupted = {call.tool_call_id: (step, call) for step, call in interrupted_calls(record)}
    remaining = dict(tool_results)
    for call_id in list(remaining):
        if call_id in interrupted:
            step, call = interrupted[call_id]
            plan.results.append((step, supplied_result(call, remaining.pop(call_id))))
    waiting = record.paused is not None and record.approvals is None
    if waiting and (approvals or remaining):
        from reverie._run.approval import check_resume

        assert record.paused is not None
        held = {call.tool_call_id: call for call in record.paused.pending_approvals}
        # An id of no held call stays as given: ``check_resume`` names it.
        supplied: dict[str, Any] = {
            call_id: supplied_result(held[call_id], value) if call_id in held else value
            for call_id, value in remaining.items()
        }
        check_resume(Resume(paused=record.paused, approvals=dict(approvals), tool_results=supplied))
        plan.answers = (dict(approvals), supplied)
    elif approvals or remaining:
        unknown = sorted({*approvals, *remaining})
        open_ids = sorted(interrupted)
        raise UserError(
            f"run {record.run_id!r} has no interrupted or held call with the id(s) {', '.join(unknown)}"
            + (f"; its interrupted calls are {', '.join(open_ids)}" if open_ids else "")
        )
    return plan

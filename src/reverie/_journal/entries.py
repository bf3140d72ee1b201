"""A journal's entries as JSON text, and a run's entries folded into its ``RunRecord``.

Each entry is a kind (``input``, ``response``, ``tool_started``, ``tool_result``, ``pause``,
``answers``, ``finish``) and one JSON object whose messages, parts and results are the
versioned documents of ``reverie.to_json`` (``format_version`` included), so that a journal
written by one version of reverie reads in the next. Any store can use these to implement the
``Journal`` protocol; this module does no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypeAlias, cast

from reverie import _json
from reverie._content import ContentPart, Message, ToolCallPart, ToolResultPart
from reverie._errors import JournalError, UserError
from reverie._journal.protocol import RunRecord
from reverie._model import Response
from reverie._parts import FinishPart
from reverie._results import AgentResult
from reverie._serialisation import from_document, to_document

EntryKind: TypeAlias = Literal[
    "input", "response", "tool_started", "tool_result", "pause", "answers", "finish"
]
ENTRY_KINDS: tuple[EntryKind, ...] = (
    "input",
    "response",
    "tool_started",
    "tool_result",
    "pause",
    "answers",
    "finish",
)


def input_entry(messages: Sequence[Message], input_messages: Sequence[Message]) -> str:
    """The ``input`` entry of a new run."""
    return _json.dumps(
        {"messages": to_document(list(messages)), "input_messages": to_document(list(input_messages))}
    )


def response_entry(step_number: int, response: Response) -> str:
    """A step's ``response`` entry: its content, and a finish part with the rest."""
    finish = FinishPart(
        finish_reason=response.finish_reason,
        usage=response.usage,
        provider_metadata=response.provider_metadata,
        response_id=response.response_id,
        model_id=response.model_id,
    )
    return _json.dumps(
        {"step": step_number, "content": to_document(list(response.content)), "finish": to_document(finish)}
    )


def tool_started_entry(step_number: int, call: ToolCallPart) -> str:
    """The ``tool_started`` entry of a call about to run."""
    return _json.dumps({"step": step_number, "call": to_document(call)})


def tool_result_entry(step_number: int, result: ToolResultPart) -> str:
    """The ``tool_result`` entry of a call's result."""
    return _json.dumps({"step": step_number, "result": to_document(result)})


def result_entry(result: AgentResult[Any]) -> str:
    """The ``pause`` or ``finish`` entry: the result, whole."""
    return _json.dumps({"result": to_document(result)})


def answers_entry(approvals: Mapping[str, bool | str], tool_results: Mapping[str, ToolResultPart]) -> str:
    """The ``answers`` entry a paused run is resumed with."""
    return _json.dumps(
        {
            "approvals": dict(approvals),
            "tool_results": {call_id: to_document(result) for call_id, result in tool_results.items()},
        }
    )


def fold(run_id: str, entries: Iterable[tuple[str, str]]) -> RunRecord | None:
    """The record of a run from its ``(kind, data)`` entries in order (``None``: no entries).

    Raises:
        UserError: an entry is not one this version reads, or the first is not ``input``.
        JournalError: an entry is not JSON (a damaged file).
    """
    record: RunRecord | None = None
    count = 0
    for kind, data in entries:
        count += 1
        try:
            value = cast(dict[str, Any], _json.loads(data))
        except _json.UnreadableJSONError as error:
            # Entries are numbered from 0 in the order they were recorded (their ``seq``).
            raise JournalError(
                f"entry {count - 1} ({kind}) of run {run_id!r} in the journal is not JSON: {error}"
            ) from error
        if record is None:
            if kind != "input":
                raise UserError(f"the journal of run {run_id!r} does not start with its input")
            record = RunRecord(
                run_id=run_id,
                messages=from_document(value["messages"], list[Message]),
                input_messages=from_document(value["input_messages"], list[Message]),
            )
            continue
        if kind == "response":
            content: list[ContentPart] = from_document(value["content"], list[ContentPart])
            finish: FinishPart = from_document(value["finish"], FinishPart)
            record.responses[int(value["step"])] = Response(
                content=content,
                finish_reason=finish.finish_reason,
                usage=finish.usage,
                provider_metadata=finish.provider_metadata,
                response_id=finish.response_id,
                model_id=finish.model_id,
            )
        elif kind == "tool_started":
            call: ToolCallPart = from_document(value["call"], ToolCallPart)
            record.started[int(value["step"]), call.tool_call_id] = call
        elif kind == "tool_result":
            result: ToolResultPart = from_document(value["result"], ToolResultPart)
            record.tool_results[int(value["step"]), result.tool_call_id] = result
        elif kind == "pause":
            record.paused = from_document(value["result"], AgentResult)
            record.approvals = None
            record.supplied = {}
        elif kind == "answers":
            record.approvals = dict(value["approvals"])
            record.supplied = {
                call_id: from_document(document, ToolResultPart)
                for call_id, document in value["tool_results"].items()
            }
        elif kind == "finish":
            record.result = from_document(value["result"], AgentResult)
        else:
            raise UserError(f"the journal of run {run_id!r} holds an entry of unknown kind {kind!r}")
    if record is not None:
        record.entries = count
    return record

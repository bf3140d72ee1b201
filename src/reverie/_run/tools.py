"""The run's tool decisions: validation, grouping into batches, and results.

Calls are validated once, grouped for execution, and what a tool returned or raised is
turned into the result the model reads. Arguments that are almost JSON (trailing commas,
single quotes, unquoted keys, a cut string, Python ``True``/``None``) are repaired with the
``json-repair`` library before they are judged invalid, as fantasy repairs them by default,
unless the agent has its own ``repair_tool_call`` hook, which then gets the invalid call.

Pure: the driver runs the tools; this module only decides.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from reverie import _json
from reverie._content import FilePart, ToolCallPart, ToolResultPart
from reverie._run.actions import PreparedToolCall, ToolJob
from reverie._run.config import RepairToolCall
from reverie._tools.protocol import Tool, ToolInputError


def prepare_tool_call(
    call: ToolCallPart, tools: Mapping[str, Tool]
) -> tuple[ToolCallPart, PreparedToolCall | None]:
    """Check ``call`` against the tools; an invalid call comes back marked with its error."""
    found = tools.get(call.tool_name)
    if found is None:
        available = ", ".join(sorted(tools)) or "none"
        return _copy_call(call, error=f"unknown tool {call.tool_name!r}; available tools: {available}"), None
    try:
        arguments = found.validate(call.input)
    except ToolInputError as error:
        return _copy_call(call, error=str(error)), None
    if call.invalid:
        call = _copy_call(call, error=None)
    return call, PreparedToolCall(call=call, tool=found, arguments=arguments)


def check_tool_call(call: ToolCallPart, tools: Mapping[str, Tool], repair: RepairToolCall | None) -> ToolJob:
    """Validate a call, giving the repair hook (or, without one, JSON repair) one chance to fix it."""
    checked, prepared = prepare_tool_call(call, tools)
    if not checked.invalid:
        return checked, prepared
    if repair is not None:
        repaired = repair(checked, checked.error or "")
        if repaired is not None:
            checked, prepared = prepare_tool_call(repaired, tools)
        return checked, prepared
    if call.tool_name not in tools:
        return checked, prepared  # an unknown tool: no JSON to repair
    fixed_input = repair_json_arguments(call.input)
    if fixed_input is None:
        return checked, prepared
    fixed, fixed_prepared = prepare_tool_call(_with_input(call, fixed_input), tools)
    # Still invalid after repair: the model reads the error about what it actually sent.
    return (checked, prepared) if fixed.invalid else (fixed, fixed_prepared)


def repair_json_arguments(text: str) -> str | None:
    """``text`` made into valid JSON by ``json-repair``, or ``None`` when it is valid or beyond repair.

    An input that repairs to nothing (prose, an empty string) is beyond repair: it must not
    turn into an empty argument object that a tool without parameters would accept.
    """
    import json_repair

    try:
        _json.loads(text)
    except ValueError:
        pass
    else:
        return None  # valid JSON: what failed is validation, which repair cannot fix
    try:
        repaired = json_repair.repair_json(text, skip_json_loads=True)
    except RecursionError:  # the repairer recurses per nesting level
        return None
    if repaired.strip() in ("", '""'):
        return None
    return repaired


def tool_batches(jobs: Sequence[ToolJob]) -> tuple[tuple[ToolJob, ...], ...]:
    """Consecutive parallel calls form one concurrent batch; every other call runs alone, in order."""
    return tuple(_batches(jobs))


def _batches(jobs: Sequence[ToolJob]) -> Iterator[tuple[ToolJob, ...]]:
    batch: list[ToolJob] = []
    for job in jobs:
        prepared = job[1]
        if prepared is not None and prepared.tool.parallel:
            batch.append(job)
            continue
        if batch:
            yield tuple(batch)
            batch = []
        yield (job,)
    if batch:
        yield tuple(batch)


def invalid_result(call: ToolCallPart) -> ToolResultPart:
    """The result the model reads for a call that could not be run."""
    return _result(call, call.error or "invalid tool call", is_error=True)


def error_result(call: ToolCallPart, error: BaseException) -> ToolResultPart:
    """A tool raised: the model reads the error and the run goes on (fantasy)."""
    return _result(call, describe_tool_error(error), is_error=True)


def output_result(call: ToolCallPart, value: object) -> ToolResultPart:
    """What a tool returned, encoded for the model; a value that cannot be encoded is an error result.

    A ``FilePart`` (a screenshot, a PDF) becomes the result's ``media``, with no text. A
    ``ToolResultPart`` (a tool that sends text with a file, or an error without raising, as
    MCP tools do) gives its ``output``, ``media`` and ``is_error``; the id and name are the call's.
    """
    if isinstance(value, ToolResultPart):
        return ToolResultPart(
            tool_call_id=call.tool_call_id,
            tool_name=call.tool_name,
            output=value.output,
            is_error=value.is_error,
            media=value.media,
        )
    if isinstance(value, FilePart):
        return ToolResultPart(
            tool_call_id=call.tool_call_id, tool_name=call.tool_name, output="", media=value
        )
    try:
        output = encode_tool_output(value)
    except Exception as error:  # pydantic_core raises its own serialization errors
        detail = f"tool {call.tool_name!r} returned a {type(value).__name__} that cannot be sent as JSON"
        return _result(call, f"{detail}: {error}", is_error=True)
    return _result(call, output, is_error=False)


def encode_tool_output(value: object) -> str:
    """A ``str`` is sent as is; anything else as JSON."""
    if isinstance(value, str):
        return value
    import pydantic_core
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return pydantic_core.to_json(value).decode()


def describe_tool_error(error: BaseException) -> str:
    """The text the model receives when a tool raises."""
    detail = str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _result(call: ToolCallPart, output: str, *, is_error: bool) -> ToolResultPart:
    return ToolResultPart(
        tool_call_id=call.tool_call_id, tool_name=call.tool_name, output=output, is_error=is_error
    )


def _with_input(call: ToolCallPart, input_json: str) -> ToolCallPart:
    return ToolCallPart(
        tool_call_id=call.tool_call_id,
        tool_name=call.tool_name,
        input=input_json,
        invalid=call.invalid,
        error=call.error,
        provider_executed=call.provider_executed,
        provider_metadata=call.provider_metadata,
        provider_options=call.provider_options,
    )


def _copy_call(call: ToolCallPart, *, error: str | None) -> ToolCallPart:
    return ToolCallPart(
        tool_call_id=call.tool_call_id,
        tool_name=call.tool_name,
        input=call.input,
        invalid=error is not None,
        error=error,
        provider_executed=call.provider_executed,
        provider_metadata=call.provider_metadata,
        provider_options=call.provider_options,
    )

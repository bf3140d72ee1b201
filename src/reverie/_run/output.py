"""Typed agent output: how the run asks for it, checks it, and streams it as it grows.

``Agent(output_type=...)`` turns into an ``OutputSpec``. Per step the machine resolves the
mode for the step's model (``resolve_mode``) and shapes the call (``shape_call``):

- ``tool``: an extra tool named after the schema (``OutputTool``) whose input is the output;
  with ``tool_choice="required"`` the model must call a tool, its own or this one. This is
  how output and tools share a run on every provider.
- ``json``: the provider's native JSON-schema output (``Call.response_format``); the step
  that calls no tool carries the output in its text.
- ``text``: the schema goes into a system message and the final text is parsed.
- ``auto``: ``json`` where the model has native JSON output and the run has no tools of its
  own, else ``tool``.

Invalid output (not JSON, or not fitting the schema) is sent back to the model as an error it
can act on, up to ``OutputSpec.retries`` times, then ``NoObjectGeneratedError``. Pure: the
machine (``reverie._run.machine``) calls these; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, TypeAlias, cast

from reverie._content import FinishReason, Message, ToolCallPart, ToolResultPart, Usage
from reverie._errors import NoObjectGeneratedError, UserError
from reverie._model import Call, ToolDefinition
from reverie._objects.partial import NOTHING, PartialObjectParser
from reverie._objects.plan import native_mode, supports_json_output
from reverie._objects.plan import shape_call as shape_object_call
from reverie._objects.schema import ObjectSchema
from reverie._run.actions import ToolJob
from reverie._tools.protocol import Tool, ToolInputError

OutputMode: TypeAlias = Literal["auto", "json", "tool", "text"]
"""How an agent asks for typed output; see the module docstring."""
OUTPUT_MODES: tuple[OutputMode, ...] = ("auto", "json", "tool", "text")
ACCEPTED = "Final result accepted."
WRAPPER_KEY = "response"
"""A tool's input must be an object: other outputs (``list[str]``) are wrapped as ``{"response": ...}``."""
"""The result the output tool's call gets in the conversation (every call needs one)."""


@dataclass(slots=True, frozen=True)
class OutputSpec:
    """The typed output a run must end with."""

    schema: ObjectSchema
    mode: OutputMode
    retries: int
    """How many invalid outputs are sent back for another try before the run fails."""


def parse_output(schema: ObjectSchema, raw_text: str) -> Any:
    """Parse and validate ``raw_text`` into the output (the object core's rules).

    Raises:
        ToolInputError: empty, not JSON, or a value that does not fit the schema (the message says
            which, in words a model can act on).
    """
    try:
        return schema.parse(raw_text, usage=Usage(), finish_reason="unknown", what="output")
    except NoObjectGeneratedError as error:
        raise ToolInputError(str(error).removeprefix("no object generated: ")) from None


def wraps(schema: ObjectSchema) -> bool:
    """Whether the output tool wraps the output (its schema is not an object's)."""
    return schema.json_schema.get("type") != "object"


class OutputTool:
    """The tool whose input is the run's output (``mode="tool"``); the run never executes it."""

    __slots__ = ("schema", "wrapped")

    parallel = False

    def __init__(self, schema: ObjectSchema) -> None:
        self.schema = schema
        self.wrapped = wraps(schema)

    @property
    def name(self) -> str:
        """The schema's name."""
        return self.schema.name

    def definition(self) -> ToolDefinition:
        """The tool as the model sees it: the output schema as its input."""
        description = self.schema.description or "Give the final answer with this tool."
        parameters = self.schema.json_schema
        if self.wrapped:
            parameters = {
                "type": "object",
                "properties": {WRAPPER_KEY: parameters},
                "required": [WRAPPER_KEY],
            }
        return ToolDefinition(name=self.name, description=description, parameters=parameters)

    def validate(self, input_json: str) -> Any:
        """The output, validated (raises ``ToolInputError`` with what is wrong)."""
        if not self.wrapped:
            return parse_output(self.schema, input_json)
        import pydantic_core

        try:
            data = pydantic_core.from_json(input_json.strip() or "{}")
        except ValueError as error:
            raise ToolInputError(f"the output is not valid JSON ({error})") from None
        if not isinstance(data, dict) or WRAPPER_KEY not in data:
            raise ToolInputError(f'the input must be an object with the output in its "{WRAPPER_KEY}" field')
        try:
            return self.schema.validate(data[WRAPPER_KEY])
        except ValueError as error:  # pydantic's ValidationError and SchemaValidationError
            raise ToolInputError(f"the output does not match the schema: {error}") from None

    def call(self, arguments: Any) -> Any:
        """Never run: the machine takes the validated input as the output."""
        raise UserError(f"the output tool {self.name!r} is not run")

    async def call_async(self, arguments: Any) -> Any:
        """Never run: the machine takes the validated input as the output."""
        raise UserError(f"the output tool {self.name!r} is not run")


def resolve_mode(spec: OutputSpec, model: object, *, has_tools: bool) -> Literal["json", "tool", "text"]:
    """The mode one step uses with ``model``.

    Raises:
        UserError: ``mode="json"`` with a model that has no native JSON output.
    """
    if spec.mode == "json" and not supports_json_output(model):
        provider = getattr(model, "provider", type(model).__name__)
        raise UserError(f"{provider}: no native JSON-schema output; use output_mode='tool', 'text' or 'auto'")
    if spec.mode != "auto":
        return spec.mode
    return "json" if native_mode(model) == "json" and not has_tools else "tool"


def shape_call(call: Call, spec: OutputSpec, mode: Literal["json", "tool", "text"]) -> Call:
    """``call`` asking for the output the way ``mode`` says.

    JSON and text modes ask as ``generate_object`` does; in tool mode the output tool joins the
    step's own tools and the model must call one of them.
    """
    if mode != "tool":
        return shape_object_call(call, spec.schema, mode)
    tools = [*call.tools, OutputTool(spec.schema).definition()]
    return replace(call, tools=tools, tool_choice=call.tool_choice or "required")


def retry_message(error: str, mode: Literal["json", "tool", "text"], schema: ObjectSchema) -> str:
    """What the model reads after invalid output (as a user message or the output call's error)."""
    if mode == "tool":
        return f"Invalid output: {error}. Call the {schema.name} tool again with a corrected value."
    return f"Invalid output: {error}. Reply again with only the corrected JSON value."


class OutputStream:
    """Partial output while a step streams: the output call's input, or the text (json/text modes)."""

    __slots__ = ("_call_id", "_mode", "_name", "_parser", "_wrapped")

    def __init__(self, mode: Literal["json", "tool", "text"], name: str, *, wrapped: bool = False) -> None:
        self._mode = mode
        self._name = name
        self._wrapped = wrapped
        self._parser = PartialObjectParser()
        self._call_id: str | None = None

    def tool_input_started(self, call_id: str, tool_name: str) -> None:
        """A tool call's input begins; follow it when it is the output tool's."""
        if self._mode == "tool" and tool_name == self._name and self._call_id is None:
            self._call_id = call_id

    def tool_input(self, call_id: str, delta: str) -> Any:
        """A piece of a tool call's input; the new partial output, or ``NOTHING``."""
        if call_id != self._call_id:
            return NOTHING
        value = self._parser.feed(delta)
        if self._wrapped and value is not NOTHING:
            return (
                cast(dict[str, Any], value).get(WRAPPER_KEY, NOTHING) if isinstance(value, dict) else NOTHING
            )
        return value

    def text(self, delta: str) -> Any:
        """A piece of text; the new partial output (json/text modes), or ``NOTHING``."""
        if self._mode == "tool":
            return NOTHING
        return self._parser.feed(delta)

    @property
    def last(self) -> Any:
        """The last partial output reported (``NOTHING`` before the first)."""
        return self._parser.value


class OutputRun:
    """One run's typed-output state: the mode of the step, the output once valid, failures so far."""

    __slots__ = ("accepted", "failures", "feedback", "mode", "spec", "stream", "streaming", "value")

    def __init__(self, spec: OutputSpec, *, streaming: bool) -> None:
        self.spec = spec
        self.streaming = streaming
        self.mode: Literal["json", "tool", "text"] = "tool"
        self.value: Any = NOTHING
        """The validated output, once a step delivered it."""
        self.failures = 0
        self.stream: OutputStream | None = None
        self.accepted: list[ToolResultPart] = []
        """Results for the output tool's valid calls (the conversation needs one per call)."""
        self.feedback: Message | None = None
        """The message telling the model what was wrong with its output, for the next step."""

    @property
    def done(self) -> bool:
        """Whether valid output has arrived."""
        return self.value is not NOTHING

    def plan(self, call: Call, model: object, tools: Mapping[str, Tool]) -> tuple[Call, Mapping[str, Tool]]:
        """Shape a step's call for the output; the output tool joins the step's tools in tool mode."""
        self.mode = resolve_mode(self.spec, model, has_tools=bool(tools))
        call = shape_call(call, self.spec, self.mode)
        if self.mode != "tool":
            return call, tools
        name = self.spec.schema.name
        if name in tools:
            raise UserError(f"the output schema's name {name!r} is also a tool's name; rename one of them")
        return call, {**tools, name: OutputTool(self.spec.schema)}

    def start_attempt(self) -> None:
        """A model call (or its retry) begins: partial output starts afresh."""
        schema = self.spec.schema
        self.stream = (
            OutputStream(self.mode, schema.name, wrapped=self.mode == "tool" and wraps(schema))
            if self.streaming
            else None
        )
        self.accepted = []
        self.feedback = None

    def judge(
        self, jobs: Sequence[ToolJob], text: str, *, usage: Usage, finish_reason: FinishReason
    ) -> list[ToolJob]:
        """Decide on the step's output; return the calls the run still has to execute.

        Raises:
            NoObjectGeneratedError: the output was invalid once more than ``retries`` allows.
        """
        if self.mode == "tool":
            return self._judge_tool_calls(jobs, text, usage=usage, finish_reason=finish_reason)
        if jobs:
            return list(jobs)  # a tool step: the output comes with the step that calls none
        try:
            self.value = parse_output(self.spec.schema, text)
        except ToolInputError as error:
            self._fail(str(error), text, usage=usage, finish_reason=finish_reason)
            self.feedback = Message.user(retry_message(str(error), self.mode, self.spec.schema))
        return []

    def _judge_tool_calls(
        self, jobs: Sequence[ToolJob], text: str, *, usage: Usage, finish_reason: FinishReason
    ) -> list[ToolJob]:
        name = self.spec.schema.name
        remaining: list[ToolJob] = []
        invalid: ToolCallPart | None = None
        for call, prepared in jobs:
            if call.tool_name != name:
                remaining.append((call, prepared))
            elif prepared is None:
                invalid = invalid or call
                remaining.append((call, prepared))  # its error result goes back to the model
            elif not self.done:
                self.value = prepared.arguments
                self.accepted.append(_accepted(call))
            else:
                self.accepted.append(_accepted(call))
        if self.done:
            return remaining
        if invalid is not None:
            error = invalid.error or "invalid output"
            self._fail(error, invalid.input, usage=usage, finish_reason=finish_reason)
        elif not remaining:
            error = f"the model answered without calling the {name} tool"
            self._fail(error, text, usage=usage, finish_reason=finish_reason)
            self.feedback = Message.user(retry_message(error, self.mode, self.spec.schema))
        return remaining

    def _fail(self, error: str, raw_text: str, *, usage: Usage, finish_reason: FinishReason) -> None:
        self.failures += 1
        if self.failures > self.spec.retries:
            raise NoObjectGeneratedError(
                f"no valid output after {self.failures} attempts: {error}",
                raw_text=raw_text,
                error=None,
                usage=usage,
                finish_reason=finish_reason,
            )

    def final_value(self) -> Any:
        """The valid output as plain JSON, for the last output part of a stream."""
        import pydantic_core

        return pydantic_core.to_jsonable_python(self.value)


def _accepted(call: ToolCallPart) -> ToolResultPart:
    return ToolResultPart(tool_call_id=call.tool_call_id, tool_name=call.tool_name, output=ACCEPTED)

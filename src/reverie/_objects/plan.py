"""One object request: the ``Call`` it becomes and how the reply turns into an ``ObjectResult``.

Modes (what fantasy's ``object`` package offers):

- ``json``: the provider's native JSON-schema output (``Call.response_format``); the reply
  text is the object.
- ``tool``: one tool named after the schema, forced with ``tool_choice``; the call's input
  is the object. Works through every codec's ordinary tool encoding.
- ``text``: the schema goes into a system message and the reply text is parsed (a
  Markdown fence around it is tolerated).
- ``auto``: what the model declares in ``object_mode`` (``"json"`` or ``"tool"``, read
  from fantasy v0.41.2's recordings per provider); a model that declares nothing gets ``tool``.

``json`` needs a model whose ``supports_json_output`` is true (by default, one whose
``object_mode`` is ``"json"``).

Pure: the drivers in ``reverie._async.objects`` send the call and feed the answer back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

from reverie._content import CallWarning, FinishReason, Message, TextPart, ToolCallPart, Usage
from reverie._errors import UserError
from reverie._model import Call, Response, ResponseFormat, ToolDefinition
from reverie._objects.partial import NOTHING, PartialObjectParser
from reverie._objects.results import ObjectPart, ObjectResult, ObjectStreamPart
from reverie._objects.schema import ObjectSchema
from reverie._parts import FinishPart, ModelStreamPart, TextDeltaPart
from reverie._provider_names import check_provider_options

ObjectMode: TypeAlias = Literal["auto", "json", "tool", "text"]
"""How the object is asked for; see the module docstring."""
_MODES = ("auto", "json", "tool", "text")


def native_mode(model: object) -> Literal["json", "tool"]:
    """What ``mode="auto"`` means for ``model``: its ``object_mode`` attribute, else ``"tool"``."""
    declared = getattr(model, "object_mode", "tool")
    return "json" if declared == "json" else "tool"


def supports_json_output(model: object) -> bool:
    """Whether ``model`` has native JSON-schema output (``mode="json"``)."""
    return bool(getattr(model, "supports_json_output", native_mode(model) == "json"))


@dataclass(slots=True, kw_only=True)
class ObjectPlan:
    """A resolved object request: the call to send and how to read what comes back."""

    schema: ObjectSchema
    mode: Literal["json", "tool", "text"]
    call: Call

    @classmethod
    def build(
        cls,
        model: object,
        prompt: str | Sequence[Message],
        *,
        schema: Any,
        schema_name: str | None = None,
        schema_description: str | None = None,
        mode: ObjectMode = "auto",
        **settings: Any,
    ) -> ObjectPlan:
        """Resolve ``mode`` for ``model`` and build the call (``settings`` are ``Call`` fields).

        Raises:
            UserError: an unknown mode, ``"json"`` on a model without native JSON output, or a
                ``provider_options`` key naming no known provider.
        """
        if mode not in _MODES:
            raise UserError(f"mode must be one of {', '.join(_MODES)}; got {mode!r}")
        native = native_mode(model)
        if mode == "json" and not supports_json_output(model):
            provider = getattr(model, "provider", type(model).__name__)
            raise UserError(
                f"{provider}: no native JSON-schema output; use mode='tool' or mode='text' (or 'auto')"
            )
        resolved: Literal["json", "tool", "text"] = native if mode == "auto" else mode
        object_schema = ObjectSchema.build(schema, name=schema_name, description=schema_description)
        messages = [Message.user(prompt)] if isinstance(prompt, str) else list(prompt)
        call = Call(prompt=messages, **{key: value for key, value in settings.items() if value is not None})
        check_provider_options(call.provider_options, in_use=getattr(model, "provider", None))
        return cls(schema=object_schema, mode=resolved, call=shape_call(call, object_schema, resolved))

    def read_response(self, response: Response) -> ObjectResult[Any]:
        """The object in a whole response.

        Raises:
            NoObjectGeneratedError: no object, invalid JSON, or a value that does not fit the schema.
        """
        raw = self._raw_text(response.content)
        value = self.validate(raw, usage=response.usage, finish_reason=response.finish_reason)
        return ObjectResult(
            object=value,
            raw_text=raw,
            usage=response.usage,
            finish_reason=response.finish_reason,
            warnings=list(response.warnings),
            provider_metadata=response.provider_metadata,
            response_id=response.response_id,
            model_id=response.model_id,
        )

    def validate(self, raw_text: str, *, usage: Usage, finish_reason: FinishReason) -> Any:
        """Parse and validate ``raw_text`` into the object, or raise ``NoObjectGeneratedError``."""
        return self.schema.parse(raw_text, usage=usage, finish_reason=finish_reason, what=self._what)

    def stream_fold(self) -> ObjectStreamFold:
        """A fresh fold for one streamed reply."""
        return ObjectStreamFold(self)

    @property
    def _what(self) -> str:
        return f"input of tool {self.schema.name!r}" if self.mode == "tool" else "reply text"

    def _raw_text(self, content: Sequence[Any]) -> str:
        if self.mode == "tool":
            calls = [part for part in content if isinstance(part, ToolCallPart)]
            named = [part for part in calls if part.tool_name == self.schema.name]
            return (named or calls)[0].input if calls else ""
        return "".join(part.text for part in content if isinstance(part, TextPart))


@dataclass(slots=True)
class ObjectStreamFold:
    """Folds a model stream into object stream parts and, at the finish, the result."""

    plan: ObjectPlan
    parser: PartialObjectParser = field(default_factory=PartialObjectParser)
    warnings: list[CallWarning] = field(default_factory=list[CallWarning])
    result: ObjectResult[Any] | None = None
    _tool_input_id: str | None = None
    _tool_call_input: str | None = None

    def feed(self, part: ModelStreamPart) -> list[ObjectStreamPart]:
        """The object stream parts ``part`` yields (raises ``NoObjectGeneratedError`` at a bad finish)."""
        if part.type == "stream_start":
            self.warnings.extend(part.warnings)
            return []
        if part.type == "finish":
            return self._finish(part)
        delta = self._object_delta(part)
        if not delta:
            return []
        out: list[ObjectStreamPart] = [TextDeltaPart(id=self.plan.schema.name, delta=delta)]
        value = self.parser.feed(delta)
        if value is not NOTHING:
            out.append(ObjectPart(object=value))
        return out

    def _object_delta(self, part: ModelStreamPart) -> str:
        """The fragment of the object's JSON text in ``part`` ("" for any other part)."""
        if self.plan.mode != "tool":
            return part.delta if part.type == "text_delta" else ""
        if part.type == "tool_input_start" and self._tool_input_id is None:
            if part.tool_name == self.plan.schema.name:
                self._tool_input_id = part.id
        elif part.type == "tool_input_delta" and part.id == self._tool_input_id:
            return part.delta
        elif part.type == "tool_call" and part.tool_name == self.plan.schema.name:
            if self._tool_call_input is None:
                self._tool_call_input = part.input
            # Some providers send the call whole, without input deltas: it is then the whole text.
            if not self.parser.text:
                return part.input
        return ""

    def _finish(self, part: FinishPart) -> list[ObjectStreamPart]:
        out: list[ObjectStreamPart] = []
        value = self.parser.finish()
        if value is not NOTHING:
            out.append(ObjectPart(object=value))
        raw = self.parser.text
        if self.plan.mode == "tool" and self._tool_call_input is not None:
            raw = self._tool_call_input  # the decoder's assembled input is authoritative
        validated = self.plan.validate(raw, usage=part.usage, finish_reason=part.finish_reason)
        self.result = ObjectResult(
            object=validated,
            raw_text=raw,
            usage=part.usage,
            finish_reason=part.finish_reason,
            warnings=list(self.warnings),
            provider_metadata=part.provider_metadata,
            response_id=part.response_id,
            model_id=part.model_id,
        )
        out.append(part)
        return out


def shape_call(call: Call, schema: ObjectSchema, mode: Literal["json", "tool", "text"]) -> Call:
    """``call`` asking for an object of ``schema`` the way ``mode`` says (tool: the only tool, forced)."""
    if mode == "json":
        response_format = ResponseFormat(
            schema=schema.json_schema, name=schema.name, description=schema.description
        )
        return replace(call, response_format=response_format)
    if mode == "tool":
        tool = ToolDefinition(
            name=schema.name, description=schema.description or "", parameters=schema.json_schema
        )
        return replace(call, tools=[tool], tool_choice=schema.name)
    instruction = text_mode_instruction(schema)
    return replace(call, prompt=[Message.system(instruction), *call.prompt])


def text_mode_instruction(schema: ObjectSchema) -> str:
    """The system message of ``mode="text"``: the schema and how to answer."""
    lines = [f"Respond with a JSON value named {schema.name!r} that matches this JSON schema:"]
    if schema.description:
        lines.insert(1, schema.description)
    lines.append(json.dumps(schema.json_schema, separators=(",", ":")))
    lines.append("Reply with the JSON value only: no other text and no Markdown.")
    return "\n".join(lines)

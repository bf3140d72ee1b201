"""Messages as the JSON of ``gen_ai.input.messages`` and ``gen_ai.output.messages``.

The GenAI semantic conventions' shape: a list of ``{"role", "parts"}`` objects (output
messages add ``finish_reason``) whose parts are ``text``, ``reasoning``, ``tool_call``
(``id``, ``name``, ``arguments``), ``tool_call_response`` (``id``, ``response``) and
``blob`` (``mime_type``, ``modality``, base64 ``content``); a cited source is a generic
``source`` part. Used only when content capture is on; this module decides nothing else.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from reverie import _json
from reverie._content import (
    ContentPart,
    FilePart,
    FinishReason,
    Message,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from reverie._otel.attributes import finish_reason


def input_messages(messages: Sequence[Message]) -> str:
    """The JSON of ``gen_ai.input.messages``."""
    return _dumps([{"role": message.role, "parts": parts(message.content)} for message in messages])


def output_messages(content: Sequence[ContentPart], reason: FinishReason) -> str:
    """The JSON of ``gen_ai.output.messages``: one assistant message with its finish reason."""
    return _dumps([{"role": "assistant", "parts": parts(content), "finish_reason": finish_reason(reason)}])


def parts(content: Sequence[ContentPart]) -> list[dict[str, Any]]:
    """Each content part in the conventions' part shape."""
    return [_part(part) for part in content]


def _part(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "content": part.text}
    if isinstance(part, ReasoningPart):
        return {"type": "reasoning", "content": part.text}
    if isinstance(part, ToolCallPart):
        return {
            "type": "tool_call",
            "id": part.tool_call_id,
            "name": part.tool_name,
            "arguments": _arguments(part),
        }
    if isinstance(part, ToolResultPart):
        return {"type": "tool_call_response", "id": part.tool_call_id, "response": part.output}
    if isinstance(part, FilePart):
        return {
            "type": "blob",
            "mime_type": part.media_type,
            # The media type's top-level type: the conventions' image, video or audio, else
            # application or text (a PDF, a plain-text file).
            "modality": part.media_type.partition("/")[0],
            "content": base64.b64encode(part.data).decode("ascii"),
        }
    assert isinstance(part, SourcePart)
    source: dict[str, Any] = {"type": "source", "id": part.id, "source_type": part.source_type}
    if part.url is not None:
        source["url"] = part.url
    if part.title is not None:
        source["title"] = part.title
    return source


def _arguments(call: ToolCallPart) -> Any:
    """The parsed arguments, or the model's text as it is when it is not JSON."""
    try:
        return _json.loads(call.input)
    except ValueError:
        return call.input


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

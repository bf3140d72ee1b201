"""Chat-completions request bodies, shared by ``openai``, ``openaicompat``, ``openrouter`` and ``vercel``.

Request bodies reproduce fantasy's byte-for-byte-recorded ones as JSON values: only the
fields that carry information, no ``null``s, ``stream_options`` only when streaming.
This module builds the body every variant shares; a variant's own fields (its options,
OpenRouter's usage accounting) are added afterwards by the codec's ``prepare_body`` hook.
It does not read responses.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, cast

from reverie._codec import function_tools, tool_result_text
from reverie._content import (
    CallWarning,
    ContentPart,
    FilePart,
    Message,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from reverie._errors import UserError
from reverie._model import Call, ResponseFormat, ToolDefinition
from reverie._wire_cache import WireCache, each_message, each_tool
from reverie.providers._openai_chat.cache import mark

AssistantFields = Callable[[list[ContentPart]], dict[str, Any]]
"""A variant's extra fields for an assistant message, from its content parts."""
ReasoningWarning = Callable[[list[ContentPart]], CallWarning | None]
"""A variant's warning for the reasoning of an assistant message it does not send back."""

# Sampling settings that OpenAI reasoning models reject; fantasy and the Vercel AI SDK
# drop them with a warning instead of letting the request fail.
_USER_PARTS = (TextPart, FilePart, ToolResultPart)
"""What a user message may carry (a tuple made once: ``A | B`` in ``isinstance`` builds a union
on every call, for every user message encoded)."""
_REASONING_MODEL_UNSUPPORTED = ("temperature", "top_p", "presence_penalty", "frequency_penalty")


def is_reasoning_model(model_id: str) -> bool:
    """Whether an OpenAI model id names a reasoning model (fantasy v0.41.2's list).

    The o1, o3 and o4 families and gpt-5 (but not gpt-5-chat, a chat model) take
    ``max_completion_tokens`` and reject sampling settings. Nothing else does, even when
    its id starts with "o" (``openhermes``, ``omni-moderation``).
    """
    if model_id.startswith(("o1", "o3", "o4")):
        return True
    return model_id.startswith("gpt-5") and not model_id.startswith("gpt-5-chat")


def is_openai_reasoning_model(model_id: str) -> bool:
    """Whether a gateway's ``openai/<id>`` names an OpenAI reasoning model (OpenRouter, Vercel)."""
    vendor, slash, name = model_id.partition("/")
    return bool(slash) and vendor == "openai" and is_reasoning_model(name)


def request_body(
    call: Call,
    *,
    model_id: str,
    provider: str,
    reasoning_model: bool,
    supports_top_k: bool,
    stream: bool,
    warnings: list[CallWarning],
    assistant_fields: AssistantFields | None = None,
    reasoning_warning: ReasoningWarning | None = None,
    cache_markers: bool = False,
) -> dict[str, Any]:
    """The body every chat-completions variant sends for ``call``.

    Args:
        call: The model call.
        model_id: The ``model`` field.
        provider: The provider's name, for warnings.
        reasoning_model: Whether to send ``max_completion_tokens`` and drop sampling settings.
        supports_top_k: Whether ``top_k`` is sent (otherwise it becomes a warning).
        stream: Whether the request streams.
        warnings: Unsupported settings are appended here.
        assistant_fields: The variant's extra fields of an assistant message (its reasoning).
        reasoning_warning: The variant's warning for reasoning it drops from an assistant message.
        cache_markers: Whether Anthropic cache markers are placed (see ``cache``).
    """
    messages = encode_messages(
        call.prompt,
        assistant_fields,
        reasoning_warning=reasoning_warning,
        cache_markers=cache_markers,
        provider=provider,
        warnings=warnings,
        cache=call.wire_cache,
    )
    body: dict[str, Any] = {"model": model_id, "messages": messages}
    if call.max_output_tokens is not None:
        body["max_completion_tokens" if reasoning_model else "max_tokens"] = call.max_output_tokens
    settings: dict[str, Any] = {
        "temperature": call.temperature,
        "top_p": call.top_p,
        "presence_penalty": call.presence_penalty,
        "frequency_penalty": call.frequency_penalty,
        "seed": call.seed,
        "stop": call.stop_sequences,
    }
    for key, value in settings.items():
        if value is None:
            continue
        if reasoning_model and key in _REASONING_MODEL_UNSUPPORTED:
            warnings.append(CallWarning(setting=key, message=f"{key} is not supported by reasoning models"))
            continue
        body[key] = value
    if call.top_k is not None:
        if supports_top_k:
            body["top_k"] = call.top_k
        else:
            warnings.append(CallWarning(setting="top_k", message=f"top_k is not supported by {provider}"))
    if call.tools:
        body["tools"] = encode_tools(
            function_tools(call, provider), cache_markers=cache_markers, cache=call.wire_cache
        )
        body["tool_choice"] = encode_tool_choice(call.tool_choice or "auto")
    elif call.tool_choice is not None and call.tool_choice != "auto":
        warnings.append(CallWarning(setting="tool_choice", message="tool_choice without tools is ignored"))
    if call.response_format is not None:
        body["response_format"] = encode_response_format(call.response_format)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def encode_response_format(response_format: ResponseFormat) -> dict[str, Any]:
    """Native JSON output: ``{"type": "json_schema", "json_schema": {name, strict, description, schema}}``.

    As fantasy does, the schema is sent strict, with ``additionalProperties: false`` added to
    every object (OpenAI's strict mode rejects schemas without it).
    """
    json_schema: dict[str, Any] = {
        "name": response_format.name,
        "strict": True,
        "schema": strict_schema(response_format.schema),
    }
    if response_format.description:
        json_schema["description"] = response_format.description
    return {"type": "json_schema", "json_schema": json_schema}


def strict_schema(schema: Any) -> Any:
    """``schema`` with ``additionalProperties: false`` on every object schema that does not set it."""
    if isinstance(schema, list):
        return [strict_schema(item) for item in cast(list[Any], schema)]
    if not isinstance(schema, dict):
        return schema
    node = cast(dict[str, Any], schema)
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            result[key] = {name: strict_schema(sub) for name, sub in cast(dict[str, Any], value).items()}
        elif key in ("items", "anyOf", "allOf", "oneOf", "not", "additionalProperties", "prefixItems"):
            result[key] = strict_schema(value)
        else:
            result[key] = value
    if node.get("type") == "object" and "additionalProperties" not in node:
        result["additionalProperties"] = False
    return result


def encode_tools(
    tools: Sequence[ToolDefinition], *, cache_markers: bool = False, cache: WireCache | None = None
) -> list[dict[str, Any]]:
    """The ``tools`` array: every tool a non-strict function (marked for caching if asked).

    With ``cache`` (a run's), a tool encoded for an earlier request is reused.
    """

    def encode(tool: ToolDefinition, warnings: list[CallWarning]) -> dict[str, Any]:
        return _encode_tool(tool, cache_markers)

    return each_tool(cache, (_encode_tool, cache_markers), tools, encode, [])


def _encode_tool(tool: ToolDefinition, cache_markers: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
            "strict": False,
        },
    }
    if cache_markers:
        mark(entry, tool.provider_options)
    return entry


def encode_tool_choice(choice: str) -> Any:
    """``auto``/``none``/``required`` as is; a tool name as a function choice."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def encode_messages(
    messages: Sequence[Message],
    assistant_fields: AssistantFields | None = None,
    *,
    reasoning_warning: ReasoningWarning | None = None,
    cache_markers: bool = False,
    provider: str = "the chat-completions API",
    warnings: list[CallWarning] | None = None,
    cache: WireCache | None = None,
) -> list[dict[str, Any]]:
    """The ``messages`` array: plain-string content wherever the recordings have it.

    With ``cache_markers``, Anthropic ``cache_control`` markers are placed (see ``cache``).
    Tool messages carry text only: a tool result's file becomes a placeholder, with a warning
    in ``warnings`` naming ``provider``; so does the reasoning of an assistant message that
    ``reasoning_warning`` finds dropped. With ``cache`` (a run's), a message encoded for an
    earlier request is reused: each message's entries depend on it alone.
    """
    warnings = [] if warnings is None else warnings

    def encode(message: Message, produced: list[CallWarning]) -> list[dict[str, Any]]:
        return _encode_message(
            message, assistant_fields, reasoning_warning, cache_markers, provider, produced
        )

    namespace = (_encode_message, assistant_fields, reasoning_warning, cache_markers, provider)
    encoded: list[dict[str, Any]] = []
    for entries in each_message(cache, namespace, messages, encode, warnings):
        encoded.extend(entries)
    return encoded


def _encode_message(
    message: Message,
    assistant_fields: AssistantFields | None,
    reasoning_warning: ReasoningWarning | None,
    cache_markers: bool,
    provider: str,
    warnings: list[CallWarning],
) -> list[dict[str, Any]]:
    """The entries of one message: a user message's tool results follow it as ``tool`` entries."""
    if message.role == "system":
        system: dict[str, Any] = {"role": "system", "content": message.text}
        if cache_markers:
            mark(system, message.provider_options)
        return [system]
    if message.role == "user":
        user: dict[str, Any] = {
            "role": "user",
            "content": _encode_user_content(message.content, cache_markers),
        }
        if cache_markers:
            mark(user, message.provider_options)
        return [user, *_encode_tool_results(message.content, provider, warnings)]
    if message.role == "assistant":
        assistant = _encode_assistant(message, cache_markers)
        if assistant_fields is not None:
            assistant.update(assistant_fields(message.content))
        if reasoning_warning is not None:
            warning = reasoning_warning(message.content)
            if warning is not None:
                warnings.append(warning)
        return [assistant]
    return _encode_tool_results(message.content, provider, warnings)


def _encode_user_content(parts: list[ContentPart], cache_markers: bool) -> str | list[dict[str, Any]]:
    for part in parts:
        if not isinstance(part, _USER_PARTS):
            raise UserError(
                f"a user message cannot carry a {part.type} part on the chat-completions API; "
                "send text and files (or tool results)"
            )
    texts = [part for part in parts if isinstance(part, TextPart)]
    files = [part for part in parts if isinstance(part, FilePart)]
    if not files and len(texts) == 1:
        return texts[0].text
    encoded: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            block: dict[str, Any] = {"type": "text", "text": part.text}
        elif isinstance(part, FilePart):
            block = _encode_file(part)
        else:
            continue
        if cache_markers:
            mark(block, part.provider_options)
        encoded.append(block)
    return encoded


def _encode_file(part: FilePart) -> dict[str, Any]:
    data = base64.b64encode(part.data).decode("ascii")
    if part.media_type.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": f"data:{part.media_type};base64,{data}"}}
    file: dict[str, Any] = {"file_data": f"data:{part.media_type};base64,{data}"}
    if part.filename:
        file["filename"] = part.filename
    return {"type": "file", "file": file}


def _encode_assistant(assistant: Message, cache_markers: bool) -> dict[str, Any]:
    parts = assistant.content
    # Reasoning goes back only through the variant's ``assistant_fields``. Whitespace-only
    # text is sent verbatim (glm-4.5's "\n\n" is echoed), while "" leaves the content key out.
    # With several text parts the last one is the content, as fantasy sends it: a streamed
    # step whose text a tool call split (avian's kimi) is echoed with its last piece only.
    # An empty part (Gemini's signed "" after its text, in a history moved here) is no text.
    texts = [part.text for part in parts if isinstance(part, TextPart) and part.text]
    text = texts[-1] if texts else ""
    calls: list[dict[str, Any]] = [
        {
            "id": part.tool_call_id,
            "type": "function",
            "function": {"name": part.tool_name, "arguments": part.input},
        }
        for part in parts
        if isinstance(part, ToolCallPart) and not part.provider_executed
    ]
    message: dict[str, Any] = {"role": "assistant"}
    if text or not calls:
        message["content"] = text
    if calls:
        message["tool_calls"] = calls
    if cache_markers:
        _mark_assistant(message, assistant)
    return message


def _mark_assistant(message: dict[str, Any], assistant: Message) -> None:
    # The recorded requests carry a marked assistant message's marker on its last tool call.
    calls = [
        part for part in assistant.content if isinstance(part, ToolCallPart) and not part.provider_executed
    ]
    encoded_calls: list[dict[str, Any]] = message.get("tool_calls", [])
    for part, encoded in zip(calls, encoded_calls, strict=True):
        mark(encoded, part.provider_options)
    if encoded_calls:
        mark(encoded_calls[-1], assistant.provider_options)
    else:
        mark(message, assistant.provider_options)


def _encode_tool_results(
    parts: list[ContentPart], provider: str, warnings: list[CallWarning]
) -> list[dict[str, Any]]:
    return [
        {
            "role": "tool",
            "tool_call_id": part.tool_call_id,
            "content": tool_result_text(part, provider, warnings),
        }
        for part in parts
        if isinstance(part, ToolResultPart)
    ]

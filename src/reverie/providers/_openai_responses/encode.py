"""Responses API request bodies (``POST {base_url}/responses``).

Bodies reproduce fantasy v0.41.2's recorded ones as JSON values: the system prompt is an
``input`` message of role ``developer`` for reasoning models and ``system`` otherwise,
user text is ``input_text`` parts, tools are flat function definitions, and a previous
step's tool calls and results are ``function_call`` / ``function_call_output`` items.
``store`` is always sent (``False`` unless the options say otherwise).

Reasoning items are not sent back: with ``store: false`` their ids name nothing on
OpenAI's side, and the recordings (with and without ``reasoning.encrypted_content``)
show follow-up requests without them. Reasoning any other provider produced is dropped
too, with a warning. Provider-executed calls (built-in tools) are not
sent back either, for the same reason. This module reads no responses.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reverie._codec import (
    dump_options,
    has_options,
    provider_options,
    reasoning_drop_warning,
    tool_result_text,
)
from reverie._content import (
    CallWarning,
    ContentPart,
    FilePart,
    Message,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from reverie._errors import UserError
from reverie._model import Call, ProviderTool, ResponseFormat, ToolDefinition
from reverie._wire_cache import WireCache, each_message, each_tool
from reverie.providers._openai_chat.encode import is_reasoning_model, strict_schema
from reverie.providers._openai_responses.tools import PROVIDER, encode_tool

if TYPE_CHECKING:
    from reverie.providers._openai_responses.options import ResponsesOptions

# Settings the Responses API has no field for, or that reasoning models reject.
_UNSUPPORTED = ("top_k", "presence_penalty", "frequency_penalty", "seed", "stop_sequences")
_REASONING_MODEL_UNSUPPORTED = ("temperature", "top_p")


def request_body(
    call: Call, *, model_id: str, options_key: str, stream: bool, warnings: list[CallWarning]
) -> dict[str, Any]:
    """The Responses API body for ``call``.

    Args:
        call: The model call.
        model_id: The ``model`` field (an Azure deployment name on Azure).
        options_key: The ``provider_options`` key holding ``ResponsesOptions`` (``openai``).
        stream: Whether the request streams.
        warnings: Unsupported settings are appended here.
    """
    options = read_options(call, options_key)
    reasoning_model = is_reasoning_model(model_id)
    body: dict[str, Any] = {
        "model": model_id,
        "input": encode_input(
            call.prompt, reasoning_model=reasoning_model, warnings=warnings, cache=call.wire_cache
        ),
    }
    if call.max_output_tokens is not None:
        body["max_output_tokens"] = call.max_output_tokens
    _add_sampling(body, call, reasoning_model=reasoning_model, warnings=warnings)
    if call.tools:
        body["tools"] = encode_tools(call.tools, cache=call.wire_cache)
        body["tool_choice"] = encode_tool_choice(call.tool_choice or "auto")
    elif call.tool_choice is not None and call.tool_choice != "auto":
        warnings.append(CallWarning(setting="tool_choice", message="tool_choice without tools is ignored"))
    _add_options(body, options, call.response_format)
    if stream:
        body["stream"] = True
    return body


def read_options(call: Call, key: str) -> ResponsesOptions | None:
    """The call's ``ResponsesOptions``, or ``None`` when it has none (the defaults apply).

    The options module (and pydantic with it) is imported only when there are options.
    """
    if not has_options(call, key):
        return None
    from reverie.providers._openai_responses.options import ResponsesOptions

    return provider_options(call, key, ResponsesOptions)


def _add_sampling(
    body: dict[str, Any], call: Call, *, reasoning_model: bool, warnings: list[CallWarning]
) -> None:
    for key, value in (("temperature", call.temperature), ("top_p", call.top_p)):
        if value is None:
            continue
        if reasoning_model and key in _REASONING_MODEL_UNSUPPORTED:
            warnings.append(CallWarning(setting=key, message=f"{key} is not supported by reasoning models"))
        else:
            body[key] = value
    for key in _UNSUPPORTED:
        if getattr(call, key) is not None:
            warnings.append(CallWarning(setting=key, message=f"{key} is not supported by the Responses API"))


def _add_options(
    body: dict[str, Any], options: ResponsesOptions | None, response_format: ResponseFormat | None
) -> None:
    fields = dump_options(options) if options is not None else {}
    effort = fields.pop("reasoning_effort", None)
    summary = fields.pop("reasoning_summary", None)
    verbosity = fields.pop("text_verbosity", None)
    strict = fields.pop("strict_json_schema", None)
    body.update(fields)
    # Nothing is kept on OpenAI's side unless asked (ResponsesOptions.store defaults to False).
    body["store"] = options.store if options is not None else False
    reasoning = {key: value for key, value in (("effort", effort), ("summary", summary)) if value is not None}
    if reasoning:
        body["reasoning"] = reasoning
    text: dict[str, Any] = {}
    if response_format is not None:
        text["format"] = encode_text_format(response_format, strict=strict)
    if verbosity is not None:
        text["verbosity"] = verbosity
    if text:
        body["text"] = text


def encode_text_format(response_format: ResponseFormat, *, strict: bool | None = None) -> dict[str, Any]:
    """Structured output as ``text.format``: ``{"type": "json_schema", "name", "schema"}``.

    As in the recordings, the schema gets ``additionalProperties: false`` on every object
    and no description is sent; ``strict`` only when the options set ``strict_json_schema``.
    """
    encoded: dict[str, Any] = {
        "type": "json_schema",
        "name": response_format.name,
        "schema": strict_schema(response_format.schema),
    }
    if strict is not None:
        encoded["strict"] = strict
    return encoded


def encode_tools(
    tools: Sequence[ToolDefinition | ProviderTool], *, cache: WireCache | None = None
) -> list[dict[str, Any]]:
    """The ``tools`` array: flat, non-strict functions and OpenAI's built-in tools.

    With ``cache`` (a run's), a tool encoded for an earlier request is reused.
    """
    return each_tool(cache, encode_tool, tools, _encode_tool_entry, [])


def _encode_tool_entry(tool: ToolDefinition | ProviderTool, warnings: list[CallWarning]) -> dict[str, Any]:
    return encode_tool(tool)


def encode_tool_choice(choice: str) -> Any:
    """``auto``/``none``/``required`` as is; a tool name as a function choice."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "name": choice}


def encode_input(
    messages: Sequence[Message],
    *,
    reasoning_model: bool,
    warnings: list[CallWarning],
    cache: WireCache | None = None,
) -> list[dict[str, Any]]:
    """The ``input`` array: one message or item per part, in conversation order.

    A tool result's file (``media``) cannot go in a ``function_call_output``: the model reads
    a placeholder and ``warnings`` says so. Each message's items depend on it alone (and on
    ``reasoning_model``): with ``cache`` (a run's) they are reused from an earlier request.
    """

    def encode(message: Message, produced: list[CallWarning]) -> list[dict[str, Any]]:
        return _message_items(message, reasoning_model, produced)

    items: list[dict[str, Any]] = []
    for message_items in each_message(cache, (_message_items, reasoning_model), messages, encode, warnings):
        items.extend(message_items)
    return items


def _message_items(
    message: Message, reasoning_model: bool, warnings: list[CallWarning]
) -> list[dict[str, Any]]:
    if message.role == "system":
        return [{"role": "developer" if reasoning_model else "system", "content": message.text}]
    if message.role == "user":
        content = _user_content(message.content)
        user = [{"role": "user", "content": content}] if content else []
        return [*user, *_tool_results(message.content, warnings)]
    if message.role == "assistant":
        # The API's own reasoning items (metadata under "openai") go unsent by design.
        dropped = reasoning_drop_warning(message.content, reader="the Responses API", own=(PROVIDER,))
        if dropped is not None:
            warnings.append(dropped)
        return _assistant_items(message.content, warnings)
    return _tool_results(message.content, warnings)


def _user_content(parts: list[ContentPart]) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            content.append({"type": "input_text", "text": part.text})
        elif isinstance(part, FilePart):
            content.append(_encode_file(part))
        elif not isinstance(part, ToolResultPart):
            raise UserError(
                f"a user message cannot carry a {part.type} part on the Responses API; "
                "send text and files (or tool results)"
            )
    return content


def _encode_file(part: FilePart) -> dict[str, Any]:
    data = base64.b64encode(part.data).decode("ascii")
    url = f"data:{part.media_type};base64,{data}"
    if part.media_type.startswith("image/"):
        return {"type": "input_image", "image_url": url}
    return {"type": "input_file", "filename": part.filename or "file", "file_data": url}


def _assistant_items(parts: list[ContentPart], warnings: list[CallWarning]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            if part.text:
                items.append({"role": "assistant", "content": part.text})
        elif isinstance(part, ToolCallPart):
            if not part.provider_executed:
                items.append(
                    {
                        "type": "function_call",
                        "call_id": part.tool_call_id,
                        "name": part.tool_name,
                        "arguments": part.input,
                    }
                )
        elif isinstance(part, ToolResultPart):
            if not part.provider_executed:
                items.append(_tool_result(part, warnings))
        elif not isinstance(part, ReasoningPart | SourcePart | FilePart):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"an assistant message cannot carry a {part.type} part on the Responses API")
    return items


def _tool_results(parts: list[ContentPart], warnings: list[CallWarning]) -> list[dict[str, Any]]:
    return [_tool_result(part, warnings) for part in parts if isinstance(part, ToolResultPart)]


def _tool_result(part: ToolResultPart, warnings: list[CallWarning]) -> dict[str, Any]:
    output = tool_result_text(part, PROVIDER, warnings)
    return {"type": "function_call_output", "call_id": part.tool_call_id, "output": output}

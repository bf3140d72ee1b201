"""Anthropic Messages API request bodies (``POST {base_url}/messages``).

Request bodies reproduce fantasy's recorded ones as JSON values: ``system`` as an array of
text blocks, user content as arrays of blocks, ``tool_choice`` with
``disable_parallel_tool_use`` whenever tools are sent, ``stream`` only when streaming,
no ``null``s. Consecutive user and tool messages share one ``user`` turn, as the API
requires alternating roles.

Reasoning goes back only as Anthropic understands it: a reasoning part carrying
``provider_metadata["anthropic"]["signature"]`` becomes a ``thinking`` block, one carrying
``["redacted_data"]`` a ``redacted_thinking`` block; reasoning from any other provider is
dropped with a warning. A user, tool or system turn holding a part the API has no place for
(reasoning, a call, a source; a file in the system prompt; a file of another media type than
images, PDF and plain text) is a ``UserError`` naming it. This module does not read responses.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reverie._codec import dump_options, has_options, json_object_or_empty, provider_options, validate_options
from reverie._content import (
    CallWarning,
    ContentPart,
    FilePart,
    Message,
    ProviderMetadata,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from reverie._errors import UserError
from reverie._model import Call, ProviderTool, ToolDefinition
from reverie._wire_cache import WireCache, each_tool
from reverie.providers._turns import encode_turns
from reverie.providers.anthropic.server_tools import encode_server_call, encode_server_result
from reverie.providers.anthropic.tools import BETAS, encode_provider_tool, tool_type
from reverie.providers.anthropic.wire import PROVIDER

if TYPE_CHECKING:
    from reverie.providers.anthropic._options import Options

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` is mandatory in the Messages API; fantasy sends 4096 when none is given."""

# tool_use ids must match ^[a-zA-Z0-9_-]+$; ids minted by other providers
# ("functions.add:0" from kimi-k2) are mapped onto that alphabet.
_INVALID_ID_CHARACTERS = re.compile(r"[^a-zA-Z0-9_-]")


def request_body(call: Call, *, model_id: str, stream: bool, warnings: list[CallWarning]) -> dict[str, Any]:
    """The ``/messages`` body for ``call``; unsupported settings are appended to ``warnings``."""
    options = read_options(call)
    if options is not None and options.cache_control is not None:
        warnings.append(
            CallWarning(
                setting="cache_control",
                message="cache_control marks messages, parts and tools: set it in their provider_options",
            )
        )
    system, messages = encode_prompt(call.prompt, options, warnings, cache=call.wire_cache)
    max_tokens = DEFAULT_MAX_TOKENS if call.max_output_tokens is None else call.max_output_tokens
    body: dict[str, Any] = {"model": model_id}
    if system:
        body["system"] = system
    body["messages"] = messages
    sampling: dict[str, Any] = {"temperature": call.temperature, "top_p": call.top_p, "top_k": call.top_k}
    thinking = options.thinking if options is not None else None
    if thinking is not None:
        budget = thinking.budget_tokens
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        # Recorded (v0.41.2): without max_output_tokens, max_tokens stays 4096 (a 4000
        # budget fits in it); an explicit max_output_tokens is for the answer, so the
        # budget comes on top. The API wants max_tokens above the budget, so a budget the
        # default cannot hold also comes on top rather than making a request that fails.
        if call.max_output_tokens is not None or budget >= DEFAULT_MAX_TOKENS:
            max_tokens += budget
        for key in [key for key, value in sampling.items() if value is not None]:
            warnings.append(
                CallWarning(setting=key, message=f"{key} is not supported when thinking is enabled")
            )
            sampling[key] = None
    body["max_tokens"] = max_tokens
    body.update({key: value for key, value in sampling.items() if value is not None})
    if call.stop_sequences:
        body["stop_sequences"] = call.stop_sequences
    for key in ("presence_penalty", "frequency_penalty", "seed"):
        if getattr(call, key) is not None:
            warnings.append(CallWarning(setting=key, message=f"{key} is not supported by anthropic"))
    if call.tools:
        body["tools"] = each_tool(call.wire_cache, _encode_tool, call.tools, _encode_tool_entry, warnings)
        one_at_a_time = options.disable_parallel_tool_use if options is not None else None
        # Recorded: a request with a beta tool (computer use) has no tool_choice unless one is asked for.
        if not betas(call) or call.tool_choice is not None or one_at_a_time is not None:
            body["tool_choice"] = _encode_tool_choice(call.tool_choice, bool(one_at_a_time))
    elif call.tool_choice is not None and call.tool_choice != "auto":
        warnings.append(CallWarning(setting="tool_choice", message="tool_choice without tools is ignored"))
    if stream:
        body["stream"] = True
    return body


def read_options(call: Call) -> Options | None:
    """The call's ``anthropic`` options, or ``None`` when it has none.

    The options module (and pydantic with it) is imported only when there are options: a
    call without them reads the defaults where they are used.
    """
    if not has_options(call, PROVIDER):
        return None
    from reverie.providers.anthropic._options import Options

    return provider_options(call, PROVIDER, Options)


def betas(call: Call) -> list[str]:
    """The ``anthropic-beta`` flags the call's tools need (computer use), in order, once each."""
    flags: list[str] = []
    for tool in call.tools:
        if isinstance(tool, ProviderTool):
            flag = BETAS.get(tool_type(tool))
            if flag is not None and flag not in flags:
                flags.append(flag)
    return flags


def encode_prompt(
    prompt: Sequence[Message],
    options: Options | None,
    warnings: list[CallWarning],
    *,
    cache: WireCache | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``system`` blocks and the ``messages`` turns of a conversation (``None``: default options).

    Each message's blocks depend on it alone (and on ``send_reasoning``): with ``cache`` (a
    run's) they are reused from an earlier request, and only the merging into turns is redone.
    """
    send_reasoning = options is None or options.send_reasoning is not False
    return encode_turns(prompt, _encode_message, send_reasoning, "content", warnings, cache)


def _encode_message(
    message: Message, send_reasoning: bool, warnings: list[CallWarning]
) -> tuple[str, list[dict[str, Any]]]:
    """The role a message's blocks go under (``system`` for the system prompt) and its blocks."""
    if message.role == "system":
        return "system", _mark_last(_encode_system_parts(message.content), message.provider_options)
    if message.role == "assistant":
        blocks = _encode_assistant_parts(message.content, send_reasoning, warnings)
        return "assistant", _mark_last(blocks, message.provider_options)
    # Tool results travel in a user turn:
    # {"role": "user", "content": [{"type": "tool_result", ...}, ...]}.
    return "user", _mark_last(_encode_user_parts(message.content), message.provider_options)


def _cache_control(options: ProviderMetadata | Mapping[str, Any]) -> dict[str, Any] | None:
    raw = options.get(PROVIDER)
    if raw is None:
        return None
    from reverie.providers.anthropic._options import Options

    parsed = validate_options(raw, Options, f"provider_options[{PROVIDER!r}] on a message, part or tool")
    return dump_options(parsed.cache_control) if parsed.cache_control is not None else None


def _with_cache(block: dict[str, Any], options: ProviderMetadata) -> dict[str, Any]:
    marker = _cache_control(options)
    if marker is not None:
        block["cache_control"] = marker
    return block


def _mark_last(blocks: list[dict[str, Any]], options: ProviderMetadata) -> list[dict[str, Any]]:
    # A cache marker on a message applies to its last block: caching covers the prefix
    # up to and including the marked block.
    if blocks:
        _with_cache(blocks[-1], options)
    return blocks


def _encode_tool_entry(tool: ToolDefinition | ProviderTool, warnings: list[CallWarning]) -> dict[str, Any]:
    return _encode_tool(tool)


def _encode_tool(tool: ToolDefinition | ProviderTool) -> dict[str, Any]:
    if isinstance(tool, ProviderTool):
        return encode_provider_tool(tool)
    entry: dict[str, Any] = {"name": tool.name, "input_schema": tool.parameters}
    if tool.description:
        entry["description"] = tool.description
    return _with_cache(entry, tool.provider_options)


def _encode_tool_choice(choice: str | None, disable_parallel: bool) -> dict[str, Any]:
    # Recorded: {"type": "auto", "disable_parallel_tool_use": false} whenever tools are sent.
    if choice == "none":
        return {"type": "none"}
    if choice is None or choice == "auto":
        encoded: dict[str, Any] = {"type": "auto"}
    elif choice == "required":
        encoded = {"type": "any"}
    else:
        encoded = {"type": "tool", "name": choice}
    encoded["disable_parallel_tool_use"] = disable_parallel
    return encoded


def tool_use_id(call_id: str) -> str:
    """``call_id`` on the ``tool_use`` id alphabet (other providers' ids may not fit it)."""
    return _INVALID_ID_CHARACTERS.sub("_", call_id) or "toolu"


def _encode_system_parts(parts: Sequence[ContentPart]) -> list[dict[str, Any]]:
    # The system prompt is text blocks only; anything else would be lost or rejected.
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, TextPart):
            raise UserError(f"a system message cannot carry a {part.type} part on anthropic; send text only")
        if part.text:
            blocks.append(_with_cache({"type": "text", "text": part.text}, part.provider_options))
    return blocks


def _encode_user_parts(parts: Sequence[ContentPart]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if not isinstance(part, TextPart | FilePart | ToolResultPart):
            # Reasoning, calls and sources are the model's output: a user turn has no place for them.
            raise UserError(
                f"a user message cannot carry a {part.type} part on anthropic; "
                "send text and files (or tool results)"
            )
        if isinstance(part, TextPart):
            if part.text:
                blocks.append(_with_cache({"type": "text", "text": part.text}, part.provider_options))
        elif isinstance(part, FilePart):
            blocks.append(_with_cache(_encode_file(part), part.provider_options))
        else:
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": tool_use_id(part.tool_call_id),
                "content": _tool_result_content(part),
            }
            if part.is_error:
                block["is_error"] = True
            blocks.append(_with_cache(block, part.provider_options))
    return blocks


def _tool_result_content(part: ToolResultPart) -> list[dict[str, Any]]:
    # Recorded (computer use): a file the tool returned follows the text, which is left out
    # when empty ("content": [{"type": "image", ...}]).
    if part.media is None:
        return [{"type": "text", "text": part.output}]
    text = [{"type": "text", "text": part.output}] if part.output else []
    return [*text, _encode_file(part.media)]


def _encode_file(part: FilePart) -> dict[str, Any]:
    data = base64.b64encode(part.data).decode("ascii")
    if part.media_type.startswith("image/"):
        return {"type": "image", "source": {"type": "base64", "media_type": part.media_type, "data": data}}
    if part.media_type == "application/pdf":
        return {"type": "document", "source": {"type": "base64", "media_type": part.media_type, "data": data}}
    if part.media_type == "text/plain":
        text = part.data.decode("utf-8", errors="replace")
        return {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": text}}
    name = f"the file part {part.filename!r}" if part.filename else "a file part"
    raise UserError(
        f"anthropic cannot take {name} of type {part.media_type!r}: images, PDF and plain text only"
    )


def _encode_assistant_parts(
    parts: Sequence[ContentPart], send_reasoning: bool, warnings: list[CallWarning]
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            # The API rejects text blocks that are empty or whitespace only.
            if part.text.strip():
                blocks.append(_with_cache({"type": "text", "text": part.text}, part.provider_options))
        elif isinstance(part, ReasoningPart):
            if send_reasoning:
                block = _encode_reasoning(part, warnings)
                if block is not None:
                    blocks.append(_with_cache(block, part.provider_options))
        elif isinstance(part, ToolCallPart) and not part.provider_executed:
            block = {
                "type": "tool_use",
                "id": tool_use_id(part.tool_call_id),
                "name": part.tool_name,
                "input": json_object_or_empty(part.input),
            }
            blocks.append(_with_cache(block, part.provider_options))
        elif isinstance(part, ToolCallPart | ToolResultPart):
            # A tool the provider ran: Anthropic's own blocks go back as they came (the search
            # results with their encrypted_content); another provider's cannot be sent here.
            server = (
                encode_server_call(part) if isinstance(part, ToolCallPart) else encode_server_result(part)
            )
            if server is not None:
                blocks.append(_with_cache(server, part.provider_options))
            else:
                warnings.append(
                    CallWarning(
                        setting=part.type,
                        message=f"the {part.tool_name!r} {part.type} another provider ran is not sent",
                    )
                )
    return blocks


def _encode_reasoning(part: ReasoningPart, warnings: list[CallWarning]) -> dict[str, Any] | None:
    metadata = part.provider_metadata.get(PROVIDER) or {}
    redacted = metadata.get("redacted_data")
    if redacted:
        return {"type": "redacted_thinking", "data": redacted}
    signature = metadata.get("signature")
    if signature:
        return {"type": "thinking", "thinking": part.text, "signature": signature}
    # Reasoning from another provider (or unsigned) would be rejected: the API verifies
    # signatures. Dropping it keeps a conversation portable across providers; the warning
    # covers another provider's state without text too (encrypted reasoning, a signature).
    if part.text or any(values for key, values in part.provider_metadata.items() if key != PROVIDER):
        warnings.append(
            CallWarning(
                setting="reasoning", message="reasoning without an Anthropic signature is not sent back"
            )
        )
    return None

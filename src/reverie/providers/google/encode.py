"""Gemini API request bodies (``models/{id}:generateContent`` and ``:streamGenerateContent?alt=sse``).

Request bodies reproduce fantasy's recorded ones as JSON values: ``contents`` with
``user``/``model`` roles, ``systemInstruction`` (role ``user``), ``generationConfig`` only
when it has settings, one ``tools`` entry of ``functionDeclarations`` whose schemas are in
Gemini's dialect (``schema.py``), and ``toolConfig.functionCallingConfig``. Tool results go
back as ``functionResponse`` parts of a ``user`` turn, ``{"result": "<output>"}``.

Thought text is not sent back (as recorded); reasoning parts from any provider are dropped
here, with a warning when they are bound to another provider (a signature, encrypted
content, reasoning details). A ``thoughtSignature`` goes back on the part that carried it:
a call's or a text's ``provider_metadata["google"]["thought_signature"]`` becomes the
``thoughtSignature`` of its ``functionCall`` or ``text`` part (as recorded). A user, tool
or system turn holding a part Gemini has no place for (reasoning, a call, a source; a file
in the system prompt) is a ``UserError`` naming it, never dropped. This module does not read responses.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reverie._codec import (
    function_tools,
    has_options,
    json_object_or_empty,
    provider_options,
    reasoning_drop_warning,
    tool_result_text,
)
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
from reverie._model import Call, ToolDefinition
from reverie._wire_cache import WireCache, each_tool
from reverie.providers._turns import encode_turns
from reverie.providers.google.schema import to_gemini_schema
from reverie.providers.google.wire import PROVIDER

if TYPE_CHECKING:
    from reverie.providers.google._options import Options

MIN_THINKING_BUDGET = 128
"""fantasy raised thinking budgets below this to it (recorded: 100 was sent as 128)."""


def request_body(call: Call, *, warnings: list[CallWarning], call_ids: bool = True) -> dict[str, Any]:
    """The ``generateContent`` body for ``call`` (streaming sends the same); warnings are appended.

    ``call_ids=False`` leaves the ids out of ``functionCall`` and ``functionResponse`` parts
    (Vertex's functions take none).
    """
    options = read_options(call)
    system, contents = encode_prompt(call.prompt, warnings, cache=call.wire_cache, call_ids=call_ids)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"role": "user", "parts": system}
    config = _generation_config(call, options, warnings)
    if config:
        body["generationConfig"] = config
    if options is not None and options.safety_settings:
        body["safetySettings"] = [setting.model_dump() for setting in options.safety_settings]
    if options is not None and options.cached_content:
        body["cachedContent"] = options.cached_content
    if call.tools:
        tools = function_tools(call, PROVIDER)
        declarations = each_tool(call.wire_cache, _declaration, tools, _declaration, warnings)
        body["tools"] = [{"functionDeclarations": declarations}]
        body["toolConfig"] = {"functionCallingConfig": _calling_config(call.tool_choice)}
    elif call.tool_choice is not None and call.tool_choice != "auto":
        warnings.append(CallWarning(setting="tool_choice", message="tool_choice without tools is ignored"))
    return body


def encode_prompt(
    prompt: Sequence[Message],
    warnings: list[CallWarning] | None = None,
    *,
    cache: WireCache | None = None,
    call_ids: bool = True,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``systemInstruction`` parts and the ``contents`` turns of a conversation.

    Tool results travel in ``user`` turns; consecutive turns of one role are merged, as
    Gemini expects the roles to alternate. Reasoning is never sent back. A tool result's
    file becomes a text placeholder, with a warning appended to ``warnings``. Each message's
    parts depend on it alone: with ``cache`` (a run's) they are reused from an earlier
    request, and only the merging into turns is redone.
    """
    warnings = [] if warnings is None else warnings
    return encode_turns(prompt, _encode_message, call_ids, "parts", warnings, cache)


def _encode_message(
    message: Message, call_ids: bool, warnings: list[CallWarning]
) -> tuple[str, list[dict[str, Any]]]:
    """The role a message's parts go under (``system`` for the system instruction) and its parts."""
    if message.role == "system":
        return "system", _encode_system_parts(message.content)
    if message.role == "assistant":
        # Gemini's own thoughts (unsigned, or signed under "google") go unsent by design.
        dropped = reasoning_drop_warning(message.content, reader=PROVIDER, own=(PROVIDER,), plain_is_own=True)
        if dropped is not None:
            warnings.append(dropped)
        return "model", _encode_parts(message.content, warnings, call_ids)
    _check_user_parts(message.content)
    return "user", _encode_parts(message.content, warnings, call_ids)


def _encode_system_parts(parts: Sequence[ContentPart]) -> list[dict[str, Any]]:
    # systemInstruction holds text only; anything else would be silently lost.
    for part in parts:
        if not isinstance(part, TextPart):
            raise UserError(f"a system message cannot carry a {part.type} part on google; send text only")
    return [{"text": part.text} for part in parts if isinstance(part, TextPart) and part.text]


def _check_user_parts(parts: Sequence[ContentPart]) -> None:
    # Reasoning, calls and sources are the model's output: a user turn has no place for them,
    # and dropping one would send a different question than the one asked.
    for part in parts:
        if not isinstance(part, TextPart | FilePart | ToolResultPart):
            raise UserError(
                f"a user message cannot carry a {part.type} part on google; "
                "send text and files (or tool results)"
            )


def _encode_parts(
    parts: Sequence[ContentPart], warnings: list[CallWarning], call_ids: bool
) -> list[dict[str, Any]]:
    encoded: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            # An empty text part goes back only when signed: {"text": "", "thoughtSignature": ...}.
            text = _signed({"text": part.text}, part)
            if part.text or "thoughtSignature" in text:
                encoded.append(text)
        elif isinstance(part, FilePart):
            data = base64.b64encode(part.data).decode("ascii")
            encoded.append({"inlineData": {"mimeType": part.media_type, "data": data}})
        elif isinstance(part, ToolCallPart):
            if not part.provider_executed:
                # Recorded: {"functionCall": {"id": "1", "name": "weather", "args": {...}},
                # "thoughtSignature": "..."}, the signature as the response carried it.
                arguments = json_object_or_empty(part.input)
                call = {"id": part.tool_call_id, "name": part.tool_name, "args": arguments}
                if not call_ids:
                    del call["id"]
                encoded.append(_signed({"functionCall": call}, part))
        elif isinstance(part, ToolResultPart) and not part.provider_executed:
            # A provider-executed result (another provider's server tool) goes with its call.
            response = {
                "id": part.tool_call_id,
                "name": part.tool_name,
                "response": {"result": tool_result_text(part, PROVIDER, warnings)},
            }
            if not call_ids:
                del response["id"]
            encoded.append({"functionResponse": response})
    return encoded


def _signed(encoded: dict[str, Any], part: TextPart | ToolCallPart) -> dict[str, Any]:
    # Only Gemini's own signature goes back; other providers' metadata means nothing here.
    signature = part.provider_metadata.get(PROVIDER, {}).get("thought_signature")
    if isinstance(signature, str) and signature:
        encoded["thoughtSignature"] = signature
    return encoded


def read_options(call: Call) -> Options | None:
    """The call's ``google`` options, or ``None`` when it has none.

    The options module (and pydantic with it) is imported only when there are options.
    """
    if not has_options(call, PROVIDER):
        return None
    from reverie.providers.google._options import Options

    return provider_options(call, PROVIDER, Options)


def _generation_config(call: Call, options: Options | None, warnings: list[CallWarning]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    settings: dict[str, Any] = {
        "maxOutputTokens": call.max_output_tokens,
        "temperature": call.temperature,
        "topP": call.top_p,
        "topK": call.top_k,
        "presencePenalty": call.presence_penalty,
        "frequencyPenalty": call.frequency_penalty,
        "seed": call.seed,
        "stopSequences": call.stop_sequences or None,
    }
    config.update({key: value for key, value in settings.items() if value is not None})
    thinking = options.thinking_config if options is not None else None
    if thinking is not None:
        encoded: dict[str, Any] = {}
        if thinking.include_thoughts is not None:
            encoded["includeThoughts"] = thinking.include_thoughts
        if thinking.thinking_level is not None:
            # Recorded: {"includeThoughts": true, "thinkingLevel": "HIGH"}.
            encoded["thinkingLevel"] = thinking.thinking_level.upper()
        budget = thinking.thinking_budget
        if budget is not None:
            if 0 < budget < MIN_THINKING_BUDGET:
                warnings.append(
                    CallWarning(
                        setting="thinking_budget",
                        message=f"thinking_budget {budget} raised to the minimum of {MIN_THINKING_BUDGET}",
                    )
                )
                budget = MIN_THINKING_BUDGET
            encoded["thinkingBudget"] = budget
        if encoded:
            config["thinkingConfig"] = encoded
    if options is not None and options.response_modalities:
        config["responseModalities"] = list(options.response_modalities)
    if call.response_format is not None:
        # Native JSON output as fantasy v0.41.2 sends it: the plain JSON schema, not the
        # OpenAPI subset ``responseSchema`` that function declarations use.
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = call.response_format.schema
    return config


def _declaration(tool: ToolDefinition, warnings: list[CallWarning]) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": tool.name}
    if tool.description:
        declaration["description"] = tool.description
    parameters, dropped = to_gemini_schema(tool.parameters)
    if dropped:
        warnings.append(
            CallWarning(
                setting="tools",
                message=f"tool {tool.name!r}: unsupported JSON-schema features dropped for Gemini: "
                + ", ".join(dropped),
            )
        )
    if parameters is not None:
        declaration["parameters"] = parameters
    return declaration


def _calling_config(choice: str | None) -> dict[str, Any]:
    # Recorded: {"functionCallingConfig": {"mode": "AUTO"}} whenever tools are sent.
    if choice is None or choice == "auto":
        return {"mode": "AUTO"}
    if choice == "none":
        return {"mode": "NONE"}
    if choice == "required":
        return {"mode": "ANY"}
    return {"mode": "ANY", "allowedFunctionNames": [choice]}

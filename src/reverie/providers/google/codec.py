"""The Gemini API codec (``models/{id}:generateContent`` and ``:streamGenerateContent?alt=sse``).

Request bodies reproduce fantasy's recorded ones as JSON values: ``contents`` with
``user``/``model`` roles, ``systemInstruction`` (role ``user``), ``generationConfig`` only
when it has settings, one ``tools`` entry of ``functionDeclarations`` whose schemas are in
Gemini's dialect (``schema.py``), and ``toolConfig.functionCallingConfig``. Tool results go
back as ``functionResponse`` parts of a ``user`` turn, ``{"result": "<output>"}``.

Thought text and ``thoughtSignature`` are not sent back (as recorded); reasoning from any
provider is dropped here, while a call's signature stays on the call's
``provider_metadata["google"]["thought_signature"]``. This module does not do I/O;
streams are decoded in ``stream.py``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from reverie._codec import (
    WireRequest,
    expect_object,
    json_object_or_empty,
    provider_options,
    reads_payload,
    status_error,
)
from reverie._content import (
    CallWarning,
    ContentPart,
    FilePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from reverie._errors import (
    InvalidResponseError,
    ProviderError,
)
from reverie._model import Call, Response, ToolDefinition
from reverie.providers.google.schema import to_gemini_schema
from reverie.providers.google.stream import (
    PROVIDER,
    CallIds,
    GeminiStreamDecoder,
    describe_error,
    file_part,
    function_call_part,
    inband_error,
    map_finish_reason,
    read_usage,
    response_metadata,
    signature_metadata,
)
from reverie.providers.google.wire import ResponsePayload

if TYPE_CHECKING:
    from reverie.providers.google._options import Options

MIN_THINKING_BUDGET = 128
"""fantasy raised thinking budgets below this to it (recorded: 100 was sent as 128)."""


class GeminiCodec:
    """Wire codec for the Gemini API."""

    name = PROVIDER

    def __init__(self, model_id: str) -> None:
        # Both "gemini-2.5-flash" and the API's own "models/gemini-2.5-flash" are accepted.
        self.model_id = model_id.removeprefix("models/")

    # --- requests -----------------------------------------------------------------

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The ``generateContent`` (or streaming) request for ``call``."""
        warnings: list[CallWarning] = []
        from reverie.providers.google._options import Options

        options = provider_options(call, self.name, Options) or Options()
        system, contents = encode_prompt(call.prompt)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"role": "user", "parts": system}
        config = _generation_config(call, options, warnings)
        if config:
            body["generationConfig"] = config
        if options.safety_settings:
            body["safetySettings"] = [setting.model_dump() for setting in options.safety_settings]
        if options.cached_content:
            body["cachedContent"] = options.cached_content
        if call.tools:
            body["tools"] = [{"functionDeclarations": [_declaration(tool, warnings) for tool in call.tools]}]
            body["toolConfig"] = {"functionCallingConfig": _calling_config(call.tool_choice)}
        elif call.tool_choice is not None and call.tool_choice != "auto":
            warnings.append(
                CallWarning(setting="tool_choice", message="tool_choice without tools is ignored")
            )
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return WireRequest(path=f"/models/{self.model_id}:{method}", body=body, warnings=warnings)

    # --- responses ----------------------------------------------------------------

    @reads_payload("Gemini response")
    def parse_response(self, payload: Any) -> Response:
        """Read a ``GenerateContentResponse``."""
        answer = cast(ResponsePayload, expect_object(payload, "the Gemini response"))
        if "error" in answer:
            raise inband_error(answer["error"])
        usage = read_usage(answer.get("usageMetadata"))
        candidates = answer.get("candidates") or []
        if not candidates:
            if (answer.get("promptFeedback") or {}).get("blockReason"):
                # {"promptFeedback": {"blockReason": "SAFETY", ...}} and no candidates: the
                # prompt was refused, which is a finish, not a malformed answer.
                return Response(
                    content=[],
                    finish_reason="content_filter",
                    usage=usage,
                    provider_metadata=response_metadata(answer, None),
                    response_id=answer.get("responseId"),
                    model_id=answer.get("modelVersion"),
                )
            raise InvalidResponseError("Gemini response has no candidates", body=json.dumps(payload)[:500])
        candidate = candidates[0]
        content: list[ContentPart] = []
        ids = CallIds()
        for part in (candidate.get("content") or {}).get("parts") or []:
            if "functionCall" in part:
                content.append(function_call_part(part, ids))
            elif "inlineData" in part:
                file = file_part(part)
                if file is not None:
                    content.append(file)
            elif part.get("thought"):
                content.append(
                    ReasoningPart(text=part.get("text") or "", provider_metadata=signature_metadata(part))
                )
            elif part.get("text"):
                content.append(
                    TextPart(text=part.get("text") or "", provider_metadata=signature_metadata(part))
                )
        has_calls = any(isinstance(part, ToolCallPart) for part in content)
        return Response(
            content=content,
            finish_reason=map_finish_reason(candidate.get("finishReason"), has_calls=has_calls),
            usage=usage,
            provider_metadata=response_metadata(answer, candidate),
            response_id=answer.get("responseId"),
            model_id=answer.get("modelVersion"),
        )

    def stream_decoder(self) -> GeminiStreamDecoder:
        """A decoder for one ``streamGenerateContent`` event stream."""
        return GeminiStreamDecoder()

    # --- errors -------------------------------------------------------------------

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer, with the API's status and message.

        The body is ``{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED"}}``
        (a one-element array of that on streaming endpoints).
        """
        message = _error_message(body)
        return status_error(message, status_code=status_code, headers=headers, body=body, url=url)


# --- request helpers ------------------------------------------------------------------


def encode_prompt(prompt: Sequence[Message]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``systemInstruction`` parts and the ``contents`` turns of a conversation.

    Tool results travel in ``user`` turns; consecutive turns of one role are merged, as
    Gemini expects the roles to alternate. Reasoning is never sent back.
    """
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    for message in prompt:
        if message.role == "system":
            system.extend(
                {"text": part.text} for part in message.content if isinstance(part, TextPart) and part.text
            )
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = _encode_parts(message.content)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return system, contents


def _encode_parts(parts: Sequence[ContentPart]) -> list[dict[str, Any]]:
    encoded: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            if part.text:
                encoded.append({"text": part.text})
        elif isinstance(part, FilePart):
            data = base64.b64encode(part.data).decode("ascii")
            encoded.append({"inlineData": {"mimeType": part.media_type, "data": data}})
        elif isinstance(part, ToolCallPart):
            if not part.provider_executed:
                # Recorded: {"functionCall": {"id": "weather", "name": "weather", "args": {...}}},
                # without the thoughtSignature the response carried.
                arguments = json_object_or_empty(part.input)
                call = {"id": part.tool_call_id, "name": part.tool_name, "args": arguments}
                encoded.append({"functionCall": call})
        elif isinstance(part, ToolResultPart):
            response = {"id": part.tool_call_id, "name": part.tool_name, "response": {"result": part.output}}
            encoded.append({"functionResponse": response})
    return encoded


def _generation_config(call: Call, options: Options, warnings: list[CallWarning]) -> dict[str, Any]:
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
    thinking = options.thinking_config
    if thinking is not None:
        encoded: dict[str, Any] = {}
        if thinking.include_thoughts is not None:
            encoded["includeThoughts"] = thinking.include_thoughts
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
    if options.response_modalities:
        config["responseModalities"] = list(options.response_modalities)
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


def _error_message(body: str) -> str | None:
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return None
    if isinstance(payload, list) and payload:
        payload = cast(list[Any], payload)[0]
    if not isinstance(payload, dict) or "error" not in payload:
        return None
    _, message = describe_error(cast(dict[str, Any], payload)["error"])
    return message

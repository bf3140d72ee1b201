"""The OpenAI chat-completions codec, shared by ``openai``, ``openaicompat`` and ``openrouter``.

Request bodies reproduce fantasy's byte-for-byte-recorded ones as JSON values: only the
fields that carry information, no ``null``s, ``stream_options`` only when streaming.
Variants subclass ``OpenAIChatCodec`` and override its named hooks (after fantasy's
``language_model_hooks.go`` and the Vercel AI SDK's ``transformRequestBody``):
``prepare_body``, ``extract_usage``, ``extract_reasoning`` and ``response_metadata``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any, ClassVar, cast

from reverie._codec import WireRequest, expect_object, expect_string, reads_payload, status_error
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
    Usage,
)
from reverie._errors import (
    InvalidResponseError,
    ProviderError,
    mentions_context_limit,
)
from reverie._model import Call, Response
from reverie.providers._openai_chat.stream import ChatStreamDecoder, map_finish_reason
from reverie.providers._openai_chat.wire import (
    ChoicePayload,
    CompletionPayload,
    MessagePayload,
    ToolCallPayload,
    UsagePayload,
)

# Sampling settings that OpenAI reasoning models reject; fantasy and the Vercel AI SDK
# drop them with a warning instead of letting the request fail.
_REASONING_MODEL_UNSUPPORTED = ("temperature", "top_p", "presence_penalty", "frequency_penalty")


class OpenAIChatCodec:
    """Wire codec for ``POST {base_url}/chat/completions``."""

    name: str = "openai"
    supports_top_k: ClassVar[bool] = False

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    # --- requests -----------------------------------------------------------------

    def is_reasoning_model(self) -> bool:
        """Whether the model takes ``max_completion_tokens`` (fantasy's literal prefix rule).

        The recorded requests use it for ids starting with ``o`` or ``gpt-5``; OpenRouter's
        ``openai/...`` ids start with ``o`` as well.
        """
        return self.model_id.startswith(("o", "gpt-5"))

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The chat-completions request for ``call``."""
        warnings: list[CallWarning] = []
        body: dict[str, Any] = {"model": self.model_id, "messages": self.encode_messages(call.prompt)}
        reasoning = self.is_reasoning_model()
        if call.max_output_tokens is not None:
            body["max_completion_tokens" if reasoning else "max_tokens"] = call.max_output_tokens
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
            if reasoning and key in _REASONING_MODEL_UNSUPPORTED:
                warnings.append(
                    CallWarning(setting=key, message=f"{key} is not supported by reasoning models")
                )
                continue
            body[key] = value
        if call.top_k is not None:
            if self.supports_top_k:
                body["top_k"] = call.top_k
            else:
                warnings.append(
                    CallWarning(setting="top_k", message=f"top_k is not supported by {self.name}")
                )
        if call.tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                        "strict": False,
                    },
                }
                for tool in call.tools
            ]
            body["tool_choice"] = self.encode_tool_choice(call.tool_choice or "auto")
        elif call.tool_choice is not None and call.tool_choice != "auto":
            warnings.append(
                CallWarning(setting="tool_choice", message="tool_choice without tools is ignored")
            )
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        self.prepare_body(body, call, stream=stream, warnings=warnings)
        return WireRequest(path="/chat/completions", body=body, warnings=warnings)

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Hook: add the variant's fields (options, usage accounting) to ``body`` in place."""

    @staticmethod
    def encode_tool_choice(choice: str) -> Any:
        """``auto``/``none``/``required`` as is; a tool name as a function choice."""
        if choice in ("auto", "none", "required"):
            return choice
        return {"type": "function", "function": {"name": choice}}

    def encode_messages(self, messages: list[Message]) -> list[dict[str, Any]]:
        """The ``messages`` array: plain-string content wherever the recordings have it."""
        encoded: list[dict[str, Any]] = []
        for message in messages:
            if message.role == "system":
                encoded.append({"role": "system", "content": message.text})
            elif message.role == "user":
                encoded.append({"role": "user", "content": _encode_user_content(message.content)})
                encoded.extend(_encode_tool_results(message.content))
            elif message.role == "assistant":
                encoded.append(_encode_assistant(message.content))
            else:
                encoded.extend(_encode_tool_results(message.content))
        return encoded

    # --- responses ----------------------------------------------------------------

    @reads_payload("chat completion")
    def parse_response(self, payload: Any) -> Response:
        """Read a ``chat.completion`` object."""
        completion = cast(CompletionPayload, expect_object(payload, "the chat completion"))
        if "error" in completion:
            raise self.inband_error(completion["error"])
        return self._read_completion(completion)

    def _read_completion(self, completion: CompletionPayload) -> Response:
        choices = completion.get("choices")
        if not isinstance(choices, list) or not choices:
            raise InvalidResponseError("chat completion has no choices", body=json.dumps(completion)[:500])
        choice: ChoicePayload = choices[0]
        message: MessagePayload = choice.get("message") or {}
        content: list[ContentPart] = list(self.extract_reasoning(message))
        text = expect_string(message.get("content"), "message.content")
        if text:
            content.append(TextPart(text=text))
        for index, tool_call in enumerate(message.get("tool_calls") or []):
            function = tool_call.get("function") or {}
            content.append(
                ToolCallPart(
                    tool_call_id=expect_string(tool_call.get("id"), "tool_calls.id") or f"call_{index}",
                    tool_name=expect_string(function.get("name"), "function.name"),
                    input=expect_string(function.get("arguments"), "function.arguments"),
                )
            )
        usage, usage_metadata = self.extract_usage(completion.get("usage"))
        return Response(
            content=content,
            finish_reason=map_finish_reason(
                expect_string(choice.get("finish_reason"), "finish_reason") or None
            ),
            usage=usage,
            provider_metadata=self.response_metadata(completion, usage_metadata),
            response_id=completion.get("id"),
            model_id=completion.get("model"),
        )

    def extract_reasoning(self, message: MessagePayload) -> list[ReasoningPart]:
        """Hook: reasoning parts of a response message (plain OpenAI returns none)."""
        return []

    reasoning_keys: ClassVar[frozenset[str]] = frozenset()
    """Delta fields that carry reasoning; the stream decoder calls the hook below only when one is present."""

    def extract_reasoning_delta(self, delta: MessagePayload) -> tuple[str, ProviderMetadata]:
        """Hook: the reasoning text (and metadata) carried by a stream delta."""
        return "", {}

    def extract_usage(self, usage: UsagePayload | None) -> tuple[Usage, dict[str, Any]]:
        """Hook: token counts, plus anything the variant wants in provider metadata."""
        if not usage:
            return Usage(), {}
        prompt_details = usage.get("prompt_tokens_details") or {}
        completion_details = usage.get("completion_tokens_details") or {}
        input_tokens = _count(usage.get("prompt_tokens"))
        output_tokens = _count(usage.get("completion_tokens"))
        return (
            Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                total_tokens=_count(usage.get("total_tokens")) or input_tokens + output_tokens,
                reasoning_tokens=_count(completion_details.get("reasoning_tokens")),
                cache_read_tokens=_count(prompt_details.get("cached_tokens")),
            ),
            {},
        )

    def response_metadata(
        self, completion: CompletionPayload, usage_metadata: dict[str, Any]
    ) -> ProviderMetadata:
        """Hook: the provider metadata of a response (or of a stream's finish)."""
        return {self.name: usage_metadata} if usage_metadata else {}

    def stream_decoder(self) -> ChatStreamDecoder:
        """A decoder for one ``chat.completion.chunk`` stream."""
        return ChatStreamDecoder(self)

    # --- errors -------------------------------------------------------------------

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer, with the provider's own message.

        A 2xx JSON answer to a streaming request is an error report too; its ``error``
        object is read as an in-band error, so its own code decides status and retry.
        """
        report = _error_object(body) if status_code < 300 else None
        if report is not None:
            error = self.inband_error(report)
            error.url = url
            error.response_headers = {name.lower(): value for name, value in headers.items()}
            error.response_body = body
            return error
        message = _error_message(body)
        return status_error(message, status_code=status_code, headers=headers, body=body, url=url)

    def inband_error(self, error: Any) -> ProviderError:
        """The error for an ``{"error": ...}`` object inside a 200 answer or stream."""
        detail = cast(dict[str, Any], error) if isinstance(error, dict) else {"message": str(error)}
        message = _describe_error(detail)
        code = detail.get("code")
        status = code if isinstance(code, int) and 100 <= code < 600 else None
        # A transient upstream failure (overload, rate limit, 5xx, unknown) deserves a retry;
        # a request the provider rejected as invalid does not.
        kind = str(detail.get("type") or "")
        rejected = kind.startswith("invalid_request") or (status is not None and 400 <= status < 500)
        retryable = not rejected or status in (408, 409, 429)
        return ProviderError(
            message,
            status_code=status,
            response_body=json.dumps(error, ensure_ascii=False),
            retryable=retryable,
            is_context_too_large=mentions_context_limit(message + " " + str(detail.get("code"))),
        )


def _count(value: Any) -> int:
    """A token count; anything but a JSON integer (a null, a stray string) counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --- message encoding helpers ---------------------------------------------------------


def _encode_user_content(parts: list[ContentPart]) -> str | list[dict[str, Any]]:
    texts = [part for part in parts if isinstance(part, TextPart)]
    files = [part for part in parts if isinstance(part, FilePart)]
    if not files and len(texts) == 1:
        return texts[0].text
    encoded: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            encoded.append({"type": "text", "text": part.text})
        elif isinstance(part, FilePart):
            encoded.append(_encode_file(part))
    return encoded


def _encode_file(part: FilePart) -> dict[str, Any]:
    data = base64.b64encode(part.data).decode("ascii")
    if part.media_type.startswith("image/"):
        return {"type": "image_url", "image_url": {"url": f"data:{part.media_type};base64,{data}"}}
    file: dict[str, Any] = {"file_data": f"data:{part.media_type};base64,{data}"}
    if part.filename:
        file["filename"] = part.filename
    return {"type": "file", "file": file}


def _encode_assistant(parts: list[ContentPart]) -> dict[str, Any]:
    # Reasoning is never sent back in this family; whitespace-only text is (glm-4.5's
    # "\n\n" is echoed verbatim), while "" leaves the content key out.
    text = "".join(part.text for part in parts if isinstance(part, TextPart))
    calls: list[ToolCallPayload] = [
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
    return message


def _encode_tool_results(parts: list[ContentPart]) -> list[dict[str, Any]]:
    return [
        {"role": "tool", "tool_call_id": part.tool_call_id, "content": part.output}
        for part in parts
        if isinstance(part, ToolResultPart)
    ]


# --- error helpers --------------------------------------------------------------------


def _error_message(body: str) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    error = cast(dict[str, Any], payload).get("error")
    if isinstance(error, dict):
        return _describe_error(cast(dict[str, Any], error))
    if isinstance(error, str):
        return error
    message = cast(dict[str, Any], payload).get("message")
    return message if isinstance(message, str) else None


def _error_object(body: str) -> Any:
    """The ``error`` member of a JSON object body, or ``None``."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    return cast(dict[str, Any], payload).get("error") if isinstance(payload, dict) else None


def _describe_error(error: dict[str, Any]) -> str:
    message = str(error.get("message") or "unknown error")
    metadata = error.get("metadata")
    # OpenRouter wraps the upstream's own words in error.metadata.raw.
    if isinstance(metadata, dict):
        raw = cast(dict[str, Any], metadata).get("raw")
        provider = cast(dict[str, Any], metadata).get("provider_name")
        if raw:
            raw_text = raw if isinstance(raw, str) else json.dumps(raw)
            message = f"{message}: {raw_text}"
        if provider:
            message = f"{message} (upstream: {provider})"
    return message

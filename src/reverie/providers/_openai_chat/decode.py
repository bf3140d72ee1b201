"""Reading chat-completions answers: whole responses, usage, finish reasons and errors.

A ``chat.completion`` object becomes a ``Response``: its choice 0 only (others are
ignored), with content read by ``content.py`` (plain or typed parts, refusals). Where the
variants differ (reasoning fields, usage extras, provider metadata, in-band errors) the
reader asks the codec through the ``ResponseHooks`` protocol, which ``OpenAIChatCodec``
satisfies. Also here: the default usage reader, the finish-reason map and the error
builders, which the stream decoder shares. This module builds no requests and decodes no streams.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

from reverie._codec import error_body, expect_object, expect_string, status_error, token_count
from reverie._content import (
    ContentPart,
    FinishReason,
    ProviderMetadata,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    Usage,
)
from reverie._errors import InvalidResponseError, ProviderError, mentions_context_limit
from reverie._model import Response
from reverie.providers._openai_chat.content import refusal_metadata, split_content

if TYPE_CHECKING:
    # Types only: a TypedDict costs its definition on import.
    from reverie.providers._openai_chat.wire import (
        ChoicePayload,
        CompletionPayload,
        MessagePayload,
        UsagePayload,
    )

_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
}


class ResponseHooks(Protocol):
    """The codec hooks a whole response is read with (see ``OpenAIChatCodec``)."""

    @property
    def name(self) -> str:
        """The provider's key in provider metadata."""
        ...

    def extract_reasoning(self, message: MessagePayload) -> list[ReasoningPart]:
        """Reasoning parts of a response message."""
        ...

    def extract_usage(self, usage: UsagePayload | None) -> tuple[Usage, dict[str, Any]]:
        """Token counts, plus anything the variant wants in provider metadata."""
        ...

    def response_metadata(
        self, completion: CompletionPayload, usage_metadata: dict[str, Any]
    ) -> ProviderMetadata:
        """The provider metadata of a response."""
        ...

    def inband_error(self, error: Any) -> ProviderError:
        """The error for an ``{"error": ...}`` object inside a 200 answer."""
        ...


def map_finish_reason(reason: str | None) -> FinishReason:
    """The unified finish reason for an OpenAI ``finish_reason`` string."""
    if reason is None:
        return "unknown"
    return _FINISH_REASONS.get(reason, "other")


def read_completion(payload: Any, hooks: ResponseHooks) -> Response:
    """Read a ``chat.completion`` object; an ``{"error": ...}`` object raises the hooks' error."""
    # Every response comes through here: the common shapes are read without a helper call (or
    # a ``cast``, itself a call) each; anything else goes through the checking helpers.
    completion: CompletionPayload = payload  # typed before the check: it would narrow ``payload``
    if type(payload) is not dict:
        expect_object(payload, "the chat completion")  # raises
    if "error" in completion:
        raise hooks.inband_error(completion["error"])
    choices: Any = completion.get("choices")
    if not isinstance(choices, list) or not choices:
        raise InvalidResponseError("chat completion has no choices", body=json.dumps(completion)[:500])
    choice = first_choice(choices)
    if choice is None:
        raise InvalidResponseError("chat completion has no choice 0", body=json.dumps(completion)[:500])
    message: MessagePayload = choice.get("message") or {}
    content: list[ContentPart] = list(hooks.extract_reasoning(message))
    text: Any = message.get("content")
    if type(text) is not str:
        thinking, text = split_content(text, "message.content")
        if thinking:
            content.append(ReasoningPart(text=thinking))
    if text:
        content.append(TextPart(text=text))
    refusal = message.get("refusal")
    if refusal is not None and expect_string(refusal, "message.refusal"):
        content.append(TextPart(text=refusal, provider_metadata=refusal_metadata(hooks.name)))
    tool_calls = message.get("tool_calls")
    if tool_calls:
        for index, tool_call in enumerate(tool_calls):
            function = tool_call.get("function") or {}
            content.append(
                ToolCallPart(
                    tool_call_id=expect_string(tool_call.get("id"), "tool_calls.id") or f"call_{index}",
                    tool_name=expect_string(function.get("name"), "function.name"),
                    input=expect_string(function.get("arguments"), "function.arguments"),
                )
            )
    usage, usage_metadata = hooks.extract_usage(completion.get("usage"))
    reason = choice.get("finish_reason")
    metadata = hooks.response_metadata(completion, usage_metadata)
    if choice.get("logprobs") is not None:
        metadata = add_logprobs(metadata, hooks.name, logprobs_of(choice))
    if type(reason) is str:
        finish_reason: FinishReason = _FINISH_REASONS.get(reason, "other") if reason else "unknown"
    else:
        finish_reason = map_finish_reason(expect_string(reason, "finish_reason") or None)
    response_id, model_id = completion.get("id"), completion.get("model")
    return Response(
        content=content,
        finish_reason=finish_reason,
        usage=usage,
        provider_metadata=metadata,
        response_id=(response_id if type(response_id) is str else expect_string(response_id, "id")) or None,
        model_id=(model_id if type(model_id) is str else expect_string(model_id, "model")) or None,
    )


def first_choice(choices: Any) -> ChoicePayload | None:
    """The choice with ``index`` 0 (a choice without an index counts as 0), else ``None``.

    Only the first choice is the answer; others (``n`` > 1, or a server's extra
    candidates) are ignored rather than merged into it.
    """
    if not isinstance(choices, list):
        return None
    # String casts: ``list[Any]`` written out would build a generic alias on every response.
    for choice in cast("list[Any]", choices):
        if isinstance(choice, dict) and cast("dict[str, Any]", choice).get("index", 0) == 0:
            return cast("ChoicePayload", choice)
    return None


def logprobs_of(choice: ChoicePayload) -> list[Any]:
    """The token logprobs of a choice (``logprobs.content``), present when they were requested."""
    logprobs = cast("dict[str, Any]", choice).get("logprobs")
    if not isinstance(logprobs, dict):
        return []
    tokens = cast("dict[str, Any]", logprobs).get("content")
    return cast("list[Any]", tokens) if isinstance(tokens, list) else []


def add_logprobs(metadata: ProviderMetadata, provider: str, tokens: list[Any]) -> ProviderMetadata:
    """``metadata`` with ``tokens`` as ``[provider]["logprobs"]`` (unchanged when there are none)."""
    if not tokens:
        return metadata
    return {**metadata, provider: {**metadata.get(provider, {}), "logprobs": tokens}}


def read_usage(usage: UsagePayload | None) -> Usage:
    """Token counts of a ``usage`` object (the default ``extract_usage``).

    The counts mean what they mean for every provider (fantasy's rule): ``prompt_tokens``
    include the cached input (``prompt_tokens_details.cached_tokens``), so ``input_tokens``
    is the prompt without it and ``cache_read_tokens`` the cached part; OpenRouter's
    ``cache_write_tokens`` are ``cache_creation_tokens``; ``reasoning_tokens`` come from
    ``completion_tokens_details`` (and are part of ``output_tokens``, as reported).
    """
    if not usage:
        return Usage()
    # Plain ints are taken as they are; anything else goes through ``token_count`` (0 for junk).
    prompt_tokens: Any = usage.get("prompt_tokens")
    if type(prompt_tokens) is not int:
        prompt_tokens = token_count(prompt_tokens)
    output_tokens: Any = usage.get("completion_tokens")
    if type(output_tokens) is not int:
        output_tokens = token_count(output_tokens)
    total_tokens: Any = usage.get("total_tokens")
    if type(total_tokens) is not int:
        total_tokens = token_count(total_tokens)
    cached_tokens = reasoning_tokens = cache_creation_tokens = 0
    prompt_details = usage.get("prompt_tokens_details")
    if prompt_details:
        cached_tokens = min(token_count(prompt_details.get("cached_tokens")), prompt_tokens)
        cache_creation_tokens = token_count(prompt_details.get("cache_write_tokens"))
    completion_details = usage.get("completion_tokens_details")
    if completion_details:
        reasoning_tokens = token_count(completion_details.get("reasoning_tokens"))
    return Usage(
        input_tokens=prompt_tokens - cached_tokens,
        output_tokens=output_tokens,
        total_tokens=total_tokens or prompt_tokens + output_tokens,
        reasoning_tokens=reasoning_tokens,
        cache_read_tokens=cached_tokens,
        cache_creation_tokens=cache_creation_tokens,
    )


# --- errors ---------------------------------------------------------------------------


def read_error(
    status_code: int,
    headers: Mapping[str, str],
    body: str,
    url: str,
    *,
    inband_error: Callable[[Any], ProviderError],
) -> ProviderError:
    """The error for a non-2xx answer, with the provider's own message.

    A 2xx JSON answer to a streaming request is an error report too; its ``error``
    object is read by ``inband_error``, so its own code decides status and retry.
    """
    report = _error_object(body) if status_code < 300 else None
    if report is not None:
        error = inband_error(report)
        error.url = url
        error.response_headers = {name.lower(): value for name, value in headers.items()}
        error.response_body = body
        return error
    message = _error_message(body)
    return status_error(message, status_code=status_code, headers=headers, body=body, url=url)


def inband_error(error: Any) -> ProviderError:
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


def rejects_credentials(status_code: int, headers: Mapping[str, str], body: str) -> bool:
    """Whether an error body says the API key was refused: ``{"error": {"code": "invalid_api_key"}}``.

    OpenAI sends it with a 401; gateways and compatible servers may pick another status.
    """
    error = _error_object(body)
    return isinstance(error, dict) and cast(dict[str, Any], error).get("code") == "invalid_api_key"


def _error_message(body: str) -> str | None:
    payload = error_body(body)
    if payload is None:
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        return _describe_error(cast(dict[str, Any], error))
    if isinstance(error, str):
        return error
    message = payload.get("message")
    return message if isinstance(message, str) else None


def _error_object(body: str) -> Any:
    """The ``error`` member of a JSON object body, or ``None``."""
    payload = error_body(body)
    return payload.get("error") if payload is not None else None


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

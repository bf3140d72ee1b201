"""Reading Responses API answers: whole ``response`` objects, usage, finish reasons, errors.

A ``response`` object becomes a ``Response`` whose content follows its ``output`` items in
order: a ``reasoning`` item is one reasoning part (its summaries joined by a blank line)
with ``provider_metadata[<key>]`` holding ``item_id`` and, when it was included,
``encrypted_content``; a ``message`` item gives its text (and ``url_citation`` annotations
as sources); a ``function_call`` item is a tool call; a ``web_search_call`` (a built-in tool
the provider ran) is a provider-executed tool call and its result. Items of other types are
skipped.
The stream decoder shares the item readers, the usage reader, the finish-reason rule and
the error builders. This module builds no requests and decodes no streams.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from reverie._codec import expect_object, expect_string, token_count
from reverie._content import (
    ContentPart,
    FinishReason,
    ProviderMetadata,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from reverie._errors import ProviderError, mentions_context_limit
from reverie._model import Response
from reverie.providers._openai_chat import decode as chat_decode
from reverie.providers._openai_chat.content import refusal_metadata
from reverie.providers._openai_responses.tools import WEB_SEARCH
from reverie.providers._openai_responses.wire import (
    AnnotationPayload,
    ItemPayload,
    ResponsePayload,
    UsagePayload,
)

SUMMARY_SEPARATOR = "\n\n"
"""Between the summaries of one reasoning item (they are paragraphs of one text)."""

# Error codes that name a request the provider will never accept as it is.
_FINAL_CODES = frozenset(
    {"context_length_exceeded", "invalid_prompt", "invalid_request_error", "content_filter"}
)


def read_response(payload: Any, key: str) -> Response:
    """Read a ``response`` object; a failed response raises its error."""
    response = cast(ResponsePayload, expect_object(payload, "the response"))
    if response.get("status") == "failed" or response.get("error"):
        raise failed_response_error(response)
    content: list[ContentPart] = []
    calls = 0
    for item in response.get("output") or []:
        content.extend(read_item(item, key))
        calls += item.get("type") == "function_call"
    return Response(
        content=content,
        finish_reason=finish_reason(response, has_tool_calls=calls > 0),
        usage=read_usage(response.get("usage")),
        response_id=expect_string(response.get("id"), "id") or None,
        model_id=expect_string(response.get("model"), "model") or None,
    )


def read_item(item: ItemPayload, key: str) -> list[ContentPart]:
    """The content parts of one output item (none for item types reverie does not read)."""
    kind = item.get("type")
    if kind == "reasoning":
        return [ReasoningPart(text=summary_text(item), provider_metadata=reasoning_metadata(item, key))]
    if kind == "function_call":
        return [tool_call(item)]
    if kind == "web_search_call":
        return list(web_search(item))
    if kind != "message":
        return []
    parts: list[ContentPart] = []
    for block in item.get("content") or []:
        if block.get("type") == "output_text":
            parts.append(TextPart(text=expect_string(block.get("text"), "output_text.text")))
            parts.extend(
                source
                for annotation in block.get("annotations") or []
                if (source := read_source(annotation)) is not None
            )
        elif block.get("type") == "refusal":
            refusal = expect_string(block.get("refusal"), "refusal.refusal")
            parts.append(TextPart(text=refusal, provider_metadata=refusal_metadata(key)))
    return parts


def summary_text(item: ItemPayload) -> str:
    """A reasoning item's summaries as one text."""
    texts = [expect_string(summary.get("text"), "summary.text") for summary in item.get("summary") or []]
    return SUMMARY_SEPARATOR.join(text for text in texts if text)


def reasoning_metadata(item: ItemPayload, key: str) -> ProviderMetadata:
    """``{key: {"item_id": ..., "encrypted_content": ...}}`` (the latter when included)."""
    metadata: dict[str, Any] = {"item_id": expect_string(item.get("id"), "reasoning.id")}
    encrypted = expect_string(item.get("encrypted_content"), "reasoning.encrypted_content")
    if encrypted:
        metadata["encrypted_content"] = encrypted
    return {key: metadata}


def tool_call(item: ItemPayload) -> ToolCallPart:
    """A ``function_call`` item as a tool call (its ``call_id`` is the call's id)."""
    return ToolCallPart(
        tool_call_id=expect_string(item.get("call_id"), "function_call.call_id")
        or expect_string(item.get("id"), "function_call.id"),
        tool_name=expect_string(item.get("name"), "function_call.name"),
        input=expect_string(item.get("arguments"), "function_call.arguments"),
    )


def web_search(item: ItemPayload) -> tuple[ToolCallPart, ToolResultPart]:
    """A ``web_search_call`` item as the provider-executed call and its result.

    The call's input is the item's ``action`` (the search and its queries); the result says
    how it ended and carries the action's ``sources`` when they were included. The results
    themselves reach the answer as ``url_citation`` annotations (sources).
    """
    call_id = expect_string(item.get("id"), "web_search_call.id")
    action: dict[str, Any] = item.get("action") or {}
    result: dict[str, Any] = {"status": expect_string(item.get("status"), "web_search_call.status")}
    if action.get("sources"):
        result["sources"] = action["sources"]
    call = ToolCallPart(
        tool_call_id=call_id,
        tool_name=WEB_SEARCH,
        input=json.dumps(action, ensure_ascii=False, separators=(",", ":")),
        provider_executed=True,
    )
    output = ToolResultPart(
        tool_call_id=call_id,
        tool_name=WEB_SEARCH,
        output=json.dumps(result, ensure_ascii=False, separators=(",", ":")),
        provider_executed=True,
    )
    return call, output


def read_source(annotation: AnnotationPayload) -> SourcePart | None:
    """A ``url_citation`` annotation as a source (other annotations are not sources)."""
    if annotation.get("type") != "url_citation":
        return None
    url = expect_string(annotation.get("url"), "url_citation.url")
    return SourcePart(
        id=url, url=url, title=expect_string(annotation.get("title"), "url_citation.title") or None
    )


def finish_reason(response: ResponsePayload, *, has_tool_calls: bool) -> FinishReason:
    """The unified finish reason of a finished response.

    The API has no finish reason, only a ``status``: a completed response that called a
    function asks for tool results; an incomplete one says why in ``incomplete_details``.
    """
    status = response.get("status")
    if status == "completed":
        return "tool_calls" if has_tool_calls else "stop"
    if status == "incomplete":
        details = response.get("incomplete_details") or {}
        reason = details.get("reason")
        if reason == "max_output_tokens":
            return "length"
        if reason == "content_filter":
            return "content_filter"
        return "tool_calls" if has_tool_calls else "other"
    if status == "failed":
        return "error"
    return "unknown"


def read_usage(usage: UsagePayload | None) -> Usage:
    """Token counts: ``input_tokens`` include the cached ones, which are reported apart."""
    if not usage:
        return Usage()
    input_details = usage.get("input_tokens_details") or {}
    output_details = usage.get("output_tokens_details") or {}
    input_tokens = token_count(usage.get("input_tokens"))
    cached = min(token_count(input_details.get("cached_tokens")), input_tokens)
    output_tokens = token_count(usage.get("output_tokens"))
    return Usage(
        input_tokens=input_tokens - cached,
        output_tokens=output_tokens,
        total_tokens=token_count(usage.get("total_tokens")) or input_tokens + output_tokens,
        reasoning_tokens=token_count(output_details.get("reasoning_tokens")),
        cache_read_tokens=cached,
    )


# --- errors ---------------------------------------------------------------------------


def failed_response_error(response: ResponsePayload) -> ProviderError:
    """The error of a failed ``response``, with the usage it reports (the attempt is billed)."""
    error = response_error(response.get("error"))
    if response.get("usage"):
        error.reported_usage = read_usage(response.get("usage"))
    return error


def response_error(error: Any) -> ProviderError:
    """The error of a failed response or of an ``error`` stream event.

    Its ``code`` decides: a request the API rejects as invalid (or too long) is final;
    anything else (``server_error``, ``rate_limit_exceeded``, an unknown code) is
    transient and retried, as the chat family treats its in-band errors.
    """
    detail = cast(dict[str, Any], error) if isinstance(error, dict) else {"message": str(error or "")}
    message = str(detail.get("message") or "the response failed")
    code = str(detail.get("code") or detail.get("type") or "")
    if code:
        message = f"{message} ({code})"
    final = code in _FINAL_CODES or code.startswith("invalid")
    return ProviderError(
        message,
        response_body=json.dumps(error, ensure_ascii=False),
        retryable=not final,
        is_context_too_large=mentions_context_limit(message),
    )


def read_error(status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
    """The error for a non-2xx answer (an ``{"error": {...}}`` body, as chat completions send)."""
    return chat_decode.read_error(status_code, headers, body, url, inband_error=response_error)

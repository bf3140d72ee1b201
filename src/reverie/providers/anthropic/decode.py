"""Reading Anthropic Messages API answers: whole messages, usage, stop reasons and errors.

A ``message`` object becomes a ``Response``: ``text`` blocks become text, ``thinking``
blocks reasoning with their ``signature`` in ``provider_metadata["anthropic"]``,
``redacted_thinking`` blocks reasoning carrying ``["redacted_data"]``, ``tool_use`` blocks
tool calls; the blocks of tools the API runs itself (``server_tool_use``,
``web_search_tool_result``, ...) provider-executed calls and results, with their sources
(see ``server_tools.py``). Also here, because the stream decoder shares them: the stop-reason map, the
usage reader and the error builders. This module builds no requests and decodes no streams.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from reverie._codec import error_body, expect_object, expect_string, status_error
from reverie._content import (
    ContentPart,
    FinishReason,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    Usage,
)
from reverie._errors import InvalidResponseError, ProviderError, mentions_context_limit
from reverie._model import Response
from reverie.providers.anthropic.server_tools import (
    citation_source,
    is_server_call,
    is_server_result,
    server_call,
    server_result,
)
from reverie.providers.anthropic.wire import PROVIDER, MessagePayload, UsagePayload

# After the Vercel AI SDK's mapAnthropicStopReason.
_STOP_REASONS: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}

# Error types for which the same request can never succeed; every other in-band error
# (overloaded_error, api_error, rate_limit_error, timeout_error, unknown ones) is transient.
_REJECTIONS = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "billing_error",
    }
)


def map_stop_reason(reason: str | None) -> FinishReason:
    """The unified finish reason for an Anthropic ``stop_reason``."""
    if reason is None:
        return "unknown"
    return _STOP_REASONS.get(reason, "other")


def read_usage(usage: UsagePayload | None) -> Usage:
    """Token counts, cache reads and writes included (total = input + output, as fantasy)."""
    if not usage:
        return Usage()
    input_tokens = usage.get("input_tokens") or 0
    output_tokens = usage.get("output_tokens") or 0
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        cache_creation_tokens=usage.get("cache_creation_input_tokens") or 0,
        cache_read_tokens=usage.get("cache_read_input_tokens") or 0,
    )


def describe_error(error: Any) -> tuple[str, str]:
    """``(type, message)`` of an Anthropic error object ``{"type": ..., "message": ...}``."""
    if not isinstance(error, dict):
        return "", str(error)
    detail = cast(dict[str, Any], error)
    return str(detail.get("type") or ""), str(detail.get("message") or "unknown error")


def inband_error(error: Any) -> ProviderError:
    """The error for ``{"type": "error", "error": {...}}`` inside a 200 answer or stream."""
    kind, message = describe_error(error)
    text = f"{kind}: {message}" if kind else message
    return ProviderError(
        text,
        response_body=json.dumps({"type": "error", "error": error}, ensure_ascii=False),
        retryable=kind not in _REJECTIONS,
        is_context_too_large=mentions_context_limit(message),
    )


def read_message(payload: Any) -> Response:
    """Read a ``message`` object; ``{"type": "error", ...}`` raises its in-band error."""
    message = cast(MessagePayload, expect_object(payload, "the Anthropic message"))
    if message.get("type") == "error":
        raise inband_error(message.get("error"))
    blocks = message.get("content")
    if not isinstance(blocks, list):
        raise InvalidResponseError("Anthropic message has no content", body=json.dumps(payload)[:500])
    content: list[ContentPart] = []
    tool_names: dict[str, str] = {}
    sources = SourceList()
    for block in blocks:
        kind = block.get("type") or ""
        if kind == "text":
            content.append(TextPart(text=block.get("text") or ""))
            # Citations are not kept on the text: they never go back to the API.
            content.extend(sources.cited(block.get("citations") or []))
        elif is_server_call(kind):
            call = server_call(cast(dict[str, Any], block))
            tool_names[call.tool_call_id] = call.tool_name
            content.append(call)
        elif is_server_result(kind):
            result, found = server_result(cast(dict[str, Any], block), tool_names)
            content.append(result)
            content.extend(sources.found(found))
        elif kind == "thinking":
            metadata = {PROVIDER: {"signature": block.get("signature") or ""}}
            content.append(ReasoningPart(text=block.get("thinking") or "", provider_metadata=metadata))
        elif kind == "redacted_thinking":
            metadata = {PROVIDER: {"redacted_data": block.get("data") or ""}}
            content.append(ReasoningPart(text="", provider_metadata=metadata))
        elif kind == "tool_use":
            arguments = block.get("input")
            content.append(
                ToolCallPart(
                    tool_call_id=block.get("id") or f"toolu_{len(content)}",
                    tool_name=block.get("name") or "",
                    input=json.dumps(
                        arguments if arguments is not None else {},
                        ensure_ascii=False,
                        separators=(",", ":"),
                    ),
                )
            )
    return Response(
        content=content,
        finish_reason=map_stop_reason(message.get("stop_reason")),
        usage=read_usage(message.get("usage")),
        response_id=expect_string(message.get("id"), "message.id") or None,
        model_id=expect_string(message.get("model"), "message.model") or None,
    )


class SourceList:
    """The sources of one answer, each URL once: search results first, then new cited URLs."""

    def __init__(self) -> None:
        self._urls: set[str] = set()
        self._citations = 0

    def found(self, sources: list[SourcePart]) -> list[SourcePart]:
        """Search results not seen yet."""
        return [source for source in sources if self._new(source.url)]

    def cited(self, citations: list[Any]) -> list[SourcePart]:
        """Sources for the citations of a text block whose URL was not seen yet."""
        new: list[SourcePart] = []
        for citation in citations:
            if not isinstance(citation, dict):
                continue
            source = citation_source(cast(dict[str, Any], citation), self._citations)
            if source is not None and self._new(source.url):
                self._citations += 1
                new.append(source)
        return new

    def _new(self, url: str | None) -> bool:
        if url is None:
            return True
        if url in self._urls:
            return False
        self._urls.add(url)
        return True


def read_error(status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
    """The error for a non-2xx answer, with the API's own type and message.

    The body is ``{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}``;
    status 529 (overloaded) is a 5xx and therefore retried.
    """
    return status_error(_error_message(body), status_code=status_code, headers=headers, body=body, url=url)


def rejects_credentials(status_code: int, headers: Mapping[str, str], body: str) -> bool:
    """Whether an error body is ``{"type": "error", "error": {"type": "authentication_error"}}``."""
    payload = error_body(body)
    error = payload.get("error") if payload is not None else None
    return describe_error(error)[0] == "authentication_error" if isinstance(error, dict) else False


def _error_message(body: str) -> str | None:
    payload = error_body(body)
    if payload is None or "error" not in payload:
        return None
    kind, message = describe_error(payload["error"])
    return f"{kind}: {message}" if kind else message

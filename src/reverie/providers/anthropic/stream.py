"""Decoding an Anthropic Messages stream (named SSE events) into reverie stream parts.

The stream is ``message_start``, then per content block ``content_block_start`` /
``content_block_delta`` (any number) / ``content_block_stop``, then ``message_delta`` (stop reason and
output tokens) and ``message_stop``; ``ping`` events may come anywhere and carry nothing.
An ``error`` event (``{"type": "error", "error": {"type": "overloaded_error", ...}}``) is an
in-band failure and raises a ``ProviderError`` that is retryable unless the API rejected
the request itself. A stream that ends without ``message_stop`` raises a retryable error.

Also here, because the non-streaming codec shares them: the stop-reason map, the usage
reader and the in-band error builder. This module does not build requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast

from reverie._codec import loads_event, reads_payload
from reverie._content import FinishReason, ToolCallPart, Usage
from reverie._errors import InvalidResponseError, ProviderError, mentions_context_limit
from reverie._http.sse import SSEEvent
from reverie._parts import (
    FinishPart,
    ModelStreamPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningStartPart,
    TextDeltaPart,
    TextEndPart,
    TextStartPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
)
from reverie.providers.anthropic.wire import ContentBlockPayload, DeltaPayload, EventPayload, UsagePayload

PROVIDER = "anthropic"

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


@dataclass(slots=True)
class _Block:
    kind: Literal["text", "reasoning", "tool", "ignored"]
    id: str
    name: str = ""
    input: str = ""


class AnthropicStreamDecoder:
    """Stateful decoder for one streamed Anthropic message."""

    def __init__(self) -> None:
        self._blocks: dict[int, _Block] = {}
        self._usage: dict[str, int] = {}
        self._stop_reason: str | None = None
        self._finished = False

    @reads_payload("Anthropic stream event")
    def feed(self, event: SSEEvent) -> list[ModelStreamPart]:
        """Translate one event."""
        payload = loads_event(event)
        if not isinstance(payload, dict):
            raise InvalidResponseError("stream event is not a JSON object", body=event.data)
        data = cast(EventPayload, payload)
        # The data's "type" repeats the SSE event name; it is what the API documents.
        kind = data.get("type") or event.event
        if kind == "error":
            raise inband_error(data.get("error"))
        if kind == "message_start":
            self._add_usage((data.get("message") or {}).get("usage"))
        elif kind == "content_block_start":
            return self._start(data.get("index", len(self._blocks)), data.get("content_block") or {})
        elif kind == "content_block_delta":
            block = self._blocks.get(data.get("index", -1))
            if block is not None:
                return _delta(block, data.get("delta") or {})
        elif kind == "content_block_stop":
            block = self._blocks.pop(data.get("index", -1), None)
            if block is not None:
                return _stop(block)
        elif kind == "message_delta":
            reason = (data.get("delta") or {}).get("stop_reason")
            if reason:
                self._stop_reason = reason
            self._add_usage(data.get("usage"))
        elif kind == "message_stop":
            self._finished = True
            return [FinishPart(finish_reason=map_stop_reason(self._stop_reason), usage=self._total_usage())]
        return []

    @reads_payload("Anthropic stream")
    def end(self) -> list[ModelStreamPart]:
        """Nothing to flush; raise a retryable error if ``message_stop`` never came."""
        if not self._finished:
            raise ProviderError(
                "the stream ended before the model finished (no message_stop)", retryable=True
            )
        return []

    def _add_usage(self, usage: UsagePayload | None) -> None:
        # message_start carries the input and cache counts, message_delta the final output
        # count (and, lately, the input counts again): a later value replaces an earlier one.
        for key, value in (usage or {}).items():
            if isinstance(value, int):
                self._usage[key] = value

    def _total_usage(self) -> Usage:
        return read_usage(cast(UsagePayload, self._usage))

    def _start(self, index: int, content: ContentBlockPayload) -> list[ModelStreamPart]:
        kind = content.get("type")
        block_id = str(index)
        if kind == "text":
            self._blocks[index] = _Block("text", block_id)
            text = content.get("text") or ""
            return [TextStartPart(id=block_id), *([TextDeltaPart(id=block_id, delta=text)] if text else [])]
        if kind == "thinking":
            self._blocks[index] = _Block("reasoning", block_id)
            parts: list[ModelStreamPart] = [ReasoningStartPart(id=block_id)]
            text, signature = content.get("thinking") or "", content.get("signature") or ""
            if text or signature:
                metadata = {PROVIDER: {"signature": signature}} if signature else {}
                parts.append(ReasoningDeltaPart(id=block_id, delta=text, provider_metadata=metadata))
            return parts
        if kind == "redacted_thinking":
            # {"type": "redacted_thinking", "data": "<opaque>"}: no readable text, but the data
            # must go back verbatim on the next step, so it rides on the reasoning part.
            self._blocks[index] = _Block("reasoning", block_id)
            metadata = {PROVIDER: {"redacted_data": content.get("data") or ""}}
            return [
                ReasoningStartPart(id=block_id),
                ReasoningDeltaPart(id=block_id, delta="", provider_metadata=metadata),
            ]
        if kind == "tool_use":
            call_id = content.get("id") or f"toolu_{index}"
            block = _Block("tool", call_id, name=content.get("name") or "")
            self._blocks[index] = block
            # The block starts with "input": {} and the JSON follows in input_json_delta pieces.
            initial = content.get("input")
            if isinstance(initial, dict) and initial:
                block.input = json.dumps(initial, ensure_ascii=False, separators=(",", ":"))
            parts = [ToolInputStartPart(id=call_id, tool_name=block.name)]
            if block.input:
                parts.append(ToolInputDeltaPart(id=call_id, delta=block.input))
            return parts
        self._blocks[index] = _Block("ignored", block_id)
        return []


def _delta(block: _Block, delta: DeltaPayload) -> list[ModelStreamPart]:
    kind = delta.get("type")
    if block.kind == "text" and kind == "text_delta":
        text = delta.get("text") or ""
        return [TextDeltaPart(id=block.id, delta=text)] if text else []
    if block.kind == "reasoning" and kind == "thinking_delta":
        text = delta.get("thinking") or ""
        return [ReasoningDeltaPart(id=block.id, delta=text)] if text else []
    if block.kind == "reasoning" and kind == "signature_delta":
        signature = delta.get("signature") or ""
        return [
            ReasoningDeltaPart(id=block.id, delta="", provider_metadata={PROVIDER: {"signature": signature}})
        ]
    if block.kind == "tool" and kind == "input_json_delta":
        # The first piece is "" (recorded); skip empty pieces.
        piece = delta.get("partial_json") or ""
        if not piece:
            return []
        block.input += piece
        return [ToolInputDeltaPart(id=block.id, delta=piece)]
    return []


def _stop(block: _Block) -> list[ModelStreamPart]:
    if block.kind == "text":
        return [TextEndPart(id=block.id)]
    if block.kind == "reasoning":
        return [ReasoningEndPart(id=block.id)]
    if block.kind == "tool":
        # A call without arguments streams no JSON at all; its input is the empty object
        # (the Vercel AI SDK does the same).
        return [
            ToolInputEndPart(id=block.id),
            ToolCallPart(tool_call_id=block.id, tool_name=block.name, input=block.input or "{}"),
        ]
    return []

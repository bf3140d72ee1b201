"""Decoding an Anthropic Messages stream (named SSE events) into reverie stream parts.

The stream is ``message_start``, then per content block ``content_block_start`` /
``content_block_delta`` (any number) / ``content_block_stop``, then ``message_delta`` (stop reason and
output tokens) and ``message_stop``; ``ping`` events may come anywhere and carry nothing.
An ``error`` event (``{"type": "error", "error": {"type": "overloaded_error", ...}}``) is an
in-band failure and raises a ``ProviderError`` that is retryable unless the API rejected
the request itself. ``message_stop`` completes the answer even when no ``message_delta``
named a stop reason (the finish reason is then ``unknown``, and nothing is retried); a stream
that ends without ``message_stop`` raises a retryable error.

Tools the API runs itself stream like tool calls (``server_tool_use`` with ``input_json_delta``
pieces) and end as provider-executed ``tool_call`` parts; their results arrive whole in one
``content_block_start`` (``web_search_tool_result``) and become provider-executed
``tool_result`` parts plus ``source`` parts; ``citations_delta`` events add a ``source`` for
each newly cited URL.

The stop-reason map, the usage reader, the source list and the in-band error builder are
shared with the non-streaming reader in ``decode.py``. This module does not build requests.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, cast

from reverie._codec import expect_string, loads_event, reads_payload
from reverie._content import ToolCallPart, Usage
from reverie._errors import InvalidResponseError, ProviderError
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
from reverie.providers.anthropic.decode import SourceList, inband_error, map_stop_reason, read_usage
from reverie.providers.anthropic.server_tools import (
    is_server_call,
    is_server_result,
    server_call,
    server_result,
)
from reverie.providers.anthropic.wire import (
    PROVIDER,
    ContentBlockPayload,
    DeltaPayload,
    EventPayload,
    UsagePayload,
)


@dataclass(slots=True)
class _Block:
    kind: Literal["text", "reasoning", "tool", "server_tool", "ignored"]
    id: str
    name: str = ""
    input: str = ""
    start: dict[str, Any] | None = None
    """A server tool's ``content_block_start`` block (its type and extra fields)."""


class AnthropicStreamDecoder:
    """Stateful decoder for one streamed Anthropic message."""

    def __init__(self) -> None:
        self._blocks: dict[int, _Block] = {}
        self._usage: dict[str, int] = {}
        self._stop_reason: str | None = None
        self._finished = False
        self._response_id: str | None = None
        self._model_id: str | None = None
        self._tool_names: dict[str, str] = {}
        self._sources = SourceList()

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
            message = data.get("message") or {}
            self._add_usage(message.get("usage"))
            self._response_id = expect_string(message.get("id"), "message.id") or None
            self._model_id = expect_string(message.get("model"), "message.model") or None
        elif kind == "content_block_start":
            return self._start(data.get("index", len(self._blocks)), data.get("content_block") or {})
        elif kind == "content_block_delta":
            block = self._blocks.get(data.get("index", -1))
            if block is not None:
                delta = data.get("delta") or {}
                if delta.get("type") == "citations_delta":
                    return list(self._sources.cited([delta.get("citation")]))
                return _delta(block, delta)
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
            return [
                FinishPart(
                    finish_reason=map_stop_reason(self._stop_reason),
                    usage=self._total_usage(),
                    response_id=self._response_id,
                    model_id=self._model_id,
                )
            ]
        return []

    @property
    def reported_usage(self) -> Usage | None:
        """The usage reported so far (``message_start`` has it): billed if the stream breaks."""
        return self._total_usage() if self._usage else None

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
        if kind == "tool_use" or is_server_call(kind or ""):
            call_id = content.get("id") or f"toolu_{index}"
            block = _Block("tool", call_id, name=content.get("name") or "")
            if kind != "tool_use":
                block.kind, block.start = "server_tool", cast(dict[str, Any], content)
                self._tool_names[call_id] = block.name
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
        if is_server_result(kind or ""):
            result, sources = server_result(cast(dict[str, Any], content), self._tool_names)
            return [result, *self._sources.found(sources)]
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
    if block.kind in ("tool", "server_tool") and kind == "input_json_delta":
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
    if block.kind == "server_tool" and block.start is not None:
        return [ToolInputEndPart(id=block.id), server_call(block.start, input_json=block.input)]
    return []

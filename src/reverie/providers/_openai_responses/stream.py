"""Decoding a Responses API stream (named SSE events) into reverie stream parts.

Each event's JSON names its ``type``; the ones that carry content are read, every other
type (``response.in_progress``, ``response.content_part.added``, the ``*.done`` events
whose content already arrived as deltas, events of built-in tools, types the API adds
later) is ignored. Blocks are keyed by the output item's ``id``:

- ``response.output_item.added`` opens a reasoning block (``reasoning``), a text block
  (``message``) or a tool input (``function_call``, keyed by its ``call_id``);
- ``response.reasoning_summary_text.delta``, ``response.output_text.delta``,
  ``response.refusal.delta`` and ``response.function_call_arguments.delta`` add to them; a
  second summary of one reasoning item starts with a blank line, as ``decode`` joins them;
- ``response.output_text.annotation.added`` with a ``url_citation`` is a ``source`` part;
- ``response.output_item.done`` closes the block: the reasoning end carries the item's
  ``item_id`` and ``encrypted_content`` (complete only in this event), a function call
  becomes its ``tool_call`` part, a ``web_search_call`` (run by the provider) its
  provider-executed ``tool_call`` and ``tool_result`` parts;
- ``response.completed`` / ``response.incomplete`` give usage, id, model and the finish
  reason, emitted as the ``finish`` part when the stream ends; a stream that ends without
  either was cut off and raises a retryable error;
- ``error`` and ``response.failed`` raise the error they carry, retryable or final by
  its code (``decode.response_error``).

This module builds no requests.
"""

from __future__ import annotations

from typing import cast

from reverie._codec import expect_string, loads_event, reads_payload
from reverie._content import Usage
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
from reverie.providers._openai_chat.content import refusal_metadata
from reverie.providers._openai_responses.decode import (
    SUMMARY_SEPARATOR,
    failed_response_error,
    finish_reason,
    read_source,
    read_usage,
    reasoning_metadata,
    response_error,
    tool_call,
    web_search,
)
from reverie.providers._openai_responses.wire import EventPayload, ItemPayload, ResponsePayload


class ResponsesStreamDecoder:
    """Stateful decoder for one streamed response."""

    def __init__(self, key: str) -> None:
        self._key = key
        self._open: dict[str, str] = {}
        """Open blocks: item id -> the kind of block (``reasoning``, ``text``, ``tool``)."""
        self._call_ids: dict[str, str] = {}
        """Function-call item id -> its ``call_id``, the id of its tool-input parts."""
        self._refusals: set[str] = set()
        self._response_id: str | None = None
        self._model_id: str | None = None
        self._final: ResponsePayload | None = None
        self._tool_calls = 0

    @reads_payload("stream event")
    def feed(self, event: SSEEvent) -> list[ModelStreamPart]:
        """Translate one event."""
        payload = loads_event(event)
        if not isinstance(payload, dict):
            raise InvalidResponseError("stream event is not a JSON object", body=event.data)
        data = cast(EventPayload, payload)
        return self._dispatch(data.get("type") or event.event or "", data)

    def _dispatch(self, kind: str, data: EventPayload) -> list[ModelStreamPart]:
        match kind:
            case "response.created" | "response.in_progress":
                return self._response(data)
            case "response.completed" | "response.incomplete":
                return self._finished(data)
            case "response.failed":
                raise failed_response_error(data.get("response") or {})
            case "error":
                raise response_error({"code": data.get("code"), "message": data.get("message")})
            case "response.output_item.added":
                return self._item_added(data)
            case "response.output_item.done":
                return self._item_done(data)
            case "response.reasoning_summary_part.added":
                return self._summary_part_added(data)
            case "response.reasoning_summary_text.delta":
                return self._summary_delta(data)
            case "response.output_text.delta":
                return self._text_delta(data)
            case "response.refusal.delta":
                return self._refusal_delta(data)
            case "response.function_call_arguments.delta":
                return self._arguments_delta(data)
            case "response.output_text.annotation.added":
                return self._annotation(data)
            case _:  # everything else carries nothing new, or is a type added later
                return []

    # --- events ---------------------------------------------------------------------

    def _response(self, data: EventPayload) -> list[ModelStreamPart]:
        response = data.get("response") or {}
        self._response_id = self._response_id or expect_string(response.get("id"), "response.id") or None
        self._model_id = self._model_id or expect_string(response.get("model"), "response.model") or None
        return []

    def _finished(self, data: EventPayload) -> list[ModelStreamPart]:
        self._response(data)
        self._final = data.get("response") or {}
        return []

    def _item_added(self, data: EventPayload) -> list[ModelStreamPart]:
        item = data.get("item") or {}
        item_id = expect_string(item.get("id"), "item.id")
        kind = item.get("type")
        if kind == "reasoning":
            self._open[item_id] = "reasoning"
            return [ReasoningStartPart(id=item_id)]
        if kind == "message":
            self._open[item_id] = "text"
            return [TextStartPart(id=item_id)]
        if kind == "function_call":
            call_id = expect_string(item.get("call_id"), "function_call.call_id") or item_id
            self._open[item_id] = "tool"
            self._call_ids[item_id] = call_id
            name = expect_string(item.get("name"), "function_call.name")
            return [ToolInputStartPart(id=call_id, tool_name=name)]
        return []

    def _summary_part_added(self, data: EventPayload) -> list[ModelStreamPart]:
        index = data.get("summary_index", 0)
        item_id = expect_string(data.get("item_id"), "item_id")
        if index and self._open.get(item_id) == "reasoning":
            return [ReasoningDeltaPart(id=item_id, delta=SUMMARY_SEPARATOR)]
        return []

    def _summary_delta(self, data: EventPayload) -> list[ModelStreamPart]:
        delta = expect_string(data.get("delta"), "delta")
        item_id = expect_string(data.get("item_id"), "item_id")
        return [ReasoningDeltaPart(id=item_id, delta=delta)] if delta else []

    def _text_delta(self, data: EventPayload) -> list[ModelStreamPart]:
        delta = expect_string(data.get("delta"), "delta")
        item_id = expect_string(data.get("item_id"), "item_id")
        return [TextDeltaPart(id=item_id, delta=delta)] if delta else []

    def _refusal_delta(self, data: EventPayload) -> list[ModelStreamPart]:
        # A refusal is a text block of its own, marked from its start (as in chat completions).
        delta = expect_string(data.get("delta"), "delta")
        block = f"{expect_string(data.get('item_id'), 'item_id')}-refusal"
        parts: list[ModelStreamPart] = []
        if block not in self._refusals:
            self._refusals.add(block)
            parts.append(TextStartPart(id=block, provider_metadata=refusal_metadata(self._key)))
        if delta:
            parts.append(TextDeltaPart(id=block, delta=delta))
        return parts

    def _arguments_delta(self, data: EventPayload) -> list[ModelStreamPart]:
        delta = expect_string(data.get("delta"), "delta")
        item_id = expect_string(data.get("item_id"), "item_id")
        call_id = self._call_ids.get(item_id, item_id)
        return [ToolInputDeltaPart(id=call_id, delta=delta)] if delta else []

    def _annotation(self, data: EventPayload) -> list[ModelStreamPart]:
        source = read_source(data.get("annotation") or {})
        return [source] if source is not None else []

    def _item_done(self, data: EventPayload) -> list[ModelStreamPart]:
        item: ItemPayload = data.get("item") or {}
        item_id = expect_string(item.get("id"), "item.id")
        kind = item.get("type")
        opened = self._open.pop(item_id, None)
        if kind == "reasoning":
            parts: list[ModelStreamPart] = [] if opened else [ReasoningStartPart(id=item_id)]
            parts.append(ReasoningEndPart(id=item_id, provider_metadata=reasoning_metadata(item, self._key)))
            return parts
        if kind == "message":
            parts = [TextEndPart(id=item_id)] if opened else []
            parts.extend(
                TextEndPart(id=block) for block in sorted(self._refusals) if block.startswith(item_id)
            )
            return parts
        if kind == "web_search_call":
            return list(web_search(item))
        if kind == "function_call":
            call = tool_call(item)
            self._tool_calls += 1
            parts = [] if opened else [ToolInputStartPart(id=call.tool_call_id, tool_name=call.tool_name)]
            parts.extend([ToolInputEndPart(id=call.tool_call_id), call])
            return parts
        return []

    # --- end ------------------------------------------------------------------------

    def end(self) -> list[ModelStreamPart]:
        """The ``finish`` part; a stream that never finished raises a retryable error."""
        if self._final is None:
            raise ProviderError(
                "the stream ended before the response finished (no response.completed)", retryable=True
            )
        final = self._final
        return [
            FinishPart(
                finish_reason=finish_reason(final, has_tool_calls=self._tool_calls > 0),
                usage=read_usage(final.get("usage")) if final.get("usage") else Usage(),
                response_id=self._response_id,
                model_id=self._model_id,
            )
        ]

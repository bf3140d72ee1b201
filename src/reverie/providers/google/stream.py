"""Decoding a Gemini ``streamGenerateContent?alt=sse`` stream into reverie stream parts.

Each SSE event (separated by CRLF CRLF) is a whole ``GenerateContentResponse`` chunk:
text and thought parts arrive in fragments, function calls arrive whole (and without
ids), ``finishReason`` and ``usageMetadata`` come with the last chunk. The ``finish`` part is
emitted when the stream ends; a stream without a finish reason (or a prompt block) raises
a retryable error, and an ``{"error": {...}}`` chunk raises at once.

Also here, because the non-streaming codec shares them: reading parts, minting call ids,
mapping finish reasons, reading usage and building in-band errors. No requests are built here.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Literal, cast

from reverie._codec import loads_event, reads_payload
from reverie._content import FilePart, FinishReason, ProviderMetadata, ToolCallPart, Usage
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
from reverie.providers.google.wire import CandidatePayload, PartPayload, ResponsePayload, UsagePayload

PROVIDER = "google"

_FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "FINISH_REASON_UNSPECIFIED": "unknown",
}
_TRANSIENT_STATUSES = frozenset(
    {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED"}
)


def map_finish_reason(reason: str | None, *, has_calls: bool) -> FinishReason:
    """The unified finish reason; ``STOP`` with function calls is a tool-call step.

    Gemini answers ``"finishReason": "STOP"`` also when the turn consists of function calls
    (recorded), so the calls decide.
    """
    if reason is None:
        return "unknown"
    if reason == "STOP" and has_calls:
        return "tool_calls"
    return _FINISH_REASONS.get(reason, "other")


def read_usage(usage: UsagePayload | None) -> Usage:
    """Token counts; thoughts count as reasoning tokens, cached content as cache reads."""
    if not usage:
        return Usage()
    input_tokens = (usage.get("promptTokenCount") or 0) + (usage.get("toolUsePromptTokenCount") or 0)
    output_tokens = usage.get("candidatesTokenCount") or 0
    reasoning_tokens = usage.get("thoughtsTokenCount") or 0
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=usage.get("totalTokenCount") or input_tokens + output_tokens + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
        cache_read_tokens=usage.get("cachedContentTokenCount") or 0,
    )


def describe_error(error: Any) -> tuple[int | None, str]:
    """``(code, message)`` of ``{"code": 503, "message": "...", "status": "UNAVAILABLE"}``."""
    if not isinstance(error, dict):
        return None, str(error)
    detail = cast(dict[str, Any], error)
    code = detail.get("code")
    status = detail.get("status")
    message = str(detail.get("message") or "unknown error")
    return (code if isinstance(code, int) else None), (f"{status}: {message}" if status else message)


def inband_error(error: Any) -> ProviderError:
    """The error for an ``{"error": {...}}`` object inside a 200 answer or stream."""
    code, message = describe_error(error)
    status = cast(dict[str, Any], error).get("status") if isinstance(error, dict) else None
    transient = code is None or code in (408, 409, 429) or code >= 500 or status in _TRANSIENT_STATUSES
    return ProviderError(
        message,
        response_body=json.dumps({"error": error}, ensure_ascii=False),
        retryable=transient,
        is_context_too_large=mentions_context_limit(message),
    )


class CallIds:
    """Ids for function calls, which Gemini sends without one.

    As recorded, a call's id is the tool's name (``{"functionCall": {"id": "weather", ...}}``
    goes back on the next step); a second call of the same tool in one response gets
    ``name_2``, ``name_3``, ... so that results can still be told apart.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def mint(self, given: str | None, name: str) -> str:
        """The id of the next call: ``given`` if the API sent one, else derived from ``name``."""
        base = given or name or "call"
        candidate, number = base, 1
        while candidate in self._seen:
            number += 1
            candidate = f"{base}_{number}"
        self._seen.add(candidate)
        return candidate


def signature_metadata(part: PartPayload) -> ProviderMetadata:
    """``{"google": {"thought_signature": ...}}`` when the part carries one, else ``{}``."""
    signature = part.get("thoughtSignature")
    return {PROVIDER: {"thought_signature": signature}} if signature else {}


def function_call_part(part: PartPayload, ids: CallIds) -> ToolCallPart:
    """A tool call from a ``functionCall`` part; its ``thoughtSignature`` stays in the metadata."""
    call = part.get("functionCall") or {}
    name = call.get("name") or ""
    arguments = call.get("args")
    return ToolCallPart(
        tool_call_id=ids.mint(call.get("id"), name),
        tool_name=name,
        input=json.dumps(
            arguments if arguments is not None else {}, ensure_ascii=False, separators=(",", ":")
        ),
        provider_metadata=signature_metadata(part),
    )


def file_part(part: PartPayload) -> FilePart | None:
    """A file from an ``inlineData`` part (generated images), or ``None`` if unreadable."""
    inline = part.get("inlineData") or {}
    try:
        data = base64.b64decode(inline.get("data") or "", validate=True)
    except (binascii.Error, ValueError):
        return None
    return FilePart(data=data, media_type=inline.get("mimeType") or "application/octet-stream")


def response_metadata(payload: ResponsePayload, candidate: CandidatePayload | None) -> ProviderMetadata:
    """Why the answer was cut short, when it was: block reason, finish message, safety ratings."""
    metadata: dict[str, Any] = {}
    feedback = payload.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        metadata["block_reason"] = feedback.get("blockReason")
        if feedback.get("blockReasonMessage"):
            metadata["block_reason_message"] = feedback.get("blockReasonMessage")
        if feedback.get("safetyRatings"):
            metadata["safety_ratings"] = feedback.get("safetyRatings")
    if candidate is not None:
        reason = candidate.get("finishReason")
        if reason and reason != "STOP":
            metadata["finish_reason"] = reason
        if candidate.get("finishMessage"):
            metadata["finish_message"] = candidate.get("finishMessage")
        if candidate.get("safetyRatings"):
            metadata["safety_ratings"] = candidate.get("safetyRatings")
    return {PROVIDER: metadata} if metadata else {}


class GeminiStreamDecoder:
    """Stateful decoder for one streamed Gemini answer."""

    def __init__(self) -> None:
        self._open: tuple[Literal["text", "reasoning"], str] | None = None
        self._blocks = 0
        self._ids = CallIds()
        self._has_calls = False
        self._finish_reason: str | None = None
        self._blocked = False
        self._usage = Usage()
        self._metadata: ProviderMetadata = {}

    @reads_payload("Gemini stream event")
    def feed(self, event: SSEEvent) -> list[ModelStreamPart]:
        """Translate one chunk."""
        payload = loads_event(event)
        if not isinstance(payload, dict):
            raise InvalidResponseError("stream chunk is not a JSON object", body=event.data)
        chunk = cast(ResponsePayload, payload)
        if "error" in chunk:
            raise inband_error(chunk["error"])
        if chunk.get("usageMetadata"):
            self._usage = read_usage(chunk.get("usageMetadata"))
        if (chunk.get("promptFeedback") or {}).get("blockReason"):
            # The prompt itself was blocked: no candidates will come, and that is the finish.
            self._blocked = True
        candidates = chunk.get("candidates") or []
        candidate = candidates[0] if candidates else None
        metadata = response_metadata(chunk, candidate)
        if metadata:
            self._metadata[PROVIDER] = {**self._metadata.get(PROVIDER, {}), **metadata[PROVIDER]}
        if candidate is None:
            return []
        parts: list[ModelStreamPart] = []
        for part in (candidate.get("content") or {}).get("parts") or []:
            parts.extend(self._part(part))
        if candidate.get("finishReason"):
            self._finish_reason = candidate.get("finishReason")
        return parts

    @reads_payload("Gemini stream")
    def end(self) -> list[ModelStreamPart]:
        """Close the open block and emit the finish part."""
        if self._finish_reason is None and not self._blocked:
            raise ProviderError(
                "the stream ended before the model finished (no finishReason)", retryable=True
            )
        parts = self._close()
        reason: FinishReason = (
            "content_filter"
            if self._blocked and self._finish_reason is None
            else map_finish_reason(self._finish_reason, has_calls=self._has_calls)
        )
        parts.append(FinishPart(finish_reason=reason, usage=self._usage, provider_metadata=self._metadata))
        return parts

    def _part(self, part: PartPayload) -> list[ModelStreamPart]:
        if "functionCall" in part:
            parts = self._close()
            call = function_call_part(part, self._ids)
            self._has_calls = True
            return [
                *parts,
                ToolInputStartPart(id=call.tool_call_id, tool_name=call.tool_name),
                ToolInputDeltaPart(id=call.tool_call_id, delta=call.input),
                ToolInputEndPart(id=call.tool_call_id),
                call,
            ]
        if "inlineData" in part:
            file = file_part(part)
            return [*self._close(), file] if file is not None else []
        text = part.get("text") or ""
        if part.get("thought"):
            parts = self._switch("reasoning")
            metadata = signature_metadata(part)
            if text or metadata:
                parts.append(ReasoningDeltaPart(id=self._block_id(), delta=text, provider_metadata=metadata))
            return parts
        if not text:
            # A bare {"text": "", "thoughtSignature": ...} closing a turn carries nothing to show.
            return []
        parts = self._switch("text")
        parts.append(TextDeltaPart(id=self._block_id(), delta=text))
        return parts

    def _block_id(self) -> str:
        assert self._open is not None
        return self._open[1]

    def _switch(self, kind: Literal["text", "reasoning"]) -> list[ModelStreamPart]:
        if self._open is not None and self._open[0] == kind:
            return []
        parts = self._close()
        self._blocks += 1
        block_id = f"{kind}-{self._blocks}"
        self._open = (kind, block_id)
        parts.append(TextStartPart(id=block_id) if kind == "text" else ReasoningStartPart(id=block_id))
        return parts

    def _close(self) -> list[ModelStreamPart]:
        if self._open is None:
            return []
        kind, block_id = self._open
        self._open = None
        return [TextEndPart(id=block_id) if kind == "text" else ReasoningEndPart(id=block_id)]

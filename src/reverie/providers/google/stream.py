"""Decoding a Gemini ``streamGenerateContent?alt=sse`` stream into reverie stream parts.

Each SSE event (separated by CRLF CRLF) is a whole ``GenerateContentResponse`` chunk:
text and thought parts arrive in fragments, function calls arrive whole (Gemini 2.5's
without ids), ``finishReason`` and ``usageMetadata`` come with the last chunk. The ``finish`` part is
emitted when the stream ends; a stream without a finish reason (or a prompt block) raises
a retryable error, and an ``{"error": {...}}`` chunk raises at once.

Signatures keep the shape ``generate`` gives them (``{"google": {"thought_signature": ...}}``):
on a reasoning delta, on a tool call, and, for text, on the block's ``text_end`` part,
because Gemini 3 sends a text block's signature on a trailing ``{"text": ""}`` part (with no
text block open, that part is an empty text block of its own, signed on its end).
A signed call that no thought text came before also gets an empty reasoning block whose
delta carries the signature, as ``generate`` gives it an empty reasoning part.

Reading parts, minting call ids, mapping finish reasons, reading usage and in-band errors
are shared with the non-streaming reader in ``decode.py``. No requests are built here.
"""

from __future__ import annotations

from typing import Literal, cast

from reverie._codec import expect_string, loads_event, reads_payload
from reverie._content import FinishReason, ProviderMetadata, Usage
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
from reverie.providers.google.decode import (
    CallIds,
    file_part,
    function_call_part,
    inband_error,
    map_finish_reason,
    read_usage,
    response_metadata,
    signature_metadata,
)
from reverie.providers.google.wire import PROVIDER, PartPayload, ResponsePayload


class GeminiStreamDecoder:
    """Stateful decoder for one streamed Gemini answer."""

    def __init__(self, ids: CallIds | None = None) -> None:
        self._open: tuple[Literal["text", "reasoning"], str] | None = None
        self._blocks = 0
        self._reasoned = False
        self._ids = ids or CallIds()
        self._has_calls = False
        self._finish_reason: str | None = None
        self._blocked = False
        self._usage = Usage()
        self._metadata: ProviderMetadata = {}
        self._text_metadata: ProviderMetadata = {}
        self._response_id: str | None = None
        self._model_id: str | None = None

    @reads_payload("Gemini stream event")
    def feed(self, event: SSEEvent) -> list[ModelStreamPart]:
        """Translate one chunk."""
        payload = loads_event(event)
        if not isinstance(payload, dict):
            raise InvalidResponseError("stream chunk is not a JSON object", body=event.data)
        chunk = cast(ResponsePayload, payload)
        if "error" in chunk:
            raise inband_error(chunk["error"])
        # Every chunk repeats "responseId" and "modelVersion"; the first that names them wins.
        self._response_id = self._response_id or expect_string(chunk.get("responseId"), "responseId") or None
        self._model_id = self._model_id or expect_string(chunk.get("modelVersion"), "modelVersion") or None
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

    @property
    def reported_usage(self) -> Usage | None:
        """The latest ``usageMetadata`` (every chunk may carry one): billed if the stream breaks."""
        return self._usage if self._usage != Usage() else None

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
        parts.append(
            FinishPart(
                finish_reason=reason,
                usage=self._usage,
                provider_metadata=self._metadata,
                response_id=self._response_id,
                model_id=self._model_id,
            )
        )
        return parts

    def _part(self, part: PartPayload) -> list[ModelStreamPart]:
        if "functionCall" in part:
            parts = self._close()
            signature = signature_metadata(part)
            if signature and not self._reasoned:
                # As in generate: a signed call with no thought text before it still
                # yields a reasoning part, empty, that carries the signature.
                parts.extend(self._switch("reasoning"))
                parts.append(ReasoningDeltaPart(id=self._block_id(), delta="", provider_metadata=signature))
                parts.extend(self._close())
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
        signature = signature_metadata(part)
        if not text:
            if not signature:
                return []  # Recorded after function calls: nothing to keep.
            # A bare {"text": "", "thoughtSignature": ...} closes a turn (Gemini 3 streams the
            # text block's signature so): it signs the open text block. With none open it is
            # an empty text block of its own, as generate gives it an empty text part.
            if self._open is not None and self._open[0] == "text":
                self._text_metadata = signature
                return []
            parts = self._switch("text")
            self._text_metadata = signature
            return [*parts, *self._close()]
        parts = self._switch("text")
        if signature:
            self._text_metadata = signature
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
        self._reasoned = self._reasoned or kind == "reasoning"
        self._open = (kind, block_id)
        parts.append(TextStartPart(id=block_id) if kind == "text" else ReasoningStartPart(id=block_id))
        return parts

    def _close(self) -> list[ModelStreamPart]:
        if self._open is None:
            return []
        kind, block_id = self._open
        self._open = None
        if kind == "reasoning":
            return [ReasoningEndPart(id=block_id)]
        # generate keeps a text part's signature on the TextPart; here it rides on the block's
        # end, in the same {"google": {"thought_signature": ...}} shape, for the step builder.
        metadata, self._text_metadata = self._text_metadata, {}
        return [TextEndPart(id=block_id, provider_metadata=metadata)]

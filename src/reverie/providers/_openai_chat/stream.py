"""Decoding a ``chat.completion.chunk`` stream into reverie stream parts.

Observed upstream variations this handles (see the recorded streams):
- the first fragment of a tool call carries ``id``/``name``; later ones only ``index`` and
  an ``arguments`` piece (OpenAI), or the whole call arrives at once (Groq, DeepInfra);
  Fireworks sends one more empty fragment after the JSON is complete, so calls are only
  emitted when the stream ends;
- ``finish_reason`` arrives on its own chunk, or on every tool-call chunk (DeepInfra), and
  usage on a later chunk (OpenRouter) or one with ``"choices": []`` (OpenAI, Groq), so the
  ``finish`` part is emitted when the stream ends, not when the reason is first seen;
- an ``{"error": ...}`` chunk is an in-band failure and raises;
- only choice 0 is read; chunks for other choices are ignored;
- requested token logprobs come a few per chunk; they are gathered for the finish part's
  ``provider_metadata[<provider>]["logprobs"]``;
- ``delta.content`` may be a list of typed parts (Mistral, Magistral: ``text`` and
  ``thinking``), read by ``content.split_content``; ``delta.refusal`` is a text block of
  its own whose metadata marks it as a refusal;
- ``data: [DONE]`` ends a complete stream even when no ``finish_reason`` came (some
  servers never send one): the finish reason is then ``unknown``. Only a stream that ends
  with neither is cut off, and raises a retryable error;
- ``reasoning_details`` come in pieces; they are gathered (``reasoning.StreamedDetails``) and
  given to the reasoning block when it ends.

Where the variants differ (reasoning fields, usage extras, finish metadata) the decoder
asks the codec through the ``StreamHooks`` protocol. This module builds no requests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from reverie import _json
from reverie._codec import SHAPE_ERRORS, expect_string
from reverie._content import ProviderMetadata, ToolCallPart, Usage
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
from reverie._record import Record
from reverie.providers._openai_chat.content import refusal_metadata, split_content
from reverie.providers._openai_chat.decode import add_logprobs, first_choice, logprobs_of, map_finish_reason
from reverie.providers._openai_chat.reasoning import StreamedDetails, details_of
from reverie.providers._openai_chat.wire import (
    ChoicePayload,
    CompletionPayload,
    MessagePayload,
    ToolCallPayload,
    UsagePayload,
)

_TEXT_ID = "text"
_REASONING_ID = "reasoning"
_REFUSAL_ID = "refusal"
_DONE = "[DONE]"


class StreamHooks(Protocol):
    """The codec hooks a stream is decoded with (see ``OpenAIChatCodec``)."""

    @property
    def name(self) -> str:
        """The provider's key in provider metadata."""
        ...

    reasoning_keys: ClassVar[frozenset[str]]
    """Delta fields that carry reasoning; ``extract_reasoning_delta`` runs only when one is present."""

    def extract_reasoning_delta(self, delta: MessagePayload) -> tuple[str, ProviderMetadata]:
        """The reasoning text (and metadata) carried by a stream delta."""
        ...

    def reasoning_metadata(self, details: list[dict[str, Any]]) -> ProviderMetadata:
        """The metadata of a finished reasoning block, from its ``reasoning_details``."""
        ...

    def extract_usage(self, usage: UsagePayload | None) -> tuple[Usage, dict[str, Any]]:
        """Token counts, plus anything the variant wants in provider metadata."""
        ...

    def response_metadata(
        self, completion: CompletionPayload, usage_metadata: dict[str, Any]
    ) -> ProviderMetadata:
        """The provider metadata of the stream's finish, from its last chunk."""
        ...

    def inband_error(self, error: Any) -> ProviderError:
        """The error for an ``{"error": ...}`` chunk."""
        ...


@dataclass(slots=True, repr=False, eq=False)
class _PendingCall(Record):
    id: str
    name: str
    arguments: str


class ChatStreamDecoder:
    """Stateful decoder for one streamed chat completion."""

    def __init__(self, hooks: StreamHooks) -> None:
        self._hooks = hooks
        self._reasoning_keys = hooks.reasoning_keys
        self._text_open = False
        self._text_blocks = 0
        self._open_text_id = _TEXT_ID
        self._refusal_open = False
        self._reasoning_open = False
        self._details = StreamedDetails()
        self._calls: dict[int, _PendingCall] = {}
        self._finish_reason: str | None = None
        self._usage: Usage | None = None
        self._usage_metadata: dict[str, Any] = {}
        self._last_chunk: CompletionPayload = {}
        self._response_id: str | None = None
        self._model_id: str | None = None
        self._done = False
        self._logprobs: list[Any] = []

    def feed(self, event: SSEEvent) -> list[ModelStreamPart]:
        """Translate one chunk (or the ``[DONE]`` marker)."""
        data = event.data
        if data == _DONE:
            self._done = True
            return []
        # Annotations rather than cast() calls below: this runs once per streamed token.
        try:
            chunk: CompletionPayload = _json.loads(data)
        except ValueError:
            raise InvalidResponseError("malformed JSON in stream event", body=data) from None
        if type(chunk) is not dict:  # pyright: ignore[reportUnnecessaryComparison] - untrusted JSON
            raise InvalidResponseError("stream chunk is not a JSON object", body=data)
        # ``reads_payload``'s guard, written out: the decorator's extra call would run per token.
        try:
            if "error" in chunk:
                raise self._hooks.inband_error(chunk["error"])
            self._last_chunk = chunk
            # Every chunk repeats the completion's "id" and "model"; the first one that names
            # them wins, as the usage-only last chunk of some upstreams may leave them out.
            if self._response_id is None:
                self._response_id = expect_string(chunk.get("id"), "id") or None
            if self._model_id is None:
                self._model_id = expect_string(chunk.get("model"), "model") or None
            parts: list[ModelStreamPart] = []
            usage = chunk.get("usage")
            if usage:
                self._usage, self._usage_metadata = self._hooks.extract_usage(usage)
            # The common case first (one choice, index 0) without the general search: this runs per token.
            choices = chunk.get("choices")
            choice: ChoicePayload | None = None
            if type(choices) is list and choices:  # pyright: ignore[reportUnnecessaryComparison]
                head = choices[0]
                if type(head) is dict and head.get("index", 0) == 0:  # pyright: ignore[reportUnnecessaryComparison]
                    choice = head
            if choice is None:
                choice = first_choice(choices)
            if choice is None:
                return parts
            if choice.get("logprobs"):
                self._logprobs.extend(logprobs_of(choice))
            reason = choice.get("finish_reason")
            if reason:
                self._finish_reason = expect_string(reason, "finish_reason")
            delta = choice.get("delta")
            if not delta:
                return parts
            content = delta.get("content")
            if type(content) is str and self._text_open and len(delta) == 1:
                # Nearly every token: {"content": "..."} for the open text block, and
                # nothing else in the delta to read.
                if content:
                    parts.append(TextDeltaPart(id=self._open_text_id, delta=content))
                return parts
            reasoning_keys = self._reasoning_keys
            if reasoning_keys and not reasoning_keys.isdisjoint(delta):
                parts.extend(self._reasoning(delta))
            if type(content) is str:  # plain text
                if content and self._text_open:
                    parts.append(TextDeltaPart(id=self._open_text_id, delta=content))
                elif content:
                    parts.extend(self._text(content))
            elif content is not None:
                thinking, text = split_content(content, "delta.content")
                if thinking:
                    parts.extend(self._reasoning_piece(thinking, {}))
                if text:
                    parts.extend(self._text(text))
            refusal = delta.get("refusal")
            if refusal:
                parts.extend(self._refusal(expect_string(refusal, "delta.refusal")))
            tool_calls = delta.get("tool_calls")
            if tool_calls:
                # A tool call ends the text before it; text after it is a block of its own
                # (as fantasy folds it, so an echoed assistant message matches the recordings).
                if self._text_open:
                    self._text_open = False
                    parts.append(TextEndPart(id=self._text_id))
                for fragment in tool_calls:
                    parts.extend(self._tool_fragment(fragment))
            return parts
        except SHAPE_ERRORS as error:
            raise InvalidResponseError(f"stream chunk has an unexpected shape ({error})") from error

    @property
    def _text_id(self) -> str:
        return _TEXT_ID if self._text_blocks <= 1 else f"{_TEXT_ID}-{self._text_blocks}"

    def _text(self, text: str) -> list[ModelStreamPart]:
        if self._text_open:
            return [TextDeltaPart(id=self._open_text_id, delta=text)]
        self._text_open = True
        self._text_blocks += 1
        self._open_text_id = text_id = self._text_id
        return [TextStartPart(id=text_id), TextDeltaPart(id=text_id, delta=text)]

    def _refusal(self, refusal: str) -> list[ModelStreamPart]:
        # A refusal is a text block of its own, marked as such from its start.
        parts: list[ModelStreamPart] = []
        if not self._refusal_open:
            self._refusal_open = True
            parts.append(TextStartPart(id=_REFUSAL_ID, provider_metadata=refusal_metadata(self._hooks.name)))
        parts.append(TextDeltaPart(id=_REFUSAL_ID, delta=refusal))
        return parts

    def _reasoning(self, delta: MessagePayload) -> list[ModelStreamPart]:
        reasoning, metadata = self._hooks.extract_reasoning_delta(delta)
        details = details_of(delta.get("reasoning_details"))
        self._details.add(details)
        if not reasoning and not metadata and not details:
            return []
        return self._reasoning_piece(reasoning, metadata)

    def _reasoning_piece(self, reasoning: str, metadata: ProviderMetadata) -> list[ModelStreamPart]:
        parts: list[ModelStreamPart] = []
        if not self._reasoning_open:
            self._reasoning_open = True
            parts.append(ReasoningStartPart(id=_REASONING_ID))
        if reasoning or metadata:
            parts.append(ReasoningDeltaPart(id=_REASONING_ID, delta=reasoning, provider_metadata=metadata))
        return parts

    def _tool_fragment(self, fragment: ToolCallPayload) -> list[ModelStreamPart]:
        index = fragment.get("index", len(self._calls))
        if not isinstance(index, int):  # pyright: ignore[reportUnnecessaryIsInstance] - untrusted JSON
            raise InvalidResponseError(f"expected an integer tool call index, got {type(index).__name__}")
        function = fragment.get("function") or {}
        arguments = expect_string(function.get("arguments"), "function.arguments")
        name = expect_string(function.get("name"), "function.name")
        pending = self._calls.get(index)
        parts: list[ModelStreamPart] = []
        if pending is None:
            call_id = expect_string(fragment.get("id"), "tool_calls.id") or f"call_{index}"
            pending = _PendingCall(id=call_id, name=name, arguments="")
            self._calls[index] = pending
            parts.append(ToolInputStartPart(id=call_id, tool_name=pending.name))
        elif not pending.name and name:
            pending.name = name
        if arguments:
            pending.arguments += arguments
            parts.append(ToolInputDeltaPart(id=pending.id, delta=arguments))
        return parts

    @property
    def reported_usage(self) -> Usage | None:
        """The ``usage`` a chunk reported, if one did: billed if the stream breaks after it."""
        return self._usage

    def end(self) -> list[ModelStreamPart]:
        """Close open blocks, emit the tool calls and the finish part."""
        if self._finish_reason is None and not self._done:
            raise ProviderError(
                "the stream ended before the model finished (no finish_reason, no [DONE])",
                retryable=True,
            )
        parts: list[ModelStreamPart] = []
        if self._reasoning_open:
            # The details are complete only now; the block's metadata comes with its end.
            metadata = self._hooks.reasoning_metadata(self._details.result())
            parts.append(ReasoningEndPart(id=_REASONING_ID, provider_metadata=metadata))
        if self._text_open:
            parts.append(TextEndPart(id=self._text_id))
        if self._refusal_open:
            parts.append(TextEndPart(id=_REFUSAL_ID))
        for pending in self._calls.values():
            parts.append(ToolInputEndPart(id=pending.id))
            parts.append(
                ToolCallPart(tool_call_id=pending.id, tool_name=pending.name, input=pending.arguments)
            )
        finish = map_finish_reason(self._finish_reason)
        parts.append(
            FinishPart(
                finish_reason=finish,
                usage=self._usage or Usage(),
                provider_metadata=add_logprobs(
                    self._hooks.response_metadata(self._last_chunk, self._usage_metadata),
                    self._hooks.name,
                    self._logprobs,
                ),
                response_id=self._response_id,
                model_id=self._model_id,
            )
        )
        return parts

"""The OpenAI chat-completions codec, shared by ``openai``, ``openaicompat``, ``openrouter`` and ``vercel``.

``OpenAIChatCodec`` ties the family together: requests are built in ``encode.py``, whole
responses and errors are read in ``decode.py``, streams in ``stream.py``. Variants subclass
it and override its named hooks (after fantasy's ``language_model_hooks.go`` and the
Vercel AI SDK's ``transformRequestBody``): ``is_reasoning_model``, ``prepare_body``,
``extract_usage``, ``extract_reasoning``, ``extract_reasoning_delta`` (with
``reasoning_keys``), ``reasoning_metadata``, ``assistant_fields`` (with ``reasoning_warning``)
and ``response_metadata``. This module holds no wire logic of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from reverie._codec import WireRequest, reads_payload, reasoning_drop_warning
from reverie._content import CallWarning, ContentPart, ProviderMetadata, ReasoningPart, Usage
from reverie._errors import ProviderError
from reverie._model import Call, Response
from reverie.providers._openai_chat import decode, encode

if TYPE_CHECKING:
    from reverie._http.framing import SSEFraming
    from reverie.providers._openai_chat.stream import ChatStreamDecoder
    from reverie.providers._openai_chat.wire import CompletionPayload, MessagePayload, UsagePayload


class OpenAIChatCodec:
    """Wire codec for ``POST {base_url}/chat/completions``."""

    name: str = "openai"
    supports_top_k: ClassVar[bool] = False
    object_mode: ClassVar[Literal["json", "tool"]] = "json"
    """What ``generate_object(mode="auto")`` uses: ``response_format`` json_schema (fantasy v0.41.2)."""
    supports_json_output: ClassVar[bool] = True
    """``Call.response_format`` is encoded as ``response_format`` (strict json_schema)."""

    cache_markers: ClassVar[bool] = False
    """Whether Anthropic ``cache_control`` markers are placed on the request (``cache.py``)."""

    @property
    def framing(self) -> SSEFraming:
        """Streams are SSE whose ``data: [DONE]`` marker reaches the decoder: it ends a complete stream.

        Loaded on first use (the first stream): a plain request reads no framing.
        """
        from reverie._http.framing import SSE_WITH_DONE

        return SSE_WITH_DONE

    reasoning_keys: ClassVar[frozenset[str]] = frozenset()
    """Delta fields that carry reasoning; the stream decoder calls ``extract_reasoning_delta`` only then."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    # --- requests -----------------------------------------------------------------

    def is_reasoning_model(self) -> bool:
        """Hook: whether OpenAI's reasoning-model rules apply (``max_completion_tokens``, no sampling).

        No model is one by default: the rules are OpenAI's, so only the ``openai`` provider
        and the gateways' ``openai/...`` ids apply them (see ``encode.is_reasoning_model``).
        """
        return False

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The chat-completions request for ``call``."""
        warnings: list[CallWarning] = []
        body = encode.request_body(
            call,
            model_id=self.model_id,
            provider=self.name,
            reasoning_model=self.is_reasoning_model(),
            supports_top_k=self.supports_top_k,
            stream=stream,
            warnings=warnings,
            assistant_fields=self.assistant_fields,
            reasoning_warning=self.reasoning_warning,
            cache_markers=self.cache_markers,
        )
        self.prepare_body(body, call, stream=stream, warnings=warnings)
        return WireRequest(path="/chat/completions", body=body, warnings=warnings)

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Hook: add the variant's fields (options, usage accounting) to ``body`` in place."""

    # --- responses ----------------------------------------------------------------

    @reads_payload("chat completion")
    def parse_response(self, payload: Any) -> Response:
        """Read a ``chat.completion`` object."""
        return decode.read_completion(payload, self)

    def extract_reasoning(self, message: MessagePayload) -> list[ReasoningPart]:
        """Hook: reasoning parts of a response message (plain OpenAI returns none)."""
        return []

    def extract_reasoning_delta(self, delta: MessagePayload) -> tuple[str, ProviderMetadata]:
        """Hook: the reasoning text (and metadata) carried by a stream delta."""
        return "", {}

    def reasoning_metadata(self, details: list[dict[str, Any]]) -> ProviderMetadata:
        """Hook: the metadata of a streamed reasoning block, from its ``reasoning_details``."""
        return {}

    def assistant_fields(self, parts: Sequence[ContentPart]) -> dict[str, Any]:
        """Hook: fields an assistant message adds from its parts (reasoning sent back)."""
        return {}

    def reasoning_warning(self, parts: Sequence[ContentPart]) -> CallWarning | None:
        """Hook: the warning for reasoning among ``parts`` that ``assistant_fields`` does not send.

        Plain chat completions take no reasoning back and give none, so any reasoning in a
        history came from another provider and is dropped with a warning.
        """
        return reasoning_drop_warning(parts, reader=f"{self.name} chat completions")

    def extract_usage(self, usage: UsagePayload | None) -> tuple[Usage, dict[str, Any]]:
        """Hook: token counts, plus anything the variant wants in provider metadata."""
        return decode.read_usage(usage), {}

    def response_metadata(
        self, completion: CompletionPayload, usage_metadata: dict[str, Any]
    ) -> ProviderMetadata:
        """Hook: the provider metadata of a response (or of a stream's finish)."""
        return {self.name: usage_metadata} if usage_metadata else {}

    def stream_decoder(self) -> ChatStreamDecoder:
        """A decoder for one ``chat.completion.chunk`` stream."""
        # Imported by the first stream: a program that only makes calls never loads it.
        from reverie.providers._openai_chat.stream import ChatStreamDecoder

        return ChatStreamDecoder(self)

    # --- errors -------------------------------------------------------------------

    rejects_credentials = staticmethod(decode.rejects_credentials)
    """Whether a 4xx answer's body says the key was refused (``Provider.rejects_credentials``)."""

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer, with the provider's own message.

        A 2xx JSON answer to a streaming request is an error report too; its ``error``
        object is read as an in-band error, so its own code decides status and retry.
        """
        return decode.read_error(status_code, headers, body, url, inband_error=self.inband_error)

    def inband_error(self, error: Any) -> ProviderError:
        """The error for an ``{"error": ...}`` object inside a 200 answer or stream."""
        return decode.inband_error(error)

"""Any OpenAI-compatible chat-completions server (Groq, Together, vLLM, Ollama, ...).

    from reverie.providers import openaicompat
    groq = openaicompat.Provider(base_url="https://api.groq.com/openai/v1", api_key="...")
    model = groq.language_model("moonshotai/kimi-k2-instruct-0905")

``base_url`` is required. ``api_key`` is optional (local servers need none); without one
no ``Authorization`` header is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from reverie._codec import dump_options, has_options, provider_options, reasoning_drop_warning
from reverie._content import CallWarning, ContentPart, ProviderMetadata, ReasoningPart
from reverie._model import Call
from reverie._provider import Provider as _BaseProvider
from reverie.providers._lazy import lazy_exports
from reverie.providers._openai_chat.codec import OpenAIChatCodec

if TYPE_CHECKING:
    from reverie.providers._openai_chat.wire import MessagePayload
    from reverie.providers.openaicompat._options import Options

__all__ = ["Codec", "Options", "Provider"]


class Codec(OpenAIChatCodec):
    """Chat-completions codec that reads ``reasoning``/``reasoning_content`` and sends it back."""

    name = "openaicompat"
    supports_top_k = True
    # fantasy v0.41.2 asks OpenAI-compatible servers for objects through a forced tool (the
    # TestOpenAICompatObjectGeneration recordings): support for response_format varies by server.
    object_mode = "tool"

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Copy the options (and ``extra_body``) into the body."""
        if not has_options(call, self.name):
            return  # no options: their module (and pydantic) stays unimported
        from reverie.providers.openaicompat._options import Options

        options = provider_options(call, self.name, Options)
        if options is None:
            return
        fields = dump_options(options)
        extra: dict[str, Any] = fields.pop("extra_body", None) or {}
        body.update(fields)
        body.update(extra)

    def extract_reasoning(self, message: MessagePayload) -> list[ReasoningPart]:
        """``reasoning_details`` read like OpenRouter's, else ``reasoning_content``/``reasoning``."""
        payload = message.get("reasoning_details")
        if payload:  # most answers have none: the details' module loads with the first
            from reverie.providers._openai_chat.reasoning import details_of, parts_from_details

            details = details_of(payload)
            if details:
                return parts_from_details(self.name, details)
        text = _reasoning_text(message)
        return [ReasoningPart(text=text)] if text else []

    reasoning_keys = frozenset({"reasoning", "reasoning_content", "reasoning_details"})

    def extract_reasoning_delta(self, delta: MessagePayload) -> tuple[str, ProviderMetadata]:
        """Reasoning text of a stream delta (its details are gathered by the decoder)."""
        return _reasoning_text(delta), {}

    def reasoning_metadata(self, details: list[dict[str, Any]]) -> ProviderMetadata:
        """A streamed block's ``reasoning_details``, kept as OpenRouter keeps them."""
        from reverie.providers._openai_chat.reasoning import details_metadata  # loaded by the stream decoder

        return details_metadata(self.name, details)

    def assistant_fields(self, parts: Sequence[ContentPart]) -> dict[str, Any]:
        """The previous step's reasoning text goes back as ``reasoning_content``."""
        text = "".join(part.text for part in parts if isinstance(part, ReasoningPart))
        return {"reasoning_content": text} if text else {}

    def reasoning_warning(self, parts: Sequence[ContentPart]) -> CallWarning | None:
        """Reasoning without text (redacted, encrypted) cannot go back; a warning when another provider's."""
        return reasoning_drop_warning(
            parts, reader=self.name, sent=lambda part: bool(part.text), own=(self.name,), plain_is_own=True
        )


def _reasoning_text(message: MessagePayload) -> str:
    raw: Any = message.get("reasoning") or cast("dict[str, Any]", message).get("reasoning_content")
    return raw if isinstance(raw, str) else ""


class Provider(_BaseProvider):
    """An OpenAI-compatible server at ``base_url``."""

    name = "openaicompat"
    api_key_env = None
    codec_type = Codec


__getattr__ = lazy_exports(__name__, "reverie.providers.openaicompat._options", ["Options"])

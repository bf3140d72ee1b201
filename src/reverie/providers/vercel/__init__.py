"""The Vercel AI Gateway: many providers' models behind one chat-completions API.

    from reverie.providers import vercel
    model = vercel.Provider().language_model("anthropic/claude-sonnet-4")  # AI_GATEWAY_API_KEY
    agent.generate("hi", provider_options={"vercel": {"reasoning": {"enabled": True}}})

Requests and answers are OpenAI chat completions (``https://ai-gateway.vercel.sh/v1``).
Options (``vercel.Options``) become body fields; the gateway's own routing (``gateway``,
``byok``) goes in ``providerOptions.gateway``. Reasoning arrives as ``reasoning_details``
like OpenRouter's and is sent back the same way on the next request (Anthropic signatures
are also found in ``provider_metadata["anthropic"]["signature"]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from reverie._codec import dump_options, has_options, provider_options
from reverie._content import CallWarning, ContentPart
from reverie._model import Call
from reverie._provider import Provider as _BaseProvider
from reverie.providers._lazy import lazy_exports
from reverie.providers._openai_chat.gateway import GatewayCodec

if TYPE_CHECKING:
    from reverie.providers.vercel._options import Gateway, Options, Reasoning

__all__ = ["Codec", "Gateway", "Options", "Provider", "Reasoning"]


class Codec(GatewayCodec):
    """The AI Gateway's variant of the chat-completions codec."""

    name = "vercel"

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Options as body fields; ``gateway`` and ``byok`` under ``providerOptions.gateway``."""
        if not has_options(call, self.name):
            return  # no options: their module (and pydantic) stays unimported
        from reverie.providers.vercel._options import Options

        options = provider_options(call, self.name, Options)
        if options is None:
            return
        fields = dump_options(options)
        extra: dict[str, Any] = fields.pop("extra_body", None) or {}
        gateway: dict[str, Any] = fields.pop("gateway", None) or {}
        byok = fields.pop("byok", None)
        if byok is not None:
            gateway["byok"] = byok
        body.update(fields)
        if gateway:
            body["providerOptions"] = {"gateway": gateway}
        body.update(extra)

    def assistant_fields(self, parts: Sequence[ContentPart]) -> dict[str, Any]:
        """The previous step's ``reasoning_details`` (and Anthropic ``reasoning`` text) go back.

        Gemini reasoning that came as text only goes back with an empty encrypted detail
        after it (the place of its thought signature), as the recorded follow-ups show.
        """
        fields = super().assistant_fields(parts)
        details: list[dict[str, Any]] = fields.get("reasoning_details", [])
        google = [detail for detail in details if detail.get("format") == _GOOGLE_FORMAT]
        if google and not any(detail.get("type") == "reasoning.encrypted" for detail in google):
            details.append(
                {"type": "reasoning.encrypted", "format": _GOOGLE_FORMAT, "index": google[-1].get("index", 0)}
            )
        return fields


_GOOGLE_FORMAT = "google-gemini-v1"


class Provider(_BaseProvider):
    """The Vercel AI Gateway (``https://ai-gateway.vercel.sh/v1``).

    The key defaults to ``AI_GATEWAY_API_KEY``.
    """

    name = "vercel"
    api_key_env = "AI_GATEWAY_API_KEY"
    default_base_url = "https://ai-gateway.vercel.sh/v1"
    codec_type = Codec


__getattr__ = lazy_exports(__name__, "reverie.providers.vercel._options", ["Gateway", "Options", "Reasoning"])

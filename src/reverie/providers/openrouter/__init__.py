"""OpenRouter: hundreds of models behind one OpenAI-style API, with routing and cost reporting.

    from reverie.providers import openrouter
    model = openrouter.Provider().language_model("moonshotai/kimi-k2-0905")  # OPENROUTER_API_KEY
    agent.generate("hi", provider_options={"openrouter": {"provider": {"only": ["groq"]}}})

Every request asks for usage accounting (``"usage": {"include": true}``, as the recorded
requests do), so the cost OpenRouter reports lands in ``step.provider_metadata["openrouter"]["cost"]``
and adds up in ``result.total_cost``. Reasoning arrives in ``reasoning`` and
``reasoning_details``; the details are kept on the reasoning parts and sent back on the next
request's assistant message (with the ``reasoning`` text too when the upstream is Anthropic,
whose signature is also found in ``provider_metadata["anthropic"]["signature"]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from reverie._codec import dump_options, has_options, provider_options
from reverie._content import CallWarning, ProviderMetadata, Usage
from reverie._model import Call
from reverie._provider import Provider as _BaseProvider
from reverie.providers._lazy import lazy_exports
from reverie.providers._openai_chat.gateway import GatewayCodec
from reverie.providers._openai_chat.wire import CompletionPayload, UsagePayload

if TYPE_CHECKING:
    from reverie.providers.openrouter._options import Options, ProviderRouting, Reasoning, UsageAccounting

__all__ = ["Codec", "Options", "Provider", "ProviderRouting", "Reasoning", "UsageAccounting"]


class Codec(GatewayCodec):
    """OpenRouter's variant of the chat-completions codec."""

    name = "openrouter"
    supports_top_k = True

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Options as given, plus usage accounting."""
        if has_options(call, self.name):  # else their module (and pydantic) stays unimported
            from reverie.providers.openrouter._options import Options

            options = provider_options(call, self.name, Options)
            if options is not None:
                body.update(dump_options(options))
        body.setdefault("usage", {"include": True})

    def extract_usage(self, usage: UsagePayload | None) -> tuple[Usage, dict[str, Any]]:
        """Token counts, and the reported cost for the provider metadata."""
        counts, _ = super().extract_usage(usage)
        extra: dict[str, Any] = {}
        if usage:
            raw = cast(dict[str, Any], usage)
            for key in ("cost", "is_byok", "cost_details"):
                if raw.get(key) is not None:
                    extra[key] = raw[key]
        return counts, extra

    def response_metadata(
        self, completion: CompletionPayload, usage_metadata: dict[str, Any]
    ) -> ProviderMetadata:
        """The upstream that served the request and the cost it reported."""
        metadata = dict(usage_metadata)
        upstream = completion.get("provider")
        if upstream:
            metadata["provider"] = upstream
        return {self.name: metadata} if metadata else {}


class Provider(_BaseProvider):
    """OpenRouter (``https://openrouter.ai/api/v1``); the key defaults to ``OPENROUTER_API_KEY``."""

    name = "openrouter"
    api_key_env = "OPENROUTER_API_KEY"
    default_base_url = "https://openrouter.ai/api/v1"
    codec_type = Codec


__getattr__ = lazy_exports(
    __name__,
    "reverie.providers.openrouter._options",
    ["Options", "ProviderRouting", "Reasoning", "UsageAccounting"],
)

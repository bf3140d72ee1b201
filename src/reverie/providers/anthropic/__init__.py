"""Anthropic (Claude) over the Messages API.

    from reverie.providers import anthropic
    model = anthropic.Provider().language_model("claude-sonnet-4-20250514")  # ANTHROPIC_API_KEY
    agent.generate("hi", provider_options={"anthropic": {"thinking": {"budget_tokens": 4000}}})

Requests carry the key in ``x-api-key`` and ``anthropic-version: 2023-06-01``. Thinking
keeps each reasoning part's signature in ``provider_metadata["anthropic"]["signature"]`` and
sends it back on the next step; prompt-caching markers are set per message, part or tool
with ``provider_options={"anthropic": {"cache_control": {"type": "ephemeral"}}}``.

Provider-defined tools: ``web_search()`` (run by Anthropic; its results and sources come back
in the answer) and ``computer_use()`` (run by your code; requests go to the beta endpoint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reverie._codec import WireRequest
from reverie._http.endpoint import Endpoint, join_url
from reverie._provider import Provider as _BaseProvider
from reverie.providers._lazy import lazy_exports
from reverie.providers.anthropic.codec import AnthropicCodec as Codec
from reverie.providers.anthropic.tools import computer_use, web_search

if TYPE_CHECKING:
    from reverie.providers.anthropic._options import CacheControl, Options, Thinking

__all__ = [
    "API_VERSION",
    "CacheControl",
    "Codec",
    "Options",
    "Provider",
    "Thinking",
    "computer_use",
    "web_search",
]

API_VERSION = "2023-06-01"
"""The ``anthropic-version`` header sent with every request."""


class Provider(_BaseProvider):
    """Anthropic (``https://api.anthropic.com/v1``); the key defaults to ``ANTHROPIC_API_KEY``."""

    name = "anthropic"
    api_key_env = "ANTHROPIC_API_KEY"
    default_base_url = "https://api.anthropic.com/v1"
    codec_type = Codec

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The key travels in ``x-api-key``, not as a bearer token."""
        return {"x-api-key": api_key}

    def endpoint(self, model_id: str, request: WireRequest, *, stream: bool) -> Endpoint:
        """``{base_url}/messages``, or ``/messages?beta=true`` for a request using a beta feature.

        A beta request is one whose codec set an ``anthropic-beta`` header (computer use), as
        Anthropic's own SDKs send it.
        """
        endpoint = super().endpoint(model_id, request, stream=stream)
        if "anthropic-beta" not in request.headers:
            return endpoint
        return Endpoint(join_url(self.base_url, request.path, {"beta": "true"}), endpoint.headers)

    def request_headers(self) -> dict[str, str]:
        """The base headers plus ``anthropic-version`` (a caller's own value wins)."""
        headers = super().request_headers()
        headers.setdefault("anthropic-version", API_VERSION)
        return headers


__getattr__ = lazy_exports(
    __name__, "reverie.providers.anthropic._options", ["CacheControl", "Options", "Thinking"]
)

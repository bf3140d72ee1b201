"""Google Gemini over the Gemini API (``generativelanguage.googleapis.com``).

    from reverie.providers import google
    model = google.Provider().language_model("gemini-2.5-flash")  # GEMINI_API_KEY or GOOGLE_API_KEY
    agent.generate("hi", provider_options={"google": {"thinking_config": {"include_thoughts": True}}})

The key travels in the ``x-goog-api-key`` header, never in the URL. Tool schemas are
converted to Gemini's dialect (``to_gemini_schema``); what it cannot express is dropped
with a warning. Thought summaries become reasoning parts; a function call the response
leaves without an id (Gemini 2.5 does) gets one from ``tool_call_id`` (default: a random
UUID4 string), which goes back as ``functionCall.id`` / ``functionResponse.id``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import httpx2

from reverie._errors import MissingAPIKeyError
from reverie._provider import ApiKey
from reverie._provider import Provider as _BaseProvider
from reverie._rate_limiter import RateLimiter
from reverie.providers._lazy import lazy_exports
from reverie.providers.google.codec import GeminiCodec as Codec
from reverie.providers.google.schema import to_gemini_schema

if TYPE_CHECKING:
    from reverie.providers.google._options import Options, SafetySetting, ThinkingConfig

__all__ = ["Codec", "Options", "Provider", "SafetySetting", "ThinkingConfig", "to_gemini_schema"]

_FALLBACK_ENV = "GOOGLE_API_KEY"


class Provider(_BaseProvider):
    """Gemini (``https://generativelanguage.googleapis.com/v1beta``).

    The key defaults to ``GEMINI_API_KEY``, then ``GOOGLE_API_KEY``.

    Args:
        tool_call_id: Makes the id of each function call a response leaves without one
            (default: a random UUID4 string), e.g. a counter for reproducible requests.
        api_key: The key (default: ``GEMINI_API_KEY``, then ``GOOGLE_API_KEY``), or a
            zero-argument callable, sync or async, returning it: called on the first
            request and once more when the server refuses its key.
        base_url: The API root (default: ``https://generativelanguage.googleapis.com/v1beta``).
        headers: Extra headers sent with every request.
        http_client: The ``httpx2.Client`` of sync calls (default: created on first use).
        async_http_client: The ``httpx2.AsyncClient`` of async calls.
        timeout: The default clients' timeouts, in seconds or an ``httpx2.Timeout``
            (default: connect 5 s, read 600 s).
        max_connections: The most connections each default client opens (default 1,000).
        max_keepalive_connections: Idle connections each default client keeps (default 100).
        rate_limiter: A ``reverie.RateLimiter`` every request of this provider waits on.
        max_response_bytes: The largest response (or stream event) accepted.
    """

    name = "google"
    api_key_env = "GEMINI_API_KEY"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    codec_type = Codec

    def __init__(
        self,
        *,
        api_key: ApiKey | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx2.Client | None = None,
        async_http_client: httpx2.AsyncClient | None = None,
        timeout: float | httpx2.Timeout | None = None,
        max_connections: int | None = None,
        max_keepalive_connections: int | None = None,
        rate_limiter: RateLimiter | None = None,
        max_response_bytes: int | None = None,
        tool_call_id: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            headers=headers,
            http_client=http_client,
            async_http_client=async_http_client,
            timeout=timeout,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            rate_limiter=rate_limiter,
        )
        if max_response_bytes is not None:  # None keeps the base class's default
            self.max_response_bytes = max_response_bytes
        self.tool_call_id = tool_call_id

    def codec(self, model_id: str) -> Codec:
        """The Gemini codec for ``model_id``, minting call ids with ``tool_call_id``."""
        return Codec(model_id, tool_call_id=self.tool_call_id)

    def _resolve_api_key(self, api_key: str | None) -> str | None:
        if api_key:
            return api_key
        value = os.environ.get("GEMINI_API_KEY") or os.environ.get(_FALLBACK_ENV)
        if not value:
            raise MissingAPIKeyError(
                provider=self.name, parameter="api_key", env_var=f"GEMINI_API_KEY or {_FALLBACK_ENV}"
            )
        return value

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The key travels in ``x-goog-api-key`` (a ``key=`` query would leak into logs)."""
        return {"x-goog-api-key": api_key}


__getattr__ = lazy_exports(
    __name__, "reverie.providers.google._options", ["Options", "SafetySetting", "ThinkingConfig"]
)

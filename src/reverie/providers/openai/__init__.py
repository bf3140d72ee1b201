"""OpenAI, over the chat-completions API or the Responses API.

    from reverie.providers import openai
    model = openai.Provider().language_model("gpt-4o")   # key from OPENAI_API_KEY
    responses = openai.Provider(api="responses").language_model("gpt-5")

Chat completions take ``openai.Options``; the Responses API (``POST /responses``) takes
``openai.ResponsesOptions``, both under the ``openai`` key of ``provider_options``. The
Responses API also runs OpenAI's built-in web search (``openai.web_search()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

import httpx2

from reverie._codec import WireRequest, dump_options, has_options, provider_options
from reverie._content import CallWarning
from reverie._errors import UserError
from reverie._model import Call
from reverie._provider import ApiKey
from reverie._provider import Provider as _BaseProvider
from reverie._rate_limiter import RateLimiter
from reverie.providers._lazy import lazy_exports
from reverie.providers._openai_chat.codec import OpenAIChatCodec
from reverie.providers._openai_chat.encode import is_reasoning_model
from reverie.providers._openai_responses.codec import OpenAIResponsesCodec
from reverie.providers._openai_responses.tools import check_chat_tools, web_search

if TYPE_CHECKING:
    from reverie.providers.openai._options import Options, ResponsesOptions

__all__ = ["Codec", "Options", "Provider", "ResponsesCodec", "ResponsesOptions", "web_search"]

Api = Literal["chat", "responses"]
"""Which OpenAI API a provider's models speak."""


class Codec(OpenAIChatCodec):
    """OpenAI's chat-completions codec."""

    name = "openai"

    def is_reasoning_model(self) -> bool:
        """OpenAI's reasoning models (o1, o3, o4, gpt-5 but not gpt-5-chat) follow their rules."""
        return is_reasoning_model(self.model_id)

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The chat-completions request; OpenAI's built-in tools are refused (Responses API only)."""
        check_chat_tools(call)
        return super().build_request(call, stream=stream)

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Copy the typed ``openai`` options into the body."""
        if not has_options(call, self.name):
            return  # no options: their module (and pydantic) stays unimported
        from reverie.providers.openai._options import Options

        options = provider_options(call, self.name, Options)
        if options is not None:
            body.update(dump_options(options))


class ResponsesCodec(OpenAIResponsesCodec):
    """OpenAI's Responses API codec."""

    name = "openai"


class Provider(_BaseProvider):
    """OpenAI (``https://api.openai.com/v1``); the key defaults to ``OPENAI_API_KEY``.

    Args:
        api: ``"chat"`` (``POST /chat/completions``, the default) or ``"responses"``
            (``POST /responses``: reasoning summaries, encrypted reasoning, built-in tools).
        api_key: The key (default: ``OPENAI_API_KEY``), or a zero-argument callable, sync or
            async, returning it: called on the first request and once more when the
            server refuses its key.
        base_url: The API root (default: ``https://api.openai.com/v1``).
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

    name = "openai"
    api_key_env = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com/v1"
    codec_type = Codec

    def __init__(
        self,
        *,
        api: Api = "chat",
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
    ) -> None:
        if api not in ("chat", "responses"):
            raise UserError(f"api must be 'chat' or 'responses', not {api!r}")
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
        self.api: Api = api

    def codec(self, model_id: str) -> Codec | ResponsesCodec:
        """The chat-completions or the Responses codec for ``model_id``, as ``api`` says."""
        return ResponsesCodec(model_id) if self.api == "responses" else Codec(model_id)


__getattr__ = lazy_exports(__name__, "reverie.providers.openai._options", ["Options", "ResponsesOptions"])

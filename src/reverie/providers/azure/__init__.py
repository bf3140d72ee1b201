"""Azure OpenAI: OpenAI's chat-completions and Responses APIs on an Azure resource.

    from reverie.providers import azure
    provider = azure.Provider(base_url="https://my-resource.openai.azure.com")  # AZURE_OPENAI_API_KEY
    model = provider.language_model("my-gpt-5-deployment")

Requests go to the resource's v1 API (``https://<resource>.openai.azure.com/openai/v1``,
see ``resource_url``) with the key in the ``api-key`` header, or with a Microsoft Entra ID
token (``azure_ad_token=``, a string or a zero-argument callable, sync or async) as
``Authorization: Bearer``. ``language_model`` takes the deployment name. The models are
``"azure"`` models that read and write the ``openai`` provider options and metadata (as
fantasy does): ``openai.Options`` on chat completions, ``openai.ResponsesOptions`` with
``api="responses"``. OpenAI's reasoning-model rules apply when the deployment name is an
OpenAI reasoning model's (``o4-mini``, ``gpt-5-mini``).

This module holds configuration only: the wire is ``openai``'s codecs, the token cache is
``reverie._http.auth.TokenAuth``.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal
from urllib.parse import urlsplit

import httpx2

from reverie._errors import UserError
from reverie._http.auth import HeaderAuth, Secret, Token, TokenAuth, TokenResult, TokenSource
from reverie._provider import ApiKey
from reverie._provider import Provider as _BaseProvider
from reverie._rate_limiter import RateLimiter
from reverie.providers.openai import Codec, ResponsesCodec

__all__ = ["Provider", "Token", "resource_url"]

_RESOURCE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com")
_V1_PATH = "/openai/v1"

Api = Literal["chat", "responses"]
"""Which OpenAI API a provider's models speak."""


def resource_url(base_url: str) -> str:
    """The v1 API root for ``base_url``.

    An Azure OpenAI resource URL, with any path (``https://<resource>.openai.azure.com``,
    ``.../openai``, ``.../openai/deployments/x``), becomes
    ``https://<resource>.openai.azure.com/openai/v1``; a scheme-less host gets ``https://``.
    Any other URL (a proxy, a gateway) is used as given, without a trailing slash.
    """
    url = base_url.strip()
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.endswith(_RESOURCE_HOSTS):
        return f"{parts.scheme}://{parts.netloc}{_V1_PATH}"
    return url.rstrip("/")


class Provider(_BaseProvider):
    """Azure OpenAI; the key defaults to ``AZURE_OPENAI_API_KEY`` unless a token is given.

    Args:
        base_url: The resource URL (``https://<resource>.openai.azure.com``) or an API root.
        api_key: The resource's key, sent as ``api-key``, or a callable returning it
            (refetched once when refused, see ``reverie.Provider``).
        api: ``"chat"`` (``/chat/completions``, the default) or ``"responses"`` (``/responses``).
        azure_ad_token: A Microsoft Entra ID token instead of a key: a string, or a
            zero-argument callable (sync or async) returning a string or a ``Token`` with
            its expiry. A callable that returns a string is called for every request (the
            caller's credential caches it, as ``azure.identity``'s token providers do); one
            that returns a ``Token`` is called again shortly before that token expires.
            Either way a refused token (a 401 answer) fetches a new token once, and the
            request is sent again, outside the retry budget. An async callable works with
            the async API only.
        headers: Extra headers sent with every request.
        http_client: The ``httpx2.Client`` of sync calls (default: created on first use).
        async_http_client: The ``httpx2.AsyncClient`` of async calls.
        max_response_bytes: See ``reverie.providers``.
        timeout: The default clients' timeouts (see ``reverie.Provider``).
        max_connections: The default clients' pool size (see ``reverie.Provider``).
        max_keepalive_connections: Idle connections they keep (see ``reverie.Provider``).
        rate_limiter: A shared ``reverie.RateLimiter`` (see ``reverie.Provider``).
    """

    name = "azure"
    api_key_env = "AZURE_OPENAI_API_KEY"
    codec_type = Codec

    def __init__(
        self,
        *,
        base_url: str,
        api_key: ApiKey | None = None,
        api: Api = "chat",
        azure_ad_token: str | TokenSource | None = None,
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
        if api_key and azure_ad_token is not None:
            raise UserError("pass api_key or azure_ad_token, not both")
        if isinstance(azure_ad_token, str) and not azure_ad_token:
            raise UserError("azure_ad_token is empty")
        self._token: Secret[str | TokenSource] | None = (
            Secret(azure_ad_token) if azure_ad_token is not None else None
        )
        super().__init__(
            api_key=api_key,
            base_url=resource_url(base_url),
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

    def token_clock(self) -> float:
        """Seconds since the epoch, for token expiry (a subclass may override it, e.g. in tests)."""
        return time.time()

    def __repr__(self) -> str:
        credential = "token" if self._token is not None else "api_key"
        return f"Provider(base_url={self.base_url!r}, api={self.api!r}, auth=<{credential}>)"

    def _resolve_api_key(self, api_key: str | None) -> str | None:
        if self._token is not None:  # a token replaces the key, even one in the environment
            return None
        return super()._resolve_api_key(api_key)

    def codec(self, model_id: str) -> Codec | ResponsesCodec:
        """OpenAI's chat-completions or Responses codec for the deployment ``model_id``."""
        return ResponsesCodec(model_id) if self.api == "responses" else Codec(model_id)

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """The key travels in ``api-key``."""
        return {"api-key": api_key}

    def auth(self) -> httpx2.Auth | None:
        """The key's header, a fixed bearer token, or a ``TokenAuth`` over the token callable."""
        if self._token is None:
            return super().auth()
        token = self._token.reveal()
        if isinstance(token, str):
            return HeaderAuth({"authorization": f"Bearer {token}"})
        return TokenAuth(
            _per_request(token, self.token_clock), rejects=self.rejects_credentials, clock=self.token_clock
        )


def _per_request(fetch: TokenSource, clock: Callable[[], float]) -> TokenSource:
    """``fetch``, with a plain string result marked as expiring now, so it is fetched per request.

    ``TokenAuth`` keeps a string until the server rejects it; Entra ID tokens expire, and a
    callable that returns only the string leaves their expiry to its own cache.
    """
    if inspect.iscoroutinefunction(fetch):
        fetch_async: Callable[[], Awaitable[TokenResult]] = fetch

        async def fetch_expiring_async() -> TokenResult:
            return _expiring(await fetch_async(), clock)

        return fetch_expiring_async

    def fetch_expiring() -> TokenResult:
        result = fetch()
        if inspect.isawaitable(result):  # an async __call__: TokenAuth awaits or rejects it
            return result  # pyright: ignore[reportReturnType]
        return _expiring(result, clock)

    return fetch_expiring


def _expiring(result: TokenResult, clock: Callable[[], float]) -> TokenResult:
    return Token(result, expires_at=clock()) if isinstance(result, str) else result

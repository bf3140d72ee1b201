"""The base of every provider factory: credentials, base URL, headers and HTTP clients.

A provider holds configuration and hands out ``HttpLanguageModel``s. Two hooks say how
its requests are sent: ``endpoint`` resolves each request's URL and headers (per model and
per request), ``auth`` builds the ``httpx2.Auth`` that adds credentials as requests are
sent. It creates its default httpx2 clients lazily (``reverie._clients``: one per provider
under threads, one per event loop, fresh after a fork) and closes only those; clients
passed in by the caller stay the caller's. The API key is held in a ``Secret``, out of ``repr``,
``vars()`` and every message; credentials in a base URL (``user:password@``) are taken out
of it and sent as basic auth, so no URL shown or logged holds them. An API key given as a
callable is fetched, cached and refreshed by ``reverie._http.auth.TokenAuth``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeAlias
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx2

from reverie._clients import DefaultClients
from reverie._codec import Codec, WireRequest, codec_rejects_credentials
from reverie._errors import MissingAPIKeyError, UserError
from reverie._http.credentials import HeaderAuth, Secret, UrlCredentialsAuth
from reverie._http.endpoint import Endpoint, join_url
from reverie._http_model import HttpLanguageModel
from reverie._provider_names import register_provider_name
from reverie._version import __version__

if TYPE_CHECKING:
    from reverie._http.auth import TokenSource
    from reverie._rate_limiter import RateLimiter  # loaded by whoever makes one

DEFAULT_TIMEOUT = httpx2.Timeout(600.0, connect=5.0)
"""The default clients' timeouts (as the openai SDK): 5 s to connect, 600 s per read, write or pool wait."""
"""Generation can take minutes; connecting should not."""
DEFAULT_MAX_CONNECTIONS = 1000
"""Connections a default client opens at most (per client: the sync one, and one per event loop).

LLM requests are long-lived (a stream may run for minutes), so a pool sized for short web
requests (httpx2's 100) would queue the 101st concurrent request until one ends. This is the
openai SDK's default too."""
DEFAULT_MAX_KEEPALIVE_CONNECTIONS = 100
"""Idle connections a default client keeps open for reuse (the openai SDK's default)."""
_DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
_USER_AGENT = f"reverie/{__version__}"

ApiKey: TypeAlias = "str | TokenSource"
"""An API key, or a zero-argument callable (sync or async) returning it (``str``, or a
``reverie._http.auth.Token`` with its expiry): called on first use and when the server
refuses the key it returned."""


class CodecFactory(Protocol):
    """A codec class: built with the model id it speaks for."""

    def __call__(self, model_id: str, /) -> Codec: ...


class Provider:
    """Base class of provider factories; see ``reverie.providers``.

    Args:
        api_key: The API key, or a zero-argument callable returning it, sync or async (see
            ``ApiKey``). A callable is called on the first request, and once more when the
            server refuses its key (a 401, or an error the provider flags as a bad key):
            the request is then sent again with the new key, once, outside the retry
            budget. An async callable works with the async API only (``UserError``).
            Defaults to the provider's environment variable.
        base_url: The API root, e.g. ``https://openrouter.ai/api/v1``.
        headers: Extra headers sent with every request.
        http_client: The ``httpx2.Client`` used by sync calls (default: one created on first use).
        async_http_client: The ``httpx2.AsyncClient`` used by async calls (default: created on first use).
        max_response_bytes: Responses, single stream events and whole streams (decoded) larger
            than this raise ``InvalidResponseError`` instead of exhausting memory.
        timeout: The timeouts of the default clients, in seconds (a float for all of them)
            or an ``httpx2.Timeout``; default ``DEFAULT_TIMEOUT`` (connect 5 s, read 600 s).
            A passed client keeps its own.
        max_connections: The most connections each default client opens at once
            (``DEFAULT_MAX_CONNECTIONS``, 1,000, when ``None``); further requests wait for
            one to free up, up to the pool timeout. A passed client keeps its own limits.
        max_keepalive_connections: The most idle connections each default client keeps
            for reuse (``DEFAULT_MAX_KEEPALIVE_CONNECTIONS``, 100, when ``None``).
        rate_limiter: A ``reverie.RateLimiter`` every request of this provider waits on (and
            reports to); share one between providers to limit them together. ``None``: no
            client-side limit.
    """

    name: ClassVar[str]
    """Key of this provider in ``provider_options`` and ``provider_metadata``."""
    api_key_env: ClassVar[str | None] = None
    """The environment variable holding the key; ``None`` when no key is required."""
    default_base_url: ClassVar[str | None] = None
    codec_type: ClassVar[CodecFactory]
    """The provider's codec class; a model's codec is ``codec_type(model_id)``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if isinstance(name, str):
            register_provider_name(name)  # a known provider_options key from now on

    def __init__(
        self,
        *,
        api_key: ApiKey | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx2.Client | None = None,
        async_http_client: httpx2.AsyncClient | None = None,
        max_response_bytes: int = _DEFAULT_MAX_RESPONSE_BYTES,
        timeout: float | httpx2.Timeout | None = None,
        max_connections: int | None = None,
        max_keepalive_connections: int | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        # A callable key replaces the environment variable: it is called when needed.
        self._api_key_source: Secret[TokenSource] | None = Secret(api_key) if callable(api_key) else None
        key = None if callable(api_key) else self._resolve_api_key(api_key)
        self._api_key = Secret(key) if key else None
        url = base_url or self.default_base_url
        if not url:
            raise TypeError(f"{type(self).__name__}() needs base_url=...")
        url, self._url_credentials = _split_credentials(url)
        self.base_url = url.rstrip("/")
        self.headers: dict[str, str] = dict(headers or {})
        self._http_client = http_client  # the caller's, never closed here
        self._async_http_client = async_http_client
        self._default_clients = DefaultClients(
            lambda: httpx2.Client(timeout=self.timeout, limits=self.limits),
            lambda: httpx2.AsyncClient(timeout=self.timeout, limits=self.limits),
        )
        self.max_response_bytes = max_response_bytes
        self.timeout = DEFAULT_TIMEOUT if timeout is None else httpx2.Timeout(timeout)
        self.limits = pool_limits(max_connections, max_keepalive_connections)
        self.rate_limiter = rate_limiter
        self._auth: httpx2.Auth | None = None
        self._auth_built = False
        # The key beats a provider-level header of the same name (a per-call header beats
        # the key): see request_headers.
        self._credential_names = frozenset[str]()
        if key or self._api_key_source is not None:  # the names only: an empty key never travels
            self._credential_names = frozenset(self.auth_headers(key or ""))

    def _resolve_api_key(self, api_key: str | None) -> str | None:
        if api_key:
            return api_key
        env = self.api_key_env
        if env is None:
            return None
        value = os.environ.get(env)
        if not value:
            raise MissingAPIKeyError(provider=self.name, parameter="api_key", env_var=env)
        return value

    def __repr__(self) -> str:
        key = "callable" if self._api_key_source else "set" if self._api_key else "unset"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key=<{key}>)"

    def language_model(self, model_id: str) -> HttpLanguageModel:
        """A language model of this provider."""
        return HttpLanguageModel(
            codec=self.codec(model_id),
            model_id=model_id,
            host=self,
            auth=self._shared_auth(),
            max_response_bytes=self.max_response_bytes,
            provider=self.name,
            url_user=self._url_credentials.reveal()[0] if self._url_credentials else None,
            rate_limiter=self.rate_limiter,
        )

    def codec(self, model_id: str) -> Codec:
        """The wire codec for ``model_id`` (``codec_type`` built for that model)."""
        return self.codec_type(model_id)

    def endpoint(self, model_id: str, request: WireRequest, *, stream: bool) -> Endpoint:
        """Where ``request`` for ``model_id`` goes: URL and headers, credentials excluded.

        Called for every request, so headers changed on the provider apply to the next one.
        The default is ``base_url + request.path`` with ``request_headers()``; a cloud
        platform overrides it for deployment URLs or a query (see ``join_url``).
        """
        return Endpoint(join_url(self.base_url, request.path), self.request_headers())

    def auth(self) -> httpx2.Auth | None:
        """The ``httpx2.Auth`` that adds credentials to each request, or ``None`` for none.

        Called once per provider; its models share the result (so a token cache is shared).
        The default sends the API key as ``auth_headers`` says: a ``HeaderAuth``, or for a
        key callable a ``TokenAuth`` that refreshes the key when ``rejects_credentials`` says
        so (``reverie._http.auth`` also has ``SigningAuth`` for signed requests).
        """
        if self._api_key_source is not None:
            # Loaded for a key callable only: a plain key needs no token flow.
            from reverie._http.auth import TokenAuth

            return TokenAuth(
                self._api_key_source.reveal(),
                headers=self.auth_headers,
                rejects=self.rejects_credentials,
                keep_request_credentials=True,  # a per-call header beats the key, as for a str key
            )
        if self._api_key is None:
            return None
        return HeaderAuth(self.auth_headers(self._api_key.reveal()))

    def rejects_credentials(self, status_code: int, headers: Mapping[str, str], body: str) -> bool:
        """Whether a 4xx answer other than 401 (which always does) refuses the credential.

        Asked before a refreshable credential (a key callable, a token) is fetched anew. The
        default asks the codec class's optional ``rejects_credentials`` (a static method
        reading the provider's error body, e.g. Gemini's ``API_KEY_INVALID``); without
        one, only a 401 refreshes.
        """
        codec_type: object = getattr(self, "codec_type", None)  # a platform may pick codecs per model
        return codec_rejects_credentials(codec_type, status_code, headers, body)

    def _shared_auth(self) -> httpx2.Auth | None:
        if not self._auth_built:
            auth = self.auth()
            if self._url_credentials is not None:
                user, password = self._url_credentials.reveal()
                auth = UrlCredentialsAuth(user, password, auth)
            self._auth, self._auth_built = auth, True
        return self._auth

    def auth_headers(self, api_key: str) -> dict[str, str]:
        """How the key travels; bearer by default."""
        return {"authorization": f"Bearer {api_key}"}

    def request_headers(self) -> dict[str, str]:
        """Headers for every request of this provider; credentials are added by ``auth``."""
        headers = {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": _USER_AGENT,
        }
        credentials = self._credential_names
        for name, value in self.headers.items():
            name = name.lower()
            if name not in credentials:
                headers[name] = value
        return headers

    @property
    def http_client(self) -> httpx2.Client:
        """The sync client: the one passed in, else one created on first use.

        One per provider, whichever thread asks first; a fresh one in a forked child.
        """
        if self._http_client is not None:
            return self._http_client
        return self._default_clients.sync_client()

    @property
    def async_http_client(self) -> httpx2.AsyncClient:
        """The async client: the one passed in, else the running event loop's.

        Created on first use in each loop (a client's connections belong to its loop); it is
        closed as its loop ends.
        """
        if self._async_http_client is not None:
            return self._async_http_client
        return self._default_clients.async_client()

    def close(self) -> None:
        """Close the sync client if this provider created it (a later use creates a new one)."""
        if self._http_client is None:
            self._default_clients.close_sync()

    async def aclose(self) -> None:
        """Close the sync client and the running loop's async client, if this provider created them."""
        self.close()
        if self._async_http_client is None:
            await self._default_clients.aclose_async()

    def __enter__(self) -> Provider:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self) -> Provider:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()


def pool_limits(max_connections: int | None, max_keepalive_connections: int | None) -> httpx2.Limits:
    """The default clients' ``httpx2.Limits``: the given sizes, or reverie's defaults for ``None``.

    Raises:
        UserError: If a size is not a whole number, or ``max_connections`` is below 1.
    """
    connections = _whole_number("max_connections", max_connections, DEFAULT_MAX_CONNECTIONS, least=1)
    keepalive = _whole_number(
        "max_keepalive_connections", max_keepalive_connections, DEFAULT_MAX_KEEPALIVE_CONNECTIONS, least=0
    )
    # More idle connections than connections cannot be kept: the pool would clamp it anyway.
    return httpx2.Limits(max_connections=connections, max_keepalive_connections=min(keepalive, connections))


def _whole_number(name: str, value: object, default: int, *, least: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise UserError(f"{name} must be a whole number of at least {least}, not {value!r}")
    return value


def _split_credentials(url: str) -> tuple[str, Secret[tuple[str, str]] | None]:
    """``url`` without ``user:password@``, and those credentials (held in a ``Secret``).

    The password never stays in a URL: URLs are shown in reprs, errors and httpx2's own log
    lines. The credentials travel as basic auth instead (``UrlCredentialsAuth``).
    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    stripped = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return stripped, Secret((unquote(user), unquote(password)))

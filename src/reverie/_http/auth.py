"""Who a request comes from: credentials as ``httpx2.Auth`` flows, applied as it is sent.

- ``HeaderAuth``: static credential headers, what API keys use (``authorization: Bearer``,
  ``x-api-key``, ``x-goog-api-key``); defined, with ``Secret`` and ``UrlCredentialsAuth``, in
  ``reverie._http.credentials`` (a request with an API key loads only that) and re-exported here.
- ``TokenAuth``: a token fetched by a sync or async callable (an API key given as a
  callable, Vertex, Azure Entra ID), cached until shortly before it expires, refetched once
  when the server refuses it (a 401, or an error the provider flags as a bad credential).
- ``SigningAuth``: signs the final request, URL, headers and body (the seam for AWS SigV4).

A provider builds its auth once (``Provider.auth``) and its models pass it to
``client.send`` with every request, so the credentials are resolved per request and never
frozen into a model. Each class has a ``sync_auth_flow`` and an ``async_auth_flow`` (httpx2
calls the one of its client's colour). Secrets are held in ``Secret``, whose ``repr`` and
``str`` are masked and which has no ``__dict__``: no ``repr``, ``vars()``, message or log of
these objects shows a credential. This module sends nothing itself; httpx2 drives the flows.
"""

from __future__ import annotations

import inspect
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field

import httpx2

from reverie._errors import UserError
from reverie._http.credentials import HeaderAuth as HeaderAuth  # re-exported
from reverie._http.credentials import Secret
from reverie._http.credentials import UrlCredentialsAuth as UrlCredentialsAuth  # re-exported
from reverie._record import FrozenRecord
from reverie._secrets import register_secret

_UNAUTHORIZED = 401
_DEFAULT_REFRESH_MARGIN = 60.0
"""Refetch a token this many seconds before it expires, so it does not expire in flight."""


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Token(FrozenRecord):
    """A token and, when known, when it stops being valid."""

    value: str = field(repr=False)
    """The token itself (kept out of ``repr``)."""
    expires_at: float | None = None
    """Seconds since the epoch (``time.time()``); ``None`` if the token does not say."""


TokenResult = str | Token
TokenSource = Callable[[], TokenResult] | Callable[[], Awaitable[TokenResult]]
"""A sync or async callable returning a token (``str``) or a ``Token`` with its expiry."""
RejectsCredentials = Callable[[int, Mapping[str, str], str], bool]
"""Whether an error answer (status, lower-cased headers, body) says the credential was refused."""

_MAX_INSPECTED_BODY = 1024 * 1024
"""A longer error body is not read to look for a refused credential (it is no auth error)."""


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class _CachedToken(FrozenRecord):
    value: str = field(repr=False)
    fresh_until: float | None


class TokenAuth(httpx2.Auth):
    """A bearer-style token from a callable, cached and refreshed.

    A ``Token`` with ``expires_at`` is reused until ``refresh_margin`` seconds before it
    expires (or half its remaining life, if that is shorter); a plain ``str`` is reused until
    the server rejects it. A refused token (a 401 answer, or a 4xx answer ``rejects`` flags)
    fetches a new token once and sends the request again; a second refusal is returned as
    it is. The token replaces any header of the same name the request carries (it must, to
    resend after a refresh), unless ``keep_request_credentials`` is set. An async callable
    works from the async API only: the sync API cannot await it and raises ``UserError``. A
    sync callable used from the async API runs in a worker thread so it does not block the
    event loop.

    Concurrent sync requests share one fetch (a lock); concurrent async requests that find
    the token stale may each fetch one, which is harmless.

    Args:
        fetch: Returns the token: ``str`` or ``Token``, directly or as an awaitable.
        header: The header that carries it.
        scheme: Written before the token (``"Bearer"``); ``None`` sends the token alone.
        headers: Builds the credential headers from the token, replacing ``header`` and
            ``scheme`` (e.g. a provider's ``auth_headers``).
        rejects: Called for a 4xx answer other than 401 (which always refuses the token),
            with its status, lower-cased headers and body: whether the provider says the
            credential was refused (Gemini answers an expired key with a 400). Without it,
            only a 401 refreshes, and no body is read here.
        keep_request_credentials: Send a request that already carries every credential
            header as it is, fetching nothing: a per-call header beats the provider's key,
            as it does with ``HeaderAuth``.
        refresh_margin: Seconds before expiry at which a cached token is refetched.
        clock: The current time in seconds since the epoch (injectable for tests).
    """

    def __init__(
        self,
        fetch: TokenSource,
        *,
        header: str = "authorization",
        scheme: str | None = "Bearer",
        headers: Callable[[str], Mapping[str, str]] | None = None,
        rejects: RejectsCredentials | None = None,
        keep_request_credentials: bool = False,
        refresh_margin: float = _DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._is_async = inspect.iscoroutinefunction(fetch)
        self._header = header.lower()
        self._scheme = scheme
        self._build_headers = headers
        self._rejects = rejects
        # The names only: built from an empty token, which never travels.
        names = headers("") if headers is not None else {header: ""}
        self._names = frozenset(name.lower() for name in names)
        self._keep_request_credentials = keep_request_credentials
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._cached: Secret[_CachedToken] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenAuth(header={self._header!r})"

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Send with the cached or a fresh token; if it is refused, refetch once and resend."""
        if self._is_async:  # even with a token cached: the sync API never works with it
            raise _async_in_sync()
        if self._carries_credentials(request):
            yield request
            return
        token = self._sync_token(rejected=None)
        self._apply(request, token)
        response = yield request
        inspect_body = self._must_read(response)
        if inspect_body:
            response.read()
        if self._refused(response, inspect_body):
            self._apply(request, self._sync_token(rejected=token))
            yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """The async twin of ``sync_auth_flow``."""
        if self._carries_credentials(request):
            yield request
            return
        token = await self._async_token(rejected=None)
        self._apply(request, token)
        response = yield request
        inspect_body = self._must_read(response)
        if inspect_body:
            await response.aread()
        if self._refused(response, inspect_body):
            self._apply(request, await self._async_token(rejected=token))
            yield request

    def _carries_credentials(self, request: httpx2.Request) -> bool:
        return self._keep_request_credentials and all(name in request.headers for name in self._names)

    def _must_read(self, response: httpx2.Response) -> bool:
        """Whether ``response``'s body must be read to tell whether it refuses the token."""
        status = response.status_code
        if self._rejects is None or status == _UNAUTHORIZED or not 400 <= status < 500:
            return False
        length = response.headers.get("content-length")
        return length is None or not length.isdigit() or int(length) <= _MAX_INSPECTED_BODY

    def _refused(self, response: httpx2.Response, body_read: bool) -> bool:
        if response.status_code == _UNAUTHORIZED:
            return True
        if not body_read or self._rejects is None:
            return False
        headers = {name.lower(): value for name, value in response.headers.items()}
        body = response.content.decode("utf-8", errors="replace")
        return self._rejects(response.status_code, headers, body)

    def _apply(self, request: httpx2.Request, token: _CachedToken) -> None:
        if self._build_headers is not None:
            for name, value in self._build_headers(token.value).items():
                request.headers[name] = value
            return
        request.headers[self._header] = f"{self._scheme} {token.value}" if self._scheme else token.value

    def _fresh(self, rejected: _CachedToken | None) -> _CachedToken | None:
        """The cached token if it is still good and is not the one the server just rejected."""
        cached = self._cached.reveal() if self._cached is not None else None
        if cached is None or cached is rejected:
            return None
        if cached.fresh_until is not None and self._clock() >= cached.fresh_until:
            return None
        return cached

    def _sync_token(self, *, rejected: _CachedToken | None) -> _CachedToken:
        with self._lock:  # one thread fetches; the others then find its token
            cached = self._fresh(rejected)
            if cached is not None:
                return cached
            result = self._fetch()
            if inspect.isawaitable(result):  # e.g. an object with an async __call__
                if inspect.iscoroutine(result):
                    result.close()  # never awaited, by design: no "never awaited" warning
                raise _async_in_sync()
            return self._store(result)

    async def _async_token(self, *, rejected: _CachedToken | None) -> _CachedToken:
        cached = self._fresh(rejected)
        if cached is not None:
            return cached
        if self._is_async:
            result = self._fetch()
        else:
            import anyio.to_thread  # only async runs pay for importing anyio

            result = await anyio.to_thread.run_sync(self._fetch)
        if inspect.isawaitable(result):
            result = await result
        return self._store(result)

    def _store(self, result: object) -> _CachedToken:
        if isinstance(result, str):
            token = Token(result)
        elif isinstance(result, Token):
            token = result
        else:
            raise UserError(f"the token callable returned {type(result).__name__}; expected str or Token")
        if not token.value:
            raise UserError("the token callable returned an empty token")
        fresh_until: float | None = None
        if token.expires_at is not None:
            remaining = token.expires_at - self._clock()
            fresh_until = token.expires_at - min(self._refresh_margin, max(remaining, 0.0) / 2)
        register_secret(token.value)  # a server echoing it must not put it in an error
        cached = _CachedToken(token.value, fresh_until)
        self._cached = Secret(cached)
        return cached


def _async_in_sync() -> UserError:
    return UserError(
        "the token callable is async, and a sync call cannot await it: "
        "use the async API (generate_async/stream_async) or pass a sync callable"
    )


class SigningAuth(httpx2.Auth):
    """Signs each request as it is sent, seeing its final URL, headers and body.

    Pass ``sign`` (a callable that adds headers to the request, e.g. an AWS SigV4 signer)
    or subclass and override ``sign``. The request body is read before signing
    (``requires_request_body``), since signatures cover it.
    """

    requires_request_body = True

    def __init__(self, sign: Callable[[httpx2.Request], None] | None = None) -> None:
        self._sign = sign

    def sign(self, request: httpx2.Request) -> None:
        """Add the signature headers to ``request``."""
        if self._sign is None:
            raise NotImplementedError("pass sign=... or override SigningAuth.sign")
        self._sign(request)

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Sign, then send the request once."""
        self.sign(request)
        yield request

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

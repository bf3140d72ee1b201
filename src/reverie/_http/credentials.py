"""Static credentials: ``Secret``, ``HeaderAuth`` (API keys) and ``UrlCredentialsAuth``.

What a plain request with an API key needs, kept apart from the token and signing flows of
``reverie._http.auth`` (which re-exports these), so that such a request does not load those.
A ``Secret`` keeps a credential out of ``repr``, ``str`` and ``vars()``. This module sends
nothing itself; httpx2 drives the flows.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Generator, Mapping, MutableMapping
from typing import Generic, TypeVar

import httpx2

from reverie._http.headers import check_headers
from reverie._secrets import register_secret

ValueT = TypeVar("ValueT")


class Secret(Generic[ValueT]):
    """A credential that stays out of ``repr``, ``str`` and ``vars()``; ``reveal()`` returns it."""

    __slots__ = ("_value",)

    def __init__(self, value: ValueT) -> None:
        self._value = value
        if isinstance(value, str):
            register_secret(value)  # redacted from errors and recordings from now on

    def reveal(self) -> ValueT:
        """The secret value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__


class HeaderAuth(httpx2.Auth):
    """Static credential headers, e.g. ``{"x-api-key": key}``.

    A header the request already carries wins, so a per-call ``headers={"authorization": ...}``
    still overrides the provider's key, as it did when keys were plain request headers.
    """

    def __init__(self, headers: Mapping[str, str]) -> None:
        check_headers(headers, "the API key's headers")
        self._headers = Secret({name.lower(): value for name, value in headers.items()})
        for value in headers.values():
            register_secret(value)
            register_secret(value.partition(" ")[2])  # the credential after a scheme ("Bearer")

    @property
    def header_names(self) -> frozenset[str]:
        """The (lower-cased) names of the headers this auth sets."""
        return frozenset(self._headers.reveal())

    def apply(self, headers: MutableMapping[str, str]) -> None:
        """Add the credential headers to ``headers`` unless they are already there."""
        for name, value in self._headers.reveal().items():
            if name not in headers:
                headers[name] = value

    def auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Set the headers and send the request once."""
        self.apply(request.headers)
        yield request

    def __repr__(self) -> str:
        return f"HeaderAuth(names={sorted(self.header_names)!r})"


class UrlCredentialsAuth(httpx2.Auth):
    """Credentials taken out of a URL (``https://user:password@host``), sent as basic auth.

    The provider strips them from its base URL, so no URL it logs, shows or sends holds the
    password; this sends them as an ``authorization: Basic`` header instead, unless the
    request (or the ``inner`` auth it wraps, e.g. an API key as a bearer token) already
    sets ``authorization``.
    """

    def __init__(self, user: str, password: str, inner: httpx2.Auth | None = None) -> None:
        register_secret(password)
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self._header = Secret(f"Basic {token}")
        self._inner = inner
        if inner is not None:  # a signer needs the body, as it would without us
            self.requires_request_body = inner.requires_request_body
            self.requires_response_body = inner.requires_response_body

    def _apply(self, request: httpx2.Request) -> None:
        if "authorization" not in request.headers:
            request.headers["authorization"] = self._header.reveal()

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Run the inner flow, adding the basic credentials to each request it sends."""
        if self._inner is None:
            self._apply(request)
            yield request
            return
        flow = self._inner.sync_auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                self._apply(outgoing)
                response = yield outgoing
                outgoing = flow.send(response)
        except StopIteration:
            return

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """Async ``sync_auth_flow``."""
        if self._inner is None:
            self._apply(request)
            yield request
            return
        flow = self._inner.async_auth_flow(request)
        try:
            outgoing = await flow.__anext__()
            while True:
                self._apply(outgoing)
                response = yield outgoing
                outgoing = await flow.asend(response)
        except StopAsyncIteration:
            return

    def __repr__(self) -> str:
        return f"UrlCredentialsAuth(inner={self._inner!r})"

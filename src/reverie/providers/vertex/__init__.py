"""Gemini and Claude on Google Vertex AI.

    from reverie.providers import vertex
    p = vertex.Provider(project="my-project", location="us-east5", access_token="ya29...")
    p = vertex.Provider(project=..., location=..., access_token=get_token)   # sync or async callable
    p = vertex.Provider(project=..., location=..., credentials=google_auth_credentials)
    p = vertex.Provider()    # Application Default Credentials, GOOGLE_CLOUD_PROJECT / GOOGLE_CLOUD_LOCATION
    p.language_model("gemini-2.5-flash"); p.language_model("claude-3-7-sonnet@20250219")

Auth, first given: ``access_token`` (a string, or a callable called when a token is needed:
on first use, when a returned ``Token`` nears its ``expires_at``, and after a 401);
``credentials``, a google-auth ``Credentials`` refreshed whenever it is not valid; else
Application Default Credentials through google-auth (``pip install "reverie[vertex]"``,
imported only when a request needs it). Refreshing never blocks the event loop of an async
run. Model ids starting with ``claude`` speak Anthropic's Messages format (``rawPredict``),
the others Gemini's (``generateContent``). Options and metadata use the family's key,
``provider_options={"anthropic": ...}`` or ``{"google": ...}``; ``model.provider`` is
``"vertex"``. Location ``global`` is served by ``aiplatform.googleapis.com``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from typing import Any

import httpx2

from reverie._codec import Codec
from reverie._errors import UserError
from reverie._http.auth import HeaderAuth, Token, TokenAuth, TokenSource
from reverie._provider import _DEFAULT_MAX_RESPONSE_BYTES
from reverie._provider import Provider as _BaseProvider
from reverie._rate_limiter import RateLimiter
from reverie.providers.vertex._auth import GoogleCredentialsAuth, missing_credentials
from reverie.providers.vertex.codec import ANTHROPIC_VERSION, VertexAnthropicCodec, VertexGeminiCodec

__all__ = ["ANTHROPIC_VERSION", "Provider", "Token", "VertexAnthropicCodec", "VertexGeminiCodec"]

DEFAULT_LOCATION = "us-central1"


def host(location: str) -> str:
    """The API host of ``location``: regional, or ``aiplatform.googleapis.com`` for ``global``."""
    return "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"


class Provider(_BaseProvider):
    """Gemini and Claude on Vertex AI (``https://{location}-aiplatform.googleapis.com``).

    Args:
        project: The Google Cloud project (default: ``GOOGLE_CLOUD_PROJECT``).
        location: The region, or ``global`` (default: ``GOOGLE_CLOUD_LOCATION``, else
            ``us-central1``).
        access_token: An OAuth access token, or a sync or async callable returning one
            (``str`` or ``Token`` with its expiry).
        credentials: A google-auth ``Credentials`` object, refreshed when not valid.
        tool_call_id: Makes the ids reverie gives Gemini's function calls (Vertex sends
            none and is sent none back); default: random UUID4 strings.
        base_url: Replaces ``https://{host}`` (e.g. a private endpoint).
        headers: Extra headers sent with every request.
        http_client: The ``httpx2.Client`` of sync calls (default: created on first use).
        async_http_client: The ``httpx2.AsyncClient`` of async calls.
        max_response_bytes: The largest response (or stream event) accepted.
        timeout: The default clients' timeouts (see ``reverie.Provider``).
        max_connections: The default clients' pool size (see ``reverie.Provider``).
        max_keepalive_connections: Idle connections they keep (see ``reverie.Provider``).
        rate_limiter: A shared ``reverie.RateLimiter`` (see ``reverie.Provider``).

    Raises:
        UserError: If no project is given or set in ``GOOGLE_CLOUD_PROJECT``.
        MissingAPIKeyError: If neither ``access_token`` nor ``credentials`` is given and
            google-auth (the ``reverie[vertex]`` extra) is not installed.
    """

    name = "vertex"

    def __init__(
        self,
        *,
        project: str | None = None,
        location: str | None = None,
        access_token: str | TokenSource | None = None,
        credentials: Any | None = None,
        tool_call_id: Callable[[], str] | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        http_client: httpx2.Client | None = None,
        async_http_client: httpx2.AsyncClient | None = None,
        timeout: float | httpx2.Timeout | None = None,
        max_connections: int | None = None,
        max_keepalive_connections: int | None = None,
        rate_limiter: RateLimiter | None = None,
        max_response_bytes: int = _DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        resolved_project = project or os.environ.get("GOOGLE_CLOUD_PROJECT")
        if not resolved_project:
            raise UserError("vertex: no project. Pass project=... or set GOOGLE_CLOUD_PROJECT.")
        self.project = resolved_project
        self.location = location or os.environ.get("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION
        if access_token is None and credentials is None and importlib.util.find_spec("google.auth") is None:
            raise missing_credentials()
        self._access_token = access_token
        self._google_credentials = credentials
        self.tool_call_id = tool_call_id
        super().__init__(
            base_url=base_url or f"https://{host(self.location)}",
            headers=headers,
            http_client=http_client,
            async_http_client=async_http_client,
            timeout=timeout,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            rate_limiter=rate_limiter,
            max_response_bytes=max_response_bytes,
        )

    def __repr__(self) -> str:
        return f"Provider(project={self.project!r}, location={self.location!r})"

    def codec(self, model_id: str) -> Codec:
        """Anthropic's codec for ``claude*`` ids, Gemini's for the others."""
        if model_id.startswith("claude"):
            return VertexAnthropicCodec(model_id, project=self.project, location=self.location)
        return VertexGeminiCodec(
            model_id, project=self.project, location=self.location, tool_call_id=self.tool_call_id
        )

    def auth(self) -> httpx2.Auth:
        """The access token, else the credentials object, else Application Default Credentials."""
        token = self._access_token
        if isinstance(token, str):
            return HeaderAuth({"authorization": f"Bearer {token}"})
        if token is not None:
            return TokenAuth(token)
        return GoogleCredentialsAuth(self._google_credentials)

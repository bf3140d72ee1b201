"""Vertex AI credentials: a google-auth ``Credentials`` object as an ``httpx2.Auth``.

``GoogleCredentialsAuth`` sends ``Authorization: Bearer <token>`` from a google-auth
credentials object, refreshing it when it is not valid (no token yet, or expired) and once
more when the server answers 401. Refreshing is I/O (a token endpoint, the metadata
server): in async runs it runs in a worker thread, never on the event loop; in sync runs a
lock makes concurrent requests share one refresh. Without a credentials object it loads
Application Default Credentials through google-auth on first use (``pip install
"reverie[vertex]"``); google-auth is imported only then.

Plain access tokens (a string or a callable) are not here: they use ``HeaderAuth`` and
``TokenAuth`` from ``reverie._http.auth``. This module sends nothing; httpx2 drives the flows.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx2

from reverie._errors import MissingAPIKeyError

INSTALL_HINT = 'pip install "reverie[vertex]"'
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_UNAUTHORIZED = 401


def missing_credentials(detail: str = "") -> MissingAPIKeyError:
    """The error naming every way to give Vertex credentials."""
    return MissingAPIKeyError(
        provider="vertex",
        parameter="access_token",
        env_var="GOOGLE_APPLICATION_CREDENTIALS",
        hint=(
            "Or pass credentials=<google.auth credentials>, or set up Application Default "
            f"Credentials (gcloud auth application-default login), which needs {INSTALL_HINT}."
            + (f" {detail}" if detail else "")
        ),
    )


def application_default_credentials() -> Any:
    """Application Default Credentials with the cloud-platform scope (blocking: files, metadata server)."""
    try:
        # Held as Any: google-auth's types would spread Unknowns through this module.
        google_auth: Any = importlib.import_module("google.auth")
        exceptions: Any = importlib.import_module("google.auth.exceptions")
    except ImportError:
        raise missing_credentials(f"google-auth is not installed: {INSTALL_HINT}") from None
    try:
        found: tuple[Any, Any] = google_auth.default(scopes=[SCOPE])
    except exceptions.DefaultCredentialsError as error:
        raise missing_credentials(f"Application Default Credentials: {error}") from None
    return found[0]


def refresh_request() -> Any:
    """The transport google-auth refreshes with (``google.auth.transport.requests.Request``)."""
    try:
        transport: Any = importlib.import_module("google.auth.transport.requests")
    except ImportError:
        raise missing_credentials(
            f"google-auth's requests transport is not installed: {INSTALL_HINT}"
        ) from None
    return transport.Request()


class GoogleCredentialsAuth(httpx2.Auth):
    """Bearer tokens from a google-auth credentials object, refreshed when not valid.

    Args:
        credentials: A google-auth ``Credentials``; ``None`` loads them with ``load`` on
            first use.
        load: Returns the credentials (default: Application Default Credentials).
        request_factory: Builds the transport ``credentials.refresh`` is given.
    """

    def __init__(
        self,
        credentials: Any | None = None,
        *,
        load: Callable[[], Any] = application_default_credentials,
        request_factory: Callable[[], Any] = refresh_request,
    ) -> None:
        self._credentials = credentials
        self._load = load
        self._request_factory = request_factory
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "GoogleCredentialsAuth()"

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Send with a valid token; on a 401, refresh once and resend."""
        self._apply(request, self._ready(force=False))
        response = yield request
        if response.status_code == _UNAUTHORIZED:
            self._apply(request, self._ready(force=True))
            yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """The async twin: loading and refreshing run in a worker thread."""
        self._apply(request, await self._ready_async(force=False))
        response = yield request
        if response.status_code == _UNAUTHORIZED:
            self._apply(request, await self._ready_async(force=True))
            yield request

    def _needs_refresh(self, force: bool) -> bool:
        credentials = self._credentials
        return credentials is None or force or not credentials.valid

    def _ready(self, *, force: bool) -> Any:
        """The credentials with a valid token, loading or refreshing them first if needed."""
        if not self._needs_refresh(force):
            return self._credentials
        with self._lock:
            if self._credentials is None:
                self._credentials = self._load()
                force = False  # freshly loaded: refresh only if they hold no valid token
            if force or not self._credentials.valid:
                self._credentials.refresh(self._request_factory())
            return self._credentials

    async def _ready_async(self, *, force: bool) -> Any:
        if not self._needs_refresh(force):
            return self._credentials
        import anyio.to_thread  # only async runs pay for importing anyio

        return await anyio.to_thread.run_sync(lambda: self._ready(force=force))

    @staticmethod
    def _apply(request: httpx2.Request, credentials: Any) -> None:
        token = credentials.token
        if not token:
            raise missing_credentials("The credentials gave no access token after refreshing.")
        request.headers["authorization"] = f"Bearer {token}"

"""Bedrock's SigV4 credentials: where they come from and the ``httpx2.Auth`` that signs with them.

``AWSCredentials`` is a key pair (and session token); ``SigV4Auth`` signs every request
with the credentials its source returns for that request:

- fixed ``AWSCredentials``;
- a sync or async callable returning them, called before every request so rotated
  credentials are picked up (an async callable works from the async API only; a sync one
  runs in a worker thread there, since fetching credentials may block);
- the AWS default chain through botocore (``default_chain``): environment, shared config
  and credentials files, profiles, SSO, container and instance metadata. botocore is
  imported the first time a request needs it, and its own refreshing credentials are asked
  for a frozen copy per request (in a worker thread in async runs).

The bearer ``api_key`` is not here: it is a static header (``HeaderAuth``). This module
computes no signature itself (``_sigv4``) and sends nothing (httpx2 drives the flows).
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2

from reverie._errors import MissingAPIKeyError, UserError
from reverie.providers.bedrock._sigv4 import sign_headers

INSTALL_HINT = 'pip install "reverie[bedrock]"'
SERVICE = "bedrock"


@dataclass(frozen=True, slots=True)
class AWSCredentials:
    """An AWS key pair, with the session token of temporary credentials.

    The secret and the token are kept out of ``repr``.
    """

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


CredentialsSource = AWSCredentials | Callable[[], AWSCredentials] | Callable[[], Awaitable[AWSCredentials]]
"""Fixed credentials, or a sync or async callable returning them (called per request)."""


def missing_credentials(detail: str = "") -> MissingAPIKeyError:
    """The error naming every way to give Bedrock credentials."""
    return MissingAPIKeyError(
        provider="bedrock",
        parameter="api_key",
        env_var="AWS_BEARER_TOKEN_BEDROCK",
        hint=(
            "Or pass credentials=bedrock.AWSCredentials(...) (or a callable returning them), "
            "or configure the AWS default credential chain (AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, shared config files, SSO, container or "
            f"instance roles), which needs {INSTALL_HINT}." + (f" {detail}" if detail else "")
        ),
    )


class DefaultChain:
    """The AWS default credential chain, through botocore (loaded on first use)."""

    def __init__(self) -> None:
        self._credentials: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> AWSCredentials:
        """The chain's current credentials (botocore refreshes expiring ones itself)."""
        with self._lock:
            if self._credentials is None:
                try:
                    # Untyped third-party code: held as Any rather than spreading Unknowns.
                    session: Any = importlib.import_module("botocore.session")
                except ImportError:
                    raise missing_credentials(f"botocore is not installed: {INSTALL_HINT}") from None
                found: Any = session.get_session().get_credentials()
                if found is None:
                    raise missing_credentials("The AWS default chain found none.")
                self._credentials = found
            frozen: Any = self._credentials.get_frozen_credentials()
        return AWSCredentials(frozen.access_key, frozen.secret_key, frozen.token or None)

    def __repr__(self) -> str:
        return "DefaultChain()"


class SigV4Auth(httpx2.Auth):
    """Signs each request with SigV4 (service ``bedrock``) as it is sent.

    Args:
        source: ``AWSCredentials``, or a sync or async callable returning them per request.
        region: The region of the credential scope.
        clock: The signing time (injectable for tests).
    """

    requires_request_body = True

    def __init__(
        self,
        source: CredentialsSource,
        *,
        region: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._source = source
        self._is_async = inspect.iscoroutinefunction(source)
        self.region = region
        self._clock = clock

    def __repr__(self) -> str:
        return f"SigV4Auth(region={self.region!r})"

    def sync_auth_flow(self, request: httpx2.Request) -> Generator[httpx2.Request, httpx2.Response, None]:
        """Fetch the credentials, sign, send once."""
        if self._is_async:
            raise _async_in_sync()
        request.read()
        credentials = self._sync_credentials()
        self._sign(request, credentials)
        yield request

    async def async_auth_flow(
        self, request: httpx2.Request
    ) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        """The async twin: a blocking credential source runs in a worker thread."""
        await request.aread()
        credentials = await self._async_credentials()
        self._sign(request, credentials)
        yield request

    def _sync_credentials(self) -> AWSCredentials:
        source = self._source
        if isinstance(source, AWSCredentials):
            return source
        result = source()
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()  # never awaited, by design
            raise _async_in_sync()
        return _checked(result)

    async def _async_credentials(self) -> AWSCredentials:
        source = self._source
        if isinstance(source, AWSCredentials):
            return source
        if self._is_async:
            result: object = source()
        else:
            import anyio.to_thread  # only async runs pay for importing anyio

            result = await anyio.to_thread.run_sync(source)
        if inspect.isawaitable(result):
            result = await result
        return _checked(result)

    def _sign(self, request: httpx2.Request, credentials: AWSCredentials) -> None:
        for name in ("authorization", "x-amz-date", "x-amz-security-token"):
            request.headers.pop(name, None)  # a resent request is signed afresh
        added = sign_headers(
            method=request.method,
            url=str(request.url),
            headers=dict(request.headers),
            body=request.content,
            access_key_id=credentials.access_key_id,
            secret_access_key=credentials.secret_access_key,
            session_token=credentials.session_token,
            region=self.region,
            service=SERVICE,
            now=self._clock(),
        )
        request.headers.update(added)


def _checked(result: object) -> AWSCredentials:
    if not isinstance(result, AWSCredentials):
        raise UserError(
            f"the credentials callable returned {type(result).__name__}; expected bedrock.AWSCredentials"
        )
    return result


def _async_in_sync() -> UserError:
    return UserError(
        "the credentials callable is async, and a sync call cannot await it: "
        "use the async API (generate_async/stream_async) or pass a sync callable"
    )

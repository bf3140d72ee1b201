"""Claude on Amazon Bedrock (Anthropic Messages over Bedrock's invoke API).

    from reverie.providers import bedrock
    p = bedrock.Provider(region="us-east-1", api_key="...")           # bearer token
    p = bedrock.Provider(credentials=bedrock.AWSCredentials(access_key_id="...", secret_access_key="..."))
    p = bedrock.Provider(credentials=fetch_credentials)   # called per request (sync or async)
    p = bedrock.Provider()                                # AWS_BEARER_TOKEN_BEDROCK, else the AWS chain
    model = p.language_model("us.anthropic.claude-haiku-4-5-20251001-v1:0")

Credentials, first found: ``api_key`` or the ``AWS_BEARER_TOKEN_BEDROCK`` environment variable
(bearer); ``credentials`` (signed with SigV4, service ``bedrock``); the AWS default chain
through botocore (``pip install "reverie[bedrock]"``, imported only when a request needs it).
None found: ``MissingAPIKeyError`` naming every way. ``region`` defaults to ``AWS_REGION``,
then ``AWS_DEFAULT_REGION``, then ``us-east-1``. Options and metadata use the ``anthropic``
key (``provider_options={"anthropic": {...}}``); ``model.provider`` is ``"bedrock"``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping

import httpx2

from reverie._provider import _DEFAULT_MAX_RESPONSE_BYTES, ApiKey
from reverie._provider import Provider as _BaseProvider
from reverie._rate_limiter import RateLimiter
from reverie.providers.bedrock._auth import (
    AWSCredentials,
    CredentialsSource,
    DefaultChain,
    SigV4Auth,
    missing_credentials,
)
from reverie.providers.bedrock.codec import ANTHROPIC_VERSION
from reverie.providers.bedrock.codec import BedrockCodec as Codec

__all__ = ["ANTHROPIC_VERSION", "AWSCredentials", "Codec", "CredentialsSource", "Provider"]

BEARER_TOKEN_ENV = "AWS_BEARER_TOKEN_BEDROCK"
DEFAULT_REGION = "us-east-1"


def _default_region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


class Provider(_BaseProvider):
    """Claude on Bedrock (``https://bedrock-runtime.{region}.amazonaws.com``).

    Args:
        region: The AWS region (default: ``AWS_REGION``, ``AWS_DEFAULT_REGION``, ``us-east-1``).
        api_key: A Bedrock API key, sent as ``Authorization: Bearer`` (default:
            ``AWS_BEARER_TOKEN_BEDROCK``), or a callable returning it (refetched once on a
            401, see ``reverie.Provider``); it comes before ``credentials``.
        credentials: ``AWSCredentials``, or a sync or async callable returning them, called
            before every request; requests are signed with SigV4.
        base_url: Replaces the regional endpoint (e.g. a VPC endpoint).
        headers: Extra headers sent with every request.
        http_client: The ``httpx2.Client`` of sync calls (default: created on first use).
        async_http_client: The ``httpx2.AsyncClient`` of async calls.
        max_response_bytes: The largest response (or stream message) accepted.
        timeout: The default clients' timeouts (see ``reverie.Provider``).
        max_connections: The default clients' pool size (see ``reverie.Provider``).
        max_keepalive_connections: Idle connections they keep (see ``reverie.Provider``).
        rate_limiter: A shared ``reverie.RateLimiter`` (see ``reverie.Provider``).

    Raises:
        MissingAPIKeyError: If no credentials are given or set in the environment and
            botocore (the ``reverie[bedrock]`` extra) is not installed.
    """

    name = "bedrock"
    codec_type = Codec

    def __init__(
        self,
        *,
        region: str | None = None,
        api_key: ApiKey | None = None,
        credentials: CredentialsSource | None = None,
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
        self.region = region or _default_region()
        self._credentials_source = credentials
        # First found, in the documented order: api_key or AWS_BEARER_TOKEN_BEDROCK (bearer),
        # then credentials (SigV4), then the AWS default chain.
        if not api_key:
            api_key = os.environ.get(BEARER_TOKEN_ENV) or None
        if api_key is None and credentials is None and importlib.util.find_spec("botocore") is None:
            raise missing_credentials()
        super().__init__(
            api_key=api_key,
            base_url=base_url or f"https://bedrock-runtime.{self.region}.amazonaws.com",
            headers=headers,
            http_client=http_client,
            async_http_client=async_http_client,
            timeout=timeout,
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive_connections,
            rate_limiter=rate_limiter,
            max_response_bytes=max_response_bytes,
        )

    def _resolve_api_key(self, api_key: str | None) -> str | None:
        return api_key or None  # the environment was read in __init__, after credentials

    def __repr__(self) -> str:
        has_key = self._api_key is not None or self._api_key_source is not None
        way = "api_key" if has_key else "credentials" if self._credentials_source else "default chain"
        return f"Provider(region={self.region!r}, auth={way!r})"

    def auth(self) -> httpx2.Auth:
        """A bearer header for an API key, else SigV4 with the given or the default-chain credentials."""
        key_auth = super().auth()  # the API key or key callable, as a bearer token
        if key_auth is not None:
            return key_auth
        source = self._credentials_source if self._credentials_source is not None else DefaultChain()
        return SigV4Auth(source, region=self.region)

"""``HttpLanguageModel``: a codec bound to a provider's endpoints, auth and clients.

It implements the ``LanguageModel`` protocol by preparing each request purely (the
provider resolves its URL and headers per request, the codec picks its stream framing)
and handing it, with the provider's ``httpx2.Auth``, to the engine:
``reverie._sync.engine`` for ``generate``/``stream``, ``reverie._async.engine`` for the
``*_async`` methods.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx2

from reverie._async.objects import AsyncObjectMethods
from reverie._codec import Codec, PreparedRequest, WireRequest, encode_body, stream_framing
from reverie._http.credentials import HeaderAuth
from reverie._http.endpoint import Endpoint
from reverie._http.headers import check_headers, merge_headers
from reverie._log import logger, safe_url, with_masked_credentials
from reverie._model import Call, Response
from reverie._parts import ModelStreamPart
from reverie._sync import engine as sync_engine
from reverie._sync.objects import ObjectMethods

if TYPE_CHECKING:
    from reverie._rate_limiter import RateLimiter  # loaded by whoever makes one


_MAX_MERGED_HEADERS = 32


class ModelHost(Protocol):
    """What a model needs from its provider: endpoints and HTTP clients (created lazily)."""

    @property
    def http_client(self) -> httpx2.Client: ...

    @property
    def async_http_client(self) -> httpx2.AsyncClient: ...

    def endpoint(self, model_id: str, request: WireRequest, *, stream: bool) -> Endpoint:
        """The URL and headers of ``request``."""
        ...


class HttpLanguageModel(ObjectMethods, AsyncObjectMethods):
    """A language model served over HTTP by a provider.

    Besides the ``LanguageModel`` protocol it has ``generate_object`` / ``stream_object``
    (and their ``*_async`` twins) for structured output.
    """

    def __init__(
        self,
        *,
        codec: Codec,
        model_id: str,
        host: ModelHost,
        auth: httpx2.Auth | None,
        max_response_bytes: int,
        provider: str | None = None,
        url_user: str | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.codec = codec
        self.rate_limiter = rate_limiter
        """Shared by the provider's models: every request waits on it (``None``: no limit)."""
        self._url_user = url_user
        self._provider = provider
        self._model_id = model_id
        self._host = host
        self._auth = auth
        self._max_response_bytes = max_response_bytes
        self._headers_source = f"the headers of a request to {self.provider}"
        """Where a request's merged headers come from, for ``check_headers``'s message."""
        self._merged_headers: dict[tuple[Any, ...], dict[str, str]] = {}
        """Checked merged headers by their layers: most requests of a model send the same ones."""

    @property
    def provider(self) -> str:
        """The provider's name: the one it was built with, else its codec's (the options key).

        They differ where a platform speaks another provider's API: Azure's models are
        ``"azure"`` but read and write the ``openai`` options and metadata.
        """
        return self._provider or self.codec.name

    @property
    def model_id(self) -> str:
        """The model identifier sent on the wire."""
        return self._model_id

    @property
    def object_mode(self) -> Literal["json", "tool"]:
        """How ``generate_object(mode="auto")`` asks this provider for an object.

        ``"json"`` where the codec encodes native JSON-schema output (its ``object_mode``
        attribute), else ``"tool"``: a tool named after the schema, forced by ``tool_choice``.
        """
        return "json" if getattr(self.codec, "object_mode", "tool") == "json" else "tool"

    @property
    def supports_json_output(self) -> bool:
        """Whether the codec encodes native JSON-schema output (``generate_object(mode="json")``)."""
        return bool(getattr(self.codec, "supports_json_output", False))

    def __repr__(self) -> str:
        return f"HttpLanguageModel(provider={self.provider!r}, model_id={self._model_id!r})"

    def prepare(self, call: Call, *, stream: bool) -> PreparedRequest:
        """The exact request ``call`` becomes (no I/O; useful for inspecting bodies).

        Static credentials (an API key's header) are included, as sent. A token or a
        signature is only added when the request is sent, by ``PreparedRequest.auth``.
        """
        request = self._prepare(call, stream=stream)
        if isinstance(self._auth, HeaderAuth):
            self._auth.apply(request.headers)
        return request

    def _prepare(self, call: Call, *, stream: bool) -> PreparedRequest:
        """The request without credentials: the engine sends it with ``auth``."""
        wire = self.codec.build_request(call, stream=stream)
        endpoint = self._host.endpoint(self._model_id, wire, stream=stream)
        headers = self._headers(endpoint.headers, wire.headers, call.headers)
        if stream:
            # The framing is asked for on the first stream: a model that only generates never loads it.
            headers["accept"] = stream_framing(self.codec).accept
        return PreparedRequest(
            url=endpoint.url,
            headers=headers,
            content=encode_body(wire.body),
            warnings=wire.warnings,
            max_response_bytes=self._max_response_bytes,
            timeout=call.timeout,
            auth=self._auth,
            rate_limiter=self.rate_limiter,
            deadline_at=call.deadline_at,
        )

    def _headers(
        self, endpoint: Mapping[str, str], wire: Mapping[str, str], call: Mapping[str, str] | None
    ) -> dict[str, str]:
        """The layers merged and checked; the same layers as an earlier request's are not checked again."""
        try:
            key = (tuple(endpoint.items()), tuple(wire.items()), tuple(call.items()) if call else ())
            merged = self._merged_headers.get(key)
        except TypeError:  # a value that cannot be hashed (and is no header): checked below
            key, merged = None, None
        if merged is None:
            check_headers(call, "the call's headers")
            merged = merge_headers(endpoint, wire, call)
            check_headers(merged, self._headers_source)
            if key is not None:
                if len(self._merged_headers) >= _MAX_MERGED_HEADERS:
                    self._merged_headers.clear()
                self._merged_headers[key] = merged
        return dict(merged)

    def _outgoing(self, call: Call, *, stream: bool) -> PreparedRequest:
        """The request about to be sent, logged at DEBUG (URL credentials masked)."""
        request = self._prepare(call, stream=stream)
        if logger.isEnabledFor(logging.DEBUG):
            url = request.url
            if self._url_user is not None:  # credentials taken out of the base URL
                url = with_masked_credentials(url, self._url_user)
            logger.debug(
                "request POST %s (%s, %s, %d bytes)",
                safe_url(url),
                self.provider,
                "stream" if stream else "whole",
                len(request.content),
            )
        return request

    def generate(self, call: Call) -> Response:
        """Answer ``call`` with one request."""
        return sync_engine.generate(self._host.http_client, self.codec, self._outgoing(call, stream=False))

    def stream(self, call: Call) -> Iterator[ModelStreamPart]:
        """Answer ``call`` as a stream of parts."""
        return sync_engine.stream(self._host.http_client, self.codec, self._outgoing(call, stream=True))

    async def generate_async(self, call: Call) -> Response:
        """Async ``generate``."""
        from reverie._async import engine as async_engine  # loaded by the first async call

        return await async_engine.generate(
            self._host.async_http_client, self.codec, self._outgoing(call, stream=False)
        )

    def stream_async(self, call: Call) -> AsyncIterator[ModelStreamPart]:
        """Async ``stream``."""
        from reverie._async import engine as async_engine  # loaded by the first async call

        return async_engine.stream(
            self._host.async_http_client, self.codec, self._outgoing(call, stream=True)
        )

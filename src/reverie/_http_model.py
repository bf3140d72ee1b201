"""``HttpLanguageModel``: a codec bound to a provider's URL, headers and clients.

It implements the ``LanguageModel`` protocol by preparing the request purely and
handing it to the engine: ``reverie._sync.engine`` for ``generate``/``stream``,
``reverie._async.engine`` for the ``*_async`` methods.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol

import httpx2

from reverie._async import engine as async_engine
from reverie._codec import Codec, PreparedRequest, encode_body, stream_framing
from reverie._model import Call, Response
from reverie._parts import ModelStreamPart
from reverie._sync import engine as sync_engine


class ClientSource(Protocol):
    """Where a model gets its HTTP clients (the provider, which creates them lazily)."""

    @property
    def http_client(self) -> httpx2.Client: ...

    @property
    def async_http_client(self) -> httpx2.AsyncClient: ...


class HttpLanguageModel:
    """A language model served over HTTP by a provider."""

    def __init__(
        self,
        *,
        codec: Codec,
        model_id: str,
        base_url: str,
        headers: dict[str, str],
        client_source: ClientSource,
        max_response_bytes: int,
    ) -> None:
        self.codec = codec
        self._model_id = model_id
        self._base_url = base_url
        self._headers = headers
        self._clients = client_source
        self._max_response_bytes = max_response_bytes
        self._accept_stream = stream_framing(codec).accept

    @property
    def provider(self) -> str:
        """The provider's name."""
        return self.codec.name

    @property
    def model_id(self) -> str:
        """The model identifier sent on the wire."""
        return self._model_id

    def __repr__(self) -> str:
        return f"HttpLanguageModel(provider={self.provider!r}, model_id={self._model_id!r})"

    def prepare(self, call: Call, *, stream: bool) -> PreparedRequest:
        """The exact request ``call`` becomes (no I/O; useful for inspecting bodies)."""
        wire = self.codec.build_request(call, stream=stream)
        headers = {**self._headers, **wire.headers, **{k.lower(): v for k, v in call.headers.items()}}
        if stream:
            headers["accept"] = self._accept_stream
        return PreparedRequest(
            url=self._base_url + wire.path,
            headers=headers,
            content=encode_body(wire.body),
            warnings=wire.warnings,
            max_response_bytes=self._max_response_bytes,
        )

    def generate(self, call: Call) -> Response:
        """Answer ``call`` with one request."""
        return sync_engine.generate(self._clients.http_client, self.codec, self.prepare(call, stream=False))

    def stream(self, call: Call) -> Iterator[ModelStreamPart]:
        """Answer ``call`` as a stream of parts."""
        return sync_engine.stream(self._clients.http_client, self.codec, self.prepare(call, stream=True))

    async def generate_async(self, call: Call) -> Response:
        """Async ``generate``."""
        return await async_engine.generate(
            self._clients.async_http_client, self.codec, self.prepare(call, stream=False)
        )

    def stream_async(self, call: Call) -> AsyncIterator[ModelStreamPart]:
        """Async ``stream``."""
        return async_engine.stream(
            self._clients.async_http_client, self.codec, self.prepare(call, stream=True)
        )

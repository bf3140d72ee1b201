"""The Gemini API codec (``models/{id}:generateContent`` and ``:streamGenerateContent?alt=sse``).

``GeminiCodec`` ties the pieces together: request bodies are built in ``encode.py``, whole
responses and errors are read in ``decode.py``, event streams in ``stream.py``. This module
holds no wire logic of its own and does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from reverie._codec import WireRequest, reads_payload
from reverie._content import CallWarning
from reverie._errors import ProviderError
from reverie._model import Call, Response
from reverie.providers.google import decode, encode
from reverie.providers.google.stream import GeminiStreamDecoder
from reverie.providers.google.wire import PROVIDER


class GeminiCodec:
    """Wire codec for the Gemini API."""

    name = PROVIDER
    object_mode: ClassVar[Literal["json", "tool"]] = "json"
    """What ``generate_object(mode="auto")`` uses: ``responseJsonSchema`` (fantasy v0.41.2)."""
    supports_json_output: ClassVar[bool] = True

    def __init__(self, model_id: str) -> None:
        # Both "gemini-2.5-flash" and the API's own "models/gemini-2.5-flash" are accepted.
        self.model_id = model_id.removeprefix("models/")

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The ``generateContent`` (or streaming) request for ``call``."""
        warnings: list[CallWarning] = []
        body = encode.request_body(call, warnings=warnings)
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return WireRequest(path=f"/models/{self.model_id}:{method}", body=body, warnings=warnings)

    @reads_payload("Gemini response")
    def parse_response(self, payload: Any) -> Response:
        """Read a ``GenerateContentResponse``."""
        return decode.read_response(payload)

    def stream_decoder(self) -> GeminiStreamDecoder:
        """A decoder for one ``streamGenerateContent`` event stream."""
        return GeminiStreamDecoder()

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer, with the API's status and message (see ``decode.read_error``)."""
        return decode.read_error(status_code, headers, body, url)

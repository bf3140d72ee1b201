"""The Gemini API codec (``models/{id}:generateContent`` and ``:streamGenerateContent?alt=sse``).

``GeminiCodec`` ties the pieces together: request bodies are built in ``encode.py``, whole
responses and errors are read in ``decode.py``, event streams in ``stream.py``. This module
holds no wire logic of its own and does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    send_call_ids: ClassVar[bool] = True
    """Whether ``functionCall`` and ``functionResponse`` parts carry the call's id (Vertex's take none)."""

    def __init__(self, model_id: str, *, tool_call_id: Callable[[], str] | None = None) -> None:
        """A codec for ``model_id``.

        Args:
            model_id: ``"gemini-2.5-flash"`` or the API's own ``"models/gemini-2.5-flash"``.
            tool_call_id: Makes the id of each function call the response leaves without
                one (default: a random UUID4 string).
        """
        self.model_id = model_id.removeprefix("models/")
        self._new_call_id = tool_call_id or decode.random_call_id

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The ``generateContent`` (or streaming) request for ``call``."""
        warnings: list[CallWarning] = []
        body = encode.request_body(call, warnings=warnings, call_ids=self.send_call_ids)
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return WireRequest(path=f"/models/{self.model_id}:{method}", body=body, warnings=warnings)

    @reads_payload("Gemini response")
    def parse_response(self, payload: Any) -> Response:
        """Read a ``GenerateContentResponse``."""
        return decode.read_response(payload, decode.CallIds(self._new_call_id))

    def stream_decoder(self) -> GeminiStreamDecoder:
        """A decoder for one ``streamGenerateContent`` event stream."""
        return GeminiStreamDecoder(decode.CallIds(self._new_call_id))

    rejects_credentials = staticmethod(decode.rejects_credentials)
    """Whether a 4xx answer's body says the key was refused (``Provider.rejects_credentials``)."""

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer, with the API's status and message (see ``decode.read_error``)."""
        return decode.read_error(status_code, headers, body, url)

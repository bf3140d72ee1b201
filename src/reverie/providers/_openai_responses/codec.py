"""The OpenAI Responses API codec, used by ``openai`` and ``azure`` with ``api="responses"``.

``OpenAIResponsesCodec`` ties the package together: requests are built in ``encode.py``,
whole responses and errors are read in ``decode.py``, streams in ``stream.py``. It holds
no wire logic of its own. ``name`` is the key of its ``provider_options`` and
``provider_metadata`` (``openai``, which Azure shares, as fantasy does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from reverie._codec import WireRequest, reads_payload
from reverie._content import CallWarning
from reverie._errors import ProviderError
from reverie._model import Call, Response
from reverie.providers._openai_chat import decode as chat_decode
from reverie.providers._openai_responses import decode, encode
from reverie.providers._openai_responses.stream import ResponsesStreamDecoder


class OpenAIResponsesCodec:
    """Wire codec for ``POST {base_url}/responses``."""

    name: str = "openai"
    object_mode: ClassVar[Literal["json", "tool"]] = "json"
    """What ``generate_object(mode="auto")`` uses: ``text.format`` json_schema (the recordings)."""
    supports_json_output: ClassVar[bool] = True
    """``Call.response_format`` is encoded as ``text.format``."""

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The Responses API request for ``call``."""
        warnings: list[CallWarning] = []
        body = encode.request_body(
            call, model_id=self.model_id, options_key=self.name, stream=stream, warnings=warnings
        )
        return WireRequest(path="/responses", body=body, warnings=warnings)

    @reads_payload("response")
    def parse_response(self, payload: Any) -> Response:
        """Read a ``response`` object."""
        return decode.read_response(payload, self.name)

    def stream_decoder(self) -> ResponsesStreamDecoder:
        """A decoder for one streamed response."""
        return ResponsesStreamDecoder(self.name)

    rejects_credentials = staticmethod(chat_decode.rejects_credentials)
    """Whether a 4xx answer's body says the key was refused (errors read as chat completions' do)."""

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer, with the provider's own message."""
        return decode.read_error(status_code, headers, body, url)

"""The Anthropic Messages API codec (``POST {base_url}/messages``).

``AnthropicCodec`` ties the pieces together: request bodies are built in ``encode.py``,
whole messages and errors are read in ``decode.py``, event streams in ``stream.py``. This
module holds no wire logic of its own and does no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from reverie._codec import WireRequest, reads_payload
from reverie._content import CallWarning
from reverie._errors import ProviderError
from reverie._model import Call, Response
from reverie.providers.anthropic import decode, encode
from reverie.providers.anthropic.stream import AnthropicStreamDecoder
from reverie.providers.anthropic.wire import PROVIDER


class AnthropicCodec:
    """Wire codec for the Anthropic Messages API."""

    name = PROVIDER
    object_mode: ClassVar[Literal["json", "tool"]] = "tool"
    """What ``generate_object(mode="auto")`` uses: a tool forced by ``tool_choice`` (fantasy v0.41.2)."""
    supports_json_output: ClassVar[bool] = False

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The ``/messages`` request for ``call``."""
        warnings: list[CallWarning] = []
        body = encode.request_body(call, model_id=self.model_id, stream=stream, warnings=warnings)
        if call.response_format is not None:
            warnings.append(
                CallWarning(setting="response_format", message="anthropic: no native JSON output; ignored")
            )
        flags = encode.betas(call)
        headers = {"anthropic-beta": ",".join(flags)} if flags else {}
        return WireRequest(path="/messages", body=body, headers=headers, warnings=warnings)

    @reads_payload("Anthropic response")
    def parse_response(self, payload: Any) -> Response:
        """Read a ``message`` object."""
        return decode.read_message(payload)

    def stream_decoder(self) -> AnthropicStreamDecoder:
        """A decoder for one Messages event stream."""
        return AnthropicStreamDecoder()

    rejects_credentials = staticmethod(decode.rejects_credentials)
    """Whether a 4xx answer's body says the key was refused (``Provider.rejects_credentials``)."""

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer, with the API's own type and message (see ``decode.read_error``)."""
        return decode.read_error(status_code, headers, body, url)

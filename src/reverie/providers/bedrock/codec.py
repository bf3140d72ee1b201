"""Claude on Amazon Bedrock: the Anthropic Messages codec over Bedrock's invoke API.

Bodies are Anthropic's (``providers/anthropic/encode.py``) without ``model`` and
``stream``, which Bedrock takes from the URL, plus ``anthropic_version:
"bedrock-2023-05-31"``. Requests go to ``/model/{url-quoted id}/invoke`` or
``/invoke-with-response-stream``. Whole answers are Anthropic messages; streams are AWS
event-stream frames (``AWS_EVENT_STREAM``) whose ``chunk`` events carry
``{"bytes": "<base64 Anthropic event>"}``, unwrapped here and read by the Anthropic stream
decoder. Exceptions inside the stream are raised by the framing decoder
(``reverie._http.eventstream``). Options and metadata keep the ``anthropic`` key.
This module does no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any, cast
from urllib.parse import quote

from reverie._codec import WireRequest, loads_event, status_error
from reverie._content import Usage
from reverie._errors import InvalidResponseError, ProviderError
from reverie._http.framing import AWS_EVENT_STREAM
from reverie._http.sse import SSEEvent
from reverie._model import Call
from reverie._parts import ModelStreamPart
from reverie.providers.anthropic.codec import AnthropicCodec
from reverie.providers.anthropic.stream import AnthropicStreamDecoder

ANTHROPIC_VERSION = "bedrock-2023-05-31"
"""The ``anthropic_version`` of every Bedrock body."""


class BedrockCodec(AnthropicCodec):
    """The Anthropic codec, spoken to Bedrock's ``invoke`` endpoints."""

    name = "bedrock"
    framing = AWS_EVENT_STREAM

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The ``invoke`` (or ``invoke-with-response-stream``) request for ``call``."""
        request = super().build_request(call, stream=stream)
        request.body.pop("model", None)
        request.body.pop("stream", None)
        request.body["anthropic_version"] = ANTHROPIC_VERSION
        choice = request.body.get("tool_choice")
        if (
            isinstance(choice, dict)
            and cast(dict[str, Any], choice).get("disable_parallel_tool_use") is False
        ):
            # Recorded: Bedrock's tool_choice omits the default; only a request to call one
            # tool at a time (true) says it.
            del cast(dict[str, Any], choice)["disable_parallel_tool_use"]
        action = "invoke-with-response-stream" if stream else "invoke"
        request.path = f"/model/{quote(self.model_id, safe='')}/{action}"
        return request

    def stream_decoder(self) -> BedrockStreamDecoder:  # pyright: ignore[reportIncompatibleMethodOverride]
        """A decoder for one Bedrock event stream of Anthropic events."""
        return BedrockStreamDecoder()

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer: Bedrock's ``{"message": ...}`` with its error type."""
        message = _bedrock_message(body)
        if message is None:
            return super().parse_error(status_code, headers, body, url)
        kind = headers.get("x-amzn-errortype", "").split(":", 1)[0]
        text = f"{kind}: {message}" if kind else message
        return status_error(text, status_code=status_code, headers=headers, body=body, url=url)


class BedrockStreamDecoder:
    """Unwraps each ``chunk`` event's base64 Anthropic event and feeds it to the Anthropic decoder."""

    def __init__(self) -> None:
        self._inner = AnthropicStreamDecoder()

    def feed(self, event: SSEEvent) -> list[ModelStreamPart]:
        """Translate one ``chunk`` event; events of other types carry no content."""
        if event.event != "chunk":
            return []
        payload = loads_event(event)
        if not isinstance(payload, dict):
            raise InvalidResponseError("Bedrock stream chunk is not a JSON object", body=event.data)
        encoded = cast(dict[str, Any], payload).get("bytes")
        if not isinstance(encoded, str):
            raise InvalidResponseError("Bedrock stream chunk has no bytes", body=event.data)
        try:
            text = base64.b64decode(encoded, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidResponseError("Bedrock stream chunk is not base64 UTF-8", body=event.data) from None
        inner = _event_type(text)
        return self._inner.feed(SSEEvent(inner, text))

    def end(self) -> list[ModelStreamPart]:
        """The stream is over (see ``AnthropicStreamDecoder.end``)."""
        return self._inner.end()

    @property
    def reported_usage(self) -> Usage | None:
        """The usage the Anthropic events reported so far."""
        return self._inner.reported_usage


def _event_type(text: str) -> str:
    try:
        value: Any = json.loads(text)
    except ValueError:
        return "message"  # the Anthropic decoder reports the malformed JSON
    if isinstance(value, dict):
        kind = cast(dict[str, Any], value).get("type")
        if isinstance(kind, str):
            return kind
    return "message"


def _bedrock_message(body: str) -> str | None:
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    fields = cast(dict[str, Any], payload)
    if "error" in fields:  # an Anthropic error body passed through
        return None
    for key in ("message", "Message"):
        value = fields.get(key)
        if isinstance(value, str):
            return value
    return None

"""A sans-IO decoder for the AWS event stream (``application/vnd.amazon.eventstream``).

Bedrock streams answers as length-prefixed binary messages rather than server-sent events.
Each message is::

    total length (u32) | headers length (u32) | prelude CRC32 (u32)   <- the 12-byte prelude
    headers (headers length bytes)
    payload (total length - headers length - 16 bytes)
    message CRC32 (u32, over everything before it)

all integers big-endian. A header is a name (u8 length, UTF-8), a value type (u8) and a
value whose size depends on the type (the AWS spec's types 0-9; Bedrock sends strings,
type 7). Feed the decoder bytes split anywhere; it returns one ``SSEEvent`` per complete
``event`` message (``event`` is the ``:event-type`` header, ``data`` the payload as text), so
codecs read both framings alike. An ``exception`` or ``error`` message raises
``ProviderError`` carrying the exception type and message, retryable for throttling and
server-side failures.

It does not decode payloads further: Bedrock's ``{"bytes": "<base64 JSON>"}`` chunks are
the codec's business. Damaged bytes (a CRC mismatch, a stream that ends inside a message)
raise ``CorruptStreamError``, an ``InvalidResponseError`` that is also a retryable
``ProviderError``, as a broken connection is; a well-formed message this
module cannot read (an unknown header type, a frame over the size limit) raises
``InvalidResponseError``.
"""

from __future__ import annotations

import binascii
import struct
from typing import Any, cast

from reverie import _json
from reverie._errors import InvalidResponseError, ProviderError, ReverieError
from reverie._http.sse import SSEEvent

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_PRELUDE = struct.Struct(">III")
_PRELUDE_LENGTH = 12
_MESSAGE_CRC_LENGTH = 4
_MINIMUM_LENGTH = _PRELUDE_LENGTH + _MESSAGE_CRC_LENGTH
_DEFAULT_MAX_FRAME = 64 * 1024 * 1024
# Fixed value sizes of header types 0-9 (bool true/false carry no bytes); types 6 (bytes)
# and 7 (string) carry a u16 length instead.
_FIXED_SIZES = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}
_SIGNED = {2: ">b", 3: ">h", 4: ">i", 5: ">q", 8: ">q"}
_BYTE_ARRAY, _STRING = 6, 7
# AWS exception names (lower-cased, "exception" suffix dropped) after which the same request
# may succeed: throttling and server-side failures. Bedrock documents modelStreamErrorException
# as "retry your request".
_RETRYABLE_EXCEPTIONS = frozenset(
    {
        "throttling",
        "throttled",
        "toomanyrequests",
        "servicequotaexceeded",
        "serviceunavailable",
        "internalserver",
        "internalfailure",
        "modelstreamerror",
        "modeltimeout",
        "modelnotready",
    }
)

HeaderValue = bool | int | bytes | str


class EventStreamDecoder:
    """Turns AWS event-stream bytes into ``SSEEvent`` objects."""

    __slots__ = ("_buffer", "_failure", "_max_frame")

    def __init__(self, *, max_frame: int = _DEFAULT_MAX_FRAME) -> None:
        # The largest message accepted, so a corrupt or hostile length cannot exhaust memory.
        self._max_frame = max_frame
        self._buffer = bytearray()
        self._failure: ReverieError | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume ``chunk`` and return the events of the messages it completes.

        An error met after some events of the same chunk is held back until the next call,
        so the events before it are delivered first (the text streamed before a failure
        must reach the caller).
        """
        if self._failure is not None:
            raise self._failure
        self._buffer += chunk
        events: list[SSEEvent] = []
        try:
            self._decode(events)
        except ReverieError as error:
            if not events:
                raise
            self._failure = error
        return events

    def _decode(self, events: list[SSEEvent]) -> None:
        buffer = self._buffer
        while len(buffer) >= _PRELUDE_LENGTH:
            total, headers_length, prelude_crc = _PRELUDE.unpack_from(buffer)
            if binascii.crc32(buffer[:8]) != prelude_crc:
                raise _damaged("prelude CRC mismatch")
            if total < _MINIMUM_LENGTH or headers_length > total - _MINIMUM_LENGTH:
                raise InvalidResponseError(
                    f"event stream message has inconsistent lengths (total {total}, headers {headers_length})"
                )
            if total > self._max_frame:
                raise InvalidResponseError(
                    f"event stream message of {total} bytes exceeds the limit of {self._max_frame} bytes"
                )
            if len(buffer) < total:
                break
            message = bytes(buffer[:total])
            del buffer[:total]
            (message_crc,) = struct.unpack_from(">I", message, total - _MESSAGE_CRC_LENGTH)
            if binascii.crc32(message[: total - _MESSAGE_CRC_LENGTH]) != message_crc:
                raise _damaged("message CRC mismatch")
            headers_end = _PRELUDE_LENGTH + headers_length
            headers = parse_headers(message[_PRELUDE_LENGTH:headers_end])
            payload = message[headers_end : total - _MESSAGE_CRC_LENGTH]
            event = _event(headers, payload)
            if event is not None:
                events.append(event)

    def end(self) -> list[SSEEvent]:
        """Signal the end of the stream; raise if it stopped inside a message."""
        if self._failure is not None:
            raise self._failure
        if self._buffer:
            left = len(self._buffer)
            self._buffer = bytearray()
            raise _damaged(f"stream ended inside a message ({left} bytes left over)")
        return []


def parse_headers(raw: bytes) -> dict[str, HeaderValue]:
    """The headers block of one message, by name."""
    headers: dict[str, HeaderValue] = {}
    position, end = 0, len(raw)
    try:
        while position < end:
            name_length = raw[position]
            name = raw[position + 1 : position + 1 + name_length].decode("utf-8")
            position += 1 + name_length
            kind = raw[position]
            position += 1
            value: HeaderValue
            if kind in _FIXED_SIZES:
                size = _FIXED_SIZES[kind]
                field = raw[position : position + size]
                if len(field) != size:
                    raise IndexError(name)
                if kind in (0, 1):
                    value = kind == 0
                elif kind == 9:
                    value = field  # a UUID's 16 bytes
                else:
                    (value,) = struct.unpack(_SIGNED[kind], field)
                position += size
            elif kind in (_BYTE_ARRAY, _STRING):
                (size,) = struct.unpack_from(">H", raw, position)
                field = raw[position + 2 : position + 2 + size]
                if len(field) != size:
                    raise IndexError(name)
                value = field.decode("utf-8") if kind == _STRING else field
                position += 2 + size
            else:
                raise InvalidResponseError(f"event stream header {name!r} has unknown value type {kind}")
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError):
        raise InvalidResponseError("event stream message has a malformed headers block") from None
    return headers


def _event(headers: dict[str, HeaderValue], payload: bytes) -> SSEEvent | None:
    kind = headers.get(":message-type", "event")
    text = payload.decode("utf-8", errors="replace")
    if kind == "event":
        name = headers.get(":event-type")
        return SSEEvent(name if isinstance(name, str) and name else "message", text)
    if kind == "exception":
        # {"message": "..."} in the payload, the exception's name in a header:
        # ":exception-type: throttlingException".
        exception_type = _string(headers.get(":exception-type")) or "exception"
        raise _exception(exception_type, _payload_message(text) or text, text)
    if kind == "error":
        # Errors put both in headers: ":error-code" and ":error-message".
        code = _string(headers.get(":error-code")) or "error"
        raise _exception(code, _string(headers.get(":error-message")) or text, text)
    return None  # a message type this version of the protocol does not define: skip it


def _exception(name: str, message: str, body: str) -> ProviderError:
    normalized = name.lower().removesuffix("exception")
    return ProviderError(
        f"{name}: {message}" if message else name,
        response_body=body or None,
        retryable=normalized in _RETRYABLE_EXCEPTIONS,
    )


def _payload_message(text: str) -> str:
    try:
        payload: Any = _json.loads(text)
    except ValueError:
        return ""
    if isinstance(payload, dict):
        fields = cast(dict[str, Any], payload)
        for key in ("message", "Message"):  # AWS services spell it both ways
            value = fields.get(key)
            if isinstance(value, str):
                return value
    return ""


def _string(value: HeaderValue | None) -> str:
    return value if isinstance(value, str) else ""


class CorruptStreamError(ProviderError, InvalidResponseError):
    """Damaged event-stream bytes (a CRC mismatch, a cut message).

    An ``InvalidResponseError`` (a bad frame cannot be read) that is also a retryable
    ``ProviderError``: the bytes were damaged or cut on the way, like a connection reset
    mid-body, and the same request is expected to succeed.
    """


def _damaged(what: str) -> ProviderError:
    return CorruptStreamError(f"corrupt event stream: {what}", retryable=True)

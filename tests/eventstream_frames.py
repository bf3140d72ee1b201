"""Hand-made AWS event-stream messages for tests, CRCs computed with ``binascii.crc32``."""

from __future__ import annotations

import binascii
import json
import struct


def string_header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (
        bytes([len(encoded_name)])
        + encoded_name
        + bytes([7])
        + struct.pack(">H", len(encoded_value))
        + encoded_value
    )


def frame(headers: bytes, payload: bytes) -> bytes:
    """One message as the AWS spec lays it out, CRCs computed with ``binascii.crc32``."""
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack(">I", binascii.crc32(body))


def event(event_type: str, payload: bytes) -> bytes:
    headers = (
        string_header(":message-type", "event")
        + string_header(":event-type", event_type)
        + string_header(":content-type", "application/json")
    )
    return frame(headers, payload)


def exception(exception_type: str, message: str) -> bytes:
    headers = string_header(":message-type", "exception") + string_header(":exception-type", exception_type)
    return frame(headers, json.dumps({"message": message}).encode())

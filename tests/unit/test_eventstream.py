"""The AWS event-stream decoder (``reverie._http.eventstream``) against hand-made frames."""

from __future__ import annotations

import binascii
import json
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reverie import InvalidResponseError, ProviderError
from reverie._codec import stream_framing
from reverie._http.eventstream import EventStreamDecoder, parse_headers
from reverie._http.framing import AWS_EVENT_STREAM, SSE, SSE_WITH_DONE, EventStreamFraming, SSEFraming
from reverie._http.sse import SSEDecoder, SSEEvent
from reverie.providers import anthropic, openai
from tests.eventstream_frames import event, exception, frame, string_header

DELTA = json.dumps({"contentBlockDelta": {"delta": {"text": "Olá"}, "contentBlockIndex": 0}}).encode()
STOP = json.dumps({"stopReason": "end_turn"}).encode()
STREAM = event("contentBlockDelta", DELTA) + event("messageStop", STOP)
EXPECTED = [SSEEvent("contentBlockDelta", DELTA.decode()), SSEEvent("messageStop", STOP.decode())]


def decode(*chunks: bytes, max_frame: int | None = None) -> list[SSEEvent]:
    decoder = EventStreamDecoder() if max_frame is None else EventStreamDecoder(max_frame=max_frame)
    events: list[SSEEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    return events + decoder.end()


def test_events_become_sse_events_named_by_their_event_type() -> None:
    assert decode(STREAM) == EXPECTED


def test_every_split_point_yields_the_same_events() -> None:
    for cut in range(len(STREAM) + 1):
        assert decode(STREAM[:cut], STREAM[cut:]) == EXPECTED, cut


def test_byte_by_byte_feeding_yields_the_same_events() -> None:
    assert decode(*(STREAM[index : index + 1] for index in range(len(STREAM)))) == EXPECTED


def test_a_message_without_payload_or_event_type() -> None:
    assert decode(frame(b"", b"")) == [SSEEvent("message", "")]


def test_bad_prelude_crc_is_a_retryable_provider_error() -> None:
    broken = bytearray(event("contentBlockDelta", DELTA))
    broken[8] ^= 0xFF
    with pytest.raises(ProviderError, match="prelude CRC") as info:
        decode(bytes(broken))
    assert info.value.is_retryable


def test_bad_message_crc_is_a_retryable_provider_error() -> None:
    broken = bytearray(STREAM)
    broken[40] ^= 0x01  # inside the first message's headers
    with pytest.raises(ProviderError, match="message CRC") as info:
        decode(bytes(broken))
    assert info.value.is_retryable


def test_a_stream_truncated_inside_a_message_raises_at_the_end() -> None:
    decoder = EventStreamDecoder()
    assert decoder.feed(STREAM[:-5]) == EXPECTED[:1]  # the first message is whole
    with pytest.raises(ProviderError, match="ended inside a message") as info:
        decoder.end()
    assert info.value.is_retryable


def test_a_truncated_prelude_also_raises_at_the_end() -> None:
    with pytest.raises(ProviderError, match="ended inside a message"):
        decode(STREAM[:7])


def test_a_message_over_the_limit_is_refused_from_its_prelude() -> None:
    big = event("contentBlockDelta", b"x" * 1000)
    decoder = EventStreamDecoder(max_frame=512)
    with pytest.raises(InvalidResponseError, match="exceeds the limit of 512 bytes"):
        decoder.feed(big[:12])  # refused before the payload is buffered


def test_inconsistent_lengths_are_invalid() -> None:
    prelude = struct.pack(">II", 20, 30)  # headers longer than the message
    prelude += struct.pack(">I", binascii.crc32(prelude))
    with pytest.raises(InvalidResponseError, match="inconsistent lengths"):
        decode(prelude + b"\0" * 8)


@pytest.mark.parametrize(
    ("exception_type", "retryable"),
    [
        ("throttlingException", True),
        ("serviceUnavailableException", True),
        ("internalServerException", True),
        ("modelStreamErrorException", True),
        ("validationException", False),
        ("accessDeniedException", False),
    ],
)
def test_exception_messages_raise_provider_errors(exception_type: str, retryable: bool) -> None:
    decoder = EventStreamDecoder()
    assert decoder.feed(event("contentBlockDelta", DELTA)) == EXPECTED[:1]
    with pytest.raises(ProviderError) as info:
        decoder.feed(exception(exception_type, "Too many requests, please wait."))
    error = info.value
    assert error.message == f"{exception_type}: Too many requests, please wait."
    assert error.is_retryable is retryable
    assert error.response_body == json.dumps({"message": "Too many requests, please wait."})


def test_error_messages_carry_code_and_message_in_headers() -> None:
    headers = (
        string_header(":message-type", "error")
        + string_header(":error-code", "InternalFailure")
        + string_header(":error-message", "something broke")
    )
    with pytest.raises(ProviderError, match="InternalFailure: something broke") as info:
        decode(frame(headers, b""))
    assert info.value.is_retryable


def test_unknown_message_types_are_skipped() -> None:
    unknown = frame(string_header(":message-type", "ping"), b"")
    assert decode(unknown, STREAM) == EXPECTED


def test_every_header_value_type_is_parsed() -> None:
    def header(name: str, kind: int, value: bytes) -> bytes:
        return bytes([len(name)]) + name.encode() + bytes([kind]) + value

    raw = (
        header("t", 0, b"")
        + header("f", 1, b"")
        + header("byte", 2, struct.pack(">b", -2))
        + header("short", 3, struct.pack(">h", -300))
        + header("int", 4, struct.pack(">i", 70000))
        + header("long", 5, struct.pack(">q", 2**40))
        + header("bytes", 6, struct.pack(">H", 3) + b"\x00\x01\x02")
        + header("string", 7, struct.pack(">H", 4) + "Olá".encode())
        + header("time", 8, struct.pack(">q", 1_700_000_000_000))
        + header("uuid", 9, bytes(range(16)))
    )
    assert parse_headers(raw) == {
        "t": True,
        "f": False,
        "byte": -2,
        "short": -300,
        "int": 70000,
        "long": 2**40,
        "bytes": b"\x00\x01\x02",
        "string": "Olá",
        "time": 1_700_000_000_000,
        "uuid": bytes(range(16)),
    }


def test_unknown_header_type_and_cut_headers_are_invalid() -> None:
    with pytest.raises(InvalidResponseError, match="unknown value type 12"):
        parse_headers(b"\x01x\x0c")
    with pytest.raises(InvalidResponseError, match="malformed headers"):
        parse_headers(b"\x01x\x07\x00\x09abc")
    with pytest.raises(InvalidResponseError, match="malformed headers"):
        parse_headers(b"\x01x\x04\x00")


def test_framings_name_their_accept_header_and_build_fresh_decoders() -> None:
    assert SSE.accept == "text/event-stream"
    assert AWS_EVENT_STREAM.accept == "application/vnd.amazon.eventstream"
    assert isinstance(SSE.decoder(max_bytes=10), SSEDecoder)
    decoder = AWS_EVENT_STREAM.decoder(max_bytes=10)
    assert isinstance(decoder, EventStreamDecoder)
    assert decoder is not AWS_EVENT_STREAM.decoder(max_bytes=10)
    assert isinstance(SSE, SSEFraming) and isinstance(AWS_EVENT_STREAM, EventStreamFraming)


def test_codecs_stream_sse_unless_they_choose_a_framing() -> None:
    codec = anthropic.Codec("claude-sonnet-4")
    assert stream_framing(codec) is SSE
    # The chat-completions codecs choose SSE that keeps the [DONE] marker.
    assert stream_framing(openai.Codec("gpt-4o")) is SSE_WITH_DONE

    class BedrockLikeCodec(openai.Codec):
        framing = AWS_EVENT_STREAM

    assert stream_framing(BedrockLikeCodec("m")) is AWS_EVENT_STREAM


def test_events_before_an_exception_in_the_same_chunk_come_first() -> None:
    decoder = EventStreamDecoder()
    assert decoder.feed(STREAM + exception("throttlingException", "slow down")) == EXPECTED
    with pytest.raises(ProviderError, match="throttlingException: slow down"):
        decoder.feed(b"")
    with pytest.raises(ProviderError, match="throttlingException: slow down"):
        decoder.end()


def test_events_before_damage_in_the_same_chunk_come_first() -> None:
    broken = bytearray(STREAM)
    broken[-1] ^= 0x01  # the second message's CRC
    decoder = EventStreamDecoder()
    assert decoder.feed(bytes(broken)) == EXPECTED[:1]
    with pytest.raises(ProviderError, match="message CRC"):
        decoder.end()


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(
        st.tuples(st.text(min_size=1, max_size=20), st.binary(max_size=200)), min_size=1, max_size=6
    ),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_any_messages_split_anywhere_decode_to_their_events(
    messages: list[tuple[str, bytes]], cuts: list[int]
) -> None:
    stream = b"".join(event(name, payload) for name, payload in messages)
    points = sorted({cut % (len(stream) + 1) for cut in cuts})
    pieces = [stream[start:end] for start, end in zip([0, *points], [*points, len(stream)], strict=True)]
    expected = [SSEEvent(name, payload.decode("utf-8", errors="replace")) for name, payload in messages]
    assert decode(*pieces) == expected


@pytest.mark.parametrize("position", [8, 40])
def test_a_bad_frame_is_an_invalid_response_that_is_retried(position: int) -> None:
    from reverie import InvalidResponseError

    broken = bytearray(STREAM)
    broken[position] ^= 0x01  # the prelude CRC, then inside the first message's headers
    with pytest.raises(InvalidResponseError, match="CRC") as info:
        decode(bytes(broken))
    assert isinstance(info.value, ProviderError) and info.value.is_retryable

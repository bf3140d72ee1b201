"""The sans-IO server-sent-events decoder (``reverie._http.sse``), against the WHATWG rules and the seeds."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reverie import InvalidResponseError, ReverieError
from reverie._http.sse import SSEDecoder, SSEEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _recorded_streams() -> list[tuple[str, bytes]]:
    """Every successful event-stream body of the seed cassettes, as the bytes on the wire."""
    streams: list[tuple[str, bytes]] = []
    for path in sorted(FIXTURES.glob("*.yaml")):
        cassette: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for interaction in cassette["interactions"]:
            response = interaction["response"]
            content_type = response["headers"]["Content-Type"][0]
            if response["code"] == 200 and content_type.startswith("text/event-stream"):
                streams.append((f"{path.stem}#{interaction['id']}", response["body"].encode("utf-8")))
    return streams


STREAMS = _recorded_streams()


def decode(*chunks: bytes, max_buffer: int | None = None) -> list[SSEEvent]:
    decoder = SSEDecoder() if max_buffer is None else SSEDecoder(max_buffer=max_buffer)
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.end())
    return events


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(body)) for cut in cuts})
    bounds = [0, *points, len(body)]
    return [body[start:end] for start, end in itertools.pairwise(bounds)]


def test_the_seeds_hold_event_streams() -> None:
    # The property tests below are only as good as this corpus: three recorded streams.
    assert len(STREAMS) >= 3


# --------------------------------------------------------------------------- line endings


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending_separates_lines_and_events(newline: bytes) -> None:
    body = b"data: one" + newline + newline + b"data: two" + newline + newline
    assert decode(body) == [SSEEvent("message", "one"), SSEEvent("message", "two")]


def test_mixed_line_endings_in_one_stream() -> None:
    body = b"data: a\r\n\r\ndata: b\n\ndata: c\r\r"
    assert [event.data for event in decode(body)] == ["a", "b", "c"]


def test_crlf_split_between_chunks_is_one_line_ending() -> None:
    # "\r" at the end of one chunk and "\n" at the start of the next: one line break, so the
    # blank line that follows still ends the event (and no phantom blank line ends it early).
    events = decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n")
    assert events == [SSEEvent("message", "a\nb")]


def test_cr_at_the_end_of_a_chunk_followed_by_a_new_line() -> None:
    # A lone CR is a full line ending: "data: a" CR, then an empty line CR.
    assert decode(b"data: a\r", b"\r", b"data: b\r\r") == [SSEEvent("message", "a"), SSEEvent("message", "b")]


def test_event_ended_by_cr_at_the_very_end_of_the_stream_is_dispatched() -> None:
    # The trailing CR cannot be the first half of a CRLF once the stream is over.
    assert decode(b"data: last\r\r") == [SSEEvent("message", "last")]
    assert decode(b"data: last\r", b"\r") == [SSEEvent("message", "last")]


def test_multibyte_character_split_between_chunks() -> None:
    body = "data: Olá\n\n".encode()
    cut = body.index("á".encode()) + 1  # inside the two-byte "á"
    assert decode(body[:cut], body[cut:]) == [SSEEvent("message", "Olá")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert decode(b"data: \xff\xfe\n\n") == [SSEEvent("message", "\ufffd\ufffd")]


# --------------------------------------------------------------------------- fields


def test_comments_are_ignored() -> None:
    body = b": OPENROUTER PROCESSING\n\n: OPENROUTER PROCESSING\n\ndata: {}\n\n:\n\n"
    assert decode(body) == [SSEEvent("message", "{}")]


def test_comment_inside_an_event_does_not_end_it() -> None:
    assert decode(b"data: a\n: keep-alive\ndata: b\n\n") == [SSEEvent("message", "a\nb")]


def test_event_names_apply_to_one_event_only() -> None:
    body = b"event: message_start\ndata: {}\n\nevent: ping\ndata: {}\n\ndata: plain\n\n"
    assert decode(body) == [
        SSEEvent("message_start", "{}"),
        SSEEvent("ping", "{}"),
        SSEEvent("message", "plain"),
    ]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode(b"data: first\ndata: second\ndata:\ndata: fourth\n\n") == [
        SSEEvent("message", "first\nsecond\n\nfourth")
    ]


def test_only_one_space_after_the_colon_is_removed() -> None:
    assert decode(b"data:tight\n\ndata:  two spaces\n\n") == [
        SSEEvent("message", "tight"),
        SSEEvent("message", " two spaces"),
    ]


def test_id_field_is_kept_and_persists_until_changed() -> None:
    events = decode(b"id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\n")
    assert [(event.id, event.data) for event in events] == [("7", "a"), ("7", "b"), ("8", "c")]


def test_unknown_fields_and_blank_events_dispatch_nothing() -> None:
    assert decode(b"retry: 1000\n\nfoo: bar\n\nevent: only-a-name\n\n\n\n") == []


def test_done_sentinel_is_dropped() -> None:
    assert decode(b"data: {}\n\ndata: [DONE]\n\n") == [SSEEvent("message", "{}")]


def test_done_is_only_dropped_as_the_whole_data() -> None:
    assert decode(b"data: [DONE] \n\n") == [SSEEvent("message", "[DONE] ")]


def test_event_cut_off_at_the_end_is_discarded() -> None:
    # No blank line after the last data line: the event never completed (WHATWG 9.2.6).
    assert decode(b'data: complete\n\ndata: {"partial": tr') == [SSEEvent("message", "complete")]
    assert decode(b"data: complete\n\ndata: {}\n") == [SSEEvent("message", "complete")]


def test_decoder_is_reusable_after_end() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: x\ndata: cut") == []
    assert decoder.end() == []
    assert decoder.feed(b"data: fresh\n\n") == [SSEEvent("message", "fresh")]


def test_events_are_returned_as_soon_as_they_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n") == []
    assert decoder.feed(b"\n") == [SSEEvent("message", "a")]
    assert decoder.feed(b"data: b\n\ndata: c\n\n") == [SSEEvent("message", "b"), SSEEvent("message", "c")]


# --------------------------------------------------------------------------- limits


def test_line_longer_than_max_buffer_raises() -> None:
    decoder = SSEDecoder(max_buffer=16)
    with pytest.raises(InvalidResponseError, match="16 bytes"):
        decoder.feed(b"data: " + b"x" * 32)


def test_max_buffer_counts_a_line_growing_over_many_chunks() -> None:
    decoder = SSEDecoder(max_buffer=16)
    for _ in range(3):
        decoder.feed(b"xxxx")
    with pytest.raises(InvalidResponseError):
        for _ in range(3):
            decoder.feed(b"xxxx")


def test_a_long_line_in_many_chunks_is_one_event() -> None:
    body = b"data: " + b"z" * 100_000 + b"\n\n"
    chunks = [body[index : index + 1000] for index in range(0, len(body), 1000)]
    assert decode(*chunks) == [SSEEvent("message", "z" * 100_000)]


def test_a_long_line_in_many_chunks_keeps_a_split_crlf() -> None:
    assert decode(b"data: a", b"b" * 10, b"c\r", b"\n\r", b"\n") == [
        SSEEvent("message", "ab" + "b" * 9 + "c")
    ]


def test_a_held_cr_is_a_line_end_when_the_next_chunk_has_none() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: x\n\r") == []
    assert decoder.feed(b"abc") == [SSEEvent("message", "x")]
    assert decoder.end() == []


def test_max_buffer_counts_held_chunks_after_a_partial_line() -> None:
    decoder = SSEDecoder(max_buffer=16)
    decoder.feed(b"data: x\ndata: ")
    with pytest.raises(InvalidResponseError, match="16 bytes"):
        for _ in range(4):
            decoder.feed(b"yyyy")


def test_max_buffer_does_not_limit_completed_lines() -> None:
    assert decode(b"data: " + b"y" * 64 + b"\n\n", max_buffer=16) == [SSEEvent("message", "y" * 64)]


# --------------------------------------------------------------------------- recorded streams


@pytest.mark.parametrize(("name", "body"), STREAMS, ids=[name for name, _ in STREAMS])
def test_recorded_stream_decodes_to_its_data_lines(name: str, body: bytes) -> None:
    expected = [
        line.removeprefix("data: ")
        for line in body.decode("utf-8").split("\n")
        if line.startswith("data: ") and line != "data: [DONE]"
    ]
    events = decode(body)
    assert expected
    assert [event.data for event in events] == expected
    assert {event.event for event in events} == {"message"}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stream=st.sampled_from(STREAMS),
    newline=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=40),
)
def test_any_split_of_a_recorded_stream_gives_the_same_events(
    stream: tuple[str, bytes], newline: bytes, cuts: list[int]
) -> None:
    body = stream[1].replace(b"\n", newline)  # the JSON holds no raw newlines, only "\\n" escapes
    whole = decode(body)
    assert whole == decode(stream[1])
    assert decode(*split_at(body, cuts)) == whole


@settings(max_examples=60, deadline=None)
@given(stream=st.sampled_from(STREAMS))
def test_byte_by_byte_feeding_gives_the_same_events(stream: tuple[str, bytes]) -> None:
    body = stream[1]
    assert decode(*(body[i : i + 1] for i in range(len(body)))) == decode(body)


@settings(max_examples=150, deadline=None)
@given(
    chunks=st.lists(
        st.one_of(
            st.binary(max_size=64),
            st.sampled_from([b"\r", b"\n", b"\r\n", b"data: ", b"event:", b":", b"id: \x00", b"[DONE]"]),
        ),
        max_size=30,
    ),
    max_buffer=st.sampled_from([None, 1, 8, 64]),
)
def test_arbitrary_bytes_raise_only_reverie_errors(chunks: list[bytes], max_buffer: int | None) -> None:
    try:
        events = decode(*chunks, max_buffer=max_buffer)
    except ReverieError:
        return
    for event in events:
        assert isinstance(event.data, str)
        assert isinstance(event.event, str)
        assert event.data != "[DONE]"


@pytest.mark.parametrize("split", range(1, 5))
def test_leading_byte_order_mark_is_skipped_even_when_split(split: int) -> None:
    body = b"\xef\xbb\xbfdata: first\n\ndata: second\n\n"
    decoder = SSEDecoder()
    events = decoder.feed(body[:split]) + decoder.feed(body[split:])
    assert [event.data for event in events] == ["first", "second"]


def test_only_a_leading_byte_order_mark_is_skipped() -> None:
    decoder = SSEDecoder()
    assert [e.data for e in decoder.feed(b"data: a\xef\xbb\xbf\n\n")] == ["a\ufeff"]

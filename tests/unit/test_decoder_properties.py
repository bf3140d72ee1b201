"""Property-based tests of the SSE decoder and every provider's stream decoder (hypothesis).

The corpus is every recorded event stream: ``tests/fixtures/*.yaml`` and, when present,
``../shared/cassettes``. Two properties:

* Any split of a recorded body into chunks (inside lines, inside UTF-8 characters) yields
  exactly the events, parts and outcome of the body fed in one piece.
* Garbage (random bytes with SSE framing, random JSON, recorded events with a value swapped
  for a random one) never raises anything but a ``reverie.ReverieError`` subclass.
"""

from __future__ import annotations

import importlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reverie import ModelStreamPart, ReverieError
from reverie._codec import StreamDecoder
from reverie._http.sse import SSEDecoder, SSEEvent
from tests.conftest import CASSETTES, FIXTURES

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    report_multiple_bugs=False,  # stop at the first bug: shrinking several takes minutes
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CHAT_KINDS = ("openai", "openaicompat", "openrouter")


# --- decoders ---------------------------------------------------------------------------------


def _decoder_factory(kind: str) -> Callable[[], StreamDecoder] | None:
    """Makes fresh stream decoders of provider ``kind``, or None if that provider is not available.

    Gemini mints ids for calls sent without one (random by default); each decoder here
    counts from ``"1"``, so that decoding the same stream twice yields equal parts.
    """

    def make() -> StreamDecoder:
        module = importlib.import_module(f"reverie.providers.{kind}")
        numbers = itertools.count(1)
        ids: dict[str, Any] = {"tool_call_id": lambda: str(next(numbers))} if kind == "google" else {}
        provider = module.Provider(api_key="k", base_url="http://127.0.0.1:9", **ids)
        return provider.codec("some-model").stream_decoder()

    try:
        make()
    except Exception:  # a provider being written may not import yet: its properties are skipped
        return None
    return make


DECODERS: dict[str, Callable[[], StreamDecoder]] = {
    kind: factory
    for kind in (*CHAT_KINDS, "anthropic", "google")
    if (factory := _decoder_factory(kind)) is not None
}


# --- the corpus -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    name: str
    kind: str
    body: bytes

    def __repr__(self) -> str:  # keeps hypothesis' falsifying examples short
        return f"Recorded({self.name!r})"


def _kind_of(path: Path) -> str:
    if path.is_relative_to(FIXTURES):
        return path.stem.split("-")[0]
    return path.relative_to(CASSETTES).parts[0]


def _streams() -> list[Recorded]:
    paths = sorted(FIXTURES.glob("*.yaml"))
    if CASSETTES.is_dir():
        paths += sorted(CASSETTES.rglob("*.yaml"))
    streams: list[Recorded] = []
    for path in paths:
        kind = _kind_of(path)
        if kind not in DECODERS:
            continue
        document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        for interaction in document.get("interactions") or []:
            response = interaction["response"]
            content_type = (response.get("headers") or {}).get("Content-Type", [""])[0]
            if response.get("code") == 200 and content_type.startswith("text/event-stream"):
                name = f"{path.name}#{interaction['id']}"
                if path.is_relative_to(CASSETTES):
                    name = f"{path.relative_to(CASSETTES)}#{interaction['id']}"
                streams.append(Recorded(name, kind, response["body"].encode("utf-8")))
    return streams


STREAMS = _streams()


@dataclass(frozen=True)
class Outcome:
    events: list[SSEEvent]
    parts: list[ModelStreamPart]
    error: tuple[str, str] | None


def decode(kind: str, chunks: list[bytes]) -> Outcome:
    """Feed ``chunks`` through the SSE decoder and ``kind``'s stream decoder, as the engine does."""
    sse = SSEDecoder()
    decoder = DECODERS[kind]()
    events: list[SSEEvent] = []
    parts: list[ModelStreamPart] = []
    try:
        for chunk in [*chunks, None]:
            for event in sse.feed(chunk) if chunk is not None else sse.end():
                events.append(event)
                parts.extend(decoder.feed(event))
        parts.extend(decoder.end())
    except ReverieError as error:
        return Outcome(events, parts, (type(error).__name__, str(error)))
    return Outcome(events, parts, None)


REFERENCE = {stream: decode(stream.kind, [stream.body]) for stream in STREAMS}


def split_at(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(cuts)), len(body)]
    return [body[start:end] for start, end in itertools.pairwise(bounds)]


def test_the_corpus_covers_every_decoder() -> None:
    kinds = {stream.kind for stream in STREAMS}
    assert {"openaicompat", "openrouter"} <= kinds
    if CASSETTES.is_dir():
        assert kinds == set(DECODERS), f"no recorded stream for {set(DECODERS) - kinds}"
    for stream, outcome in REFERENCE.items():
        # Every recording is a complete, successful stream: it ends with a finish part.
        assert outcome.error is None, (stream, outcome.error)
        assert outcome.parts[-1].type == "finish", stream


# --- any split gives the same result -------------------------------------------------------------


KINDS = sorted({stream.kind for stream in STREAMS})


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_any_split_of_a_recorded_stream_yields_identical_parts(kind: str, data: st.DataObject) -> None:
    stream = data.draw(st.sampled_from([stream for stream in STREAMS if stream.kind == kind]), label="stream")
    size = len(stream.body)
    cuts = data.draw(
        st.one_of(
            st.lists(st.integers(0, size), max_size=40),  # a few cuts anywhere
            st.integers(1, 16).map(lambda step: list(range(0, size, step))),  # tiny even chunks
        ),
        label="cuts",
    )
    outcome = decode(stream.kind, split_at(stream.body, cuts))
    reference = REFERENCE[stream]
    assert outcome.events == reference.events
    assert outcome.parts == reference.parts  # dataclass equality: same type, same fields
    assert [type(part) for part in outcome.parts] == [type(part) for part in reference.parts]
    assert outcome.error == reference.error


def reframe(events: list[SSEEvent], newline: bytes) -> bytes:
    """The same events, written with ``newline`` line endings and pretty-printed JSON.

    Each line of the indented JSON becomes its own ``data:`` line; the decoder joins them
    with ``\\n``, which JSON reads as whitespace, so the parts must not change.
    """
    lines: list[bytes] = [b": reframed"]
    for event in events:
        if event.event != "message":
            lines.append(b"event: " + event.event.encode())
        data = json.dumps(json.loads(event.data), indent=1, ensure_ascii=False)
        lines.extend(b"data: " + line.encode() for line in data.split("\n"))
        lines.append(b"")
    return newline.join(lines) + newline


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_any_split_of_a_reframed_stream_yields_identical_parts(kind: str, data: st.DataObject) -> None:
    stream = data.draw(st.sampled_from([stream for stream in STREAMS if stream.kind == kind]), label="stream")
    newline = data.draw(st.sampled_from([b"\n", b"\r\n", b"\r"]), label="newline")
    body = reframe(REFERENCE[stream].events, newline)
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=60), label="cuts")
    outcome = decode(stream.kind, split_at(body, cuts))
    assert outcome.parts == REFERENCE[stream].parts
    assert outcome.error == REFERENCE[stream].error


@pytest.mark.parametrize("stream", STREAMS, ids=lambda stream: stream.name)
def test_byte_by_byte_feeding_yields_identical_parts(stream: Recorded) -> None:
    body = stream.body
    assert decode(stream.kind, [body[i : i + 1] for i in range(len(body))]) == REFERENCE[stream]


# --- garbage only ever raises typed errors ----------------------------------------------------------


def _keys() -> list[str]:
    """Every object key of the recorded payloads, so random objects look like real ones."""
    keys: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            keys.update(value)
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for outcome in REFERENCE.values():
        for event in outcome.events:
            walk(json.loads(event.data))
    return sorted(keys)


KEYS = _keys()
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["stop", "tool_calls", "text", "tool_use", "error", "STOP", "", "message_stop"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=5),
    ),
    max_leaves=25,
)
SSE_NAMES = st.sampled_from(
    ["message", "error", "message_start", "content_block_start", "content_block_delta", "message_stop"]
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def _replace(value: Any, path: tuple[Any, ...], replacement: Any) -> Any:
    if not path:
        return replacement
    head, *rest = path
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = _replace(value[head], tuple(rest), replacement)
    return copy


def feed_events(kind: str, events: list[SSEEvent]) -> None:
    """Decode ``events``; any exception but a ``ReverieError`` fails the test."""
    decoder = DECODERS[kind]()
    try:
        for event in events:
            decoder.feed(event)
        decoder.end()
    except ReverieError:
        pass


@pytest.mark.parametrize("kind", KINDS)
@SETTINGS
@given(data=st.data())
def test_mutated_recorded_events_raise_only_typed_errors(kind: str, data: st.DataObject) -> None:
    stream = data.draw(st.sampled_from([stream for stream in STREAMS if stream.kind == kind]), label="stream")
    events = list(REFERENCE[stream].events)
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        index = data.draw(st.integers(0, len(events) - 1), label="event")
        payload = json.loads(events[index].data)
        path = data.draw(st.sampled_from(list(_paths(payload))), label="path")
        mutated = _replace(payload, path, data.draw(JSON_VALUES, label="replacement"))
        events[index] = SSEEvent(events[index].event, json.dumps(mutated), events[index].id)
    feed_events(stream.kind, events)


@pytest.mark.parametrize("kind", sorted(DECODERS))
@SETTINGS
@given(
    events=st.lists(
        st.tuples(SSE_NAMES, st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=30))), max_size=8
    ),
)
def test_random_json_events_raise_only_typed_errors(kind: str, events: list[tuple[str, str]]) -> None:
    feed_events(kind, [SSEEvent(name, data) for name, data in events])


FRAMING = st.sampled_from(
    [
        *(b"data: ", b"data:", b"event: error\n", b"event:", b"id: 7\n", b": comment\n"),
        *(b"\n", b"\r\n", b"\r", b"data: [DONE]\n\n", b'data: {"choices": ['),
        b'data: {"error": {"message": "x"}}\n\n',
    ]
)


@pytest.mark.parametrize("kind", sorted(DECODERS))
@SETTINGS
@given(
    chunks=st.lists(
        st.one_of(st.binary(max_size=40), FRAMING, JSON_VALUES.map(lambda value: json.dumps(value).encode())),
        max_size=20,
    ),
)
def test_random_bytes_raise_only_typed_errors(kind: str, chunks: list[bytes]) -> None:
    decode(kind, chunks)  # decode() lets only ReverieError through to its Outcome


@SETTINGS
@given(chunks=st.lists(st.binary(max_size=64), max_size=20), limit=st.integers(1, 64))
def test_sse_decoder_on_random_bytes_raises_only_typed_errors(chunks: list[bytes], limit: int) -> None:
    decoder = SSEDecoder(max_buffer=limit)
    try:
        for chunk in chunks:
            for event in decoder.feed(chunk):
                assert isinstance(event.data, str)
                assert event.data != "[DONE]"
        decoder.end()
    except ReverieError:
        pass

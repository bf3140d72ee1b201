"""A consumed agent stream keeps no per-chunk objects: its memory is flat in the number of chunks.

The stream comes from an OpenRouter provider on an ``httpx2.MockTransport`` whose body is
generated as it is read (the same one-character text event, ``count`` times), so the whole
path runs: engine, SSE decoder, chat-completions decoder, run machine and step builder.
Nothing is timed: the tests count live part objects and compare traced memory.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from reverie import Agent, TextDeltaPart
from reverie.providers import openrouter


def sse(*events: dict[str, Any] | str) -> bytes:
    return b"".join(
        f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode() for event in events
    )


def chunk(text: str | None = None, finish_reason: str | None = None) -> dict[str, Any]:
    delta = {"content": text} if text is not None else {}
    return {"id": "gen-1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}


TEXT_EVENT = sse(chunk("x"))
"""One text chunk; the same bytes object every time, so the server side keeps nothing per chunk."""
LAST_EVENTS = sse(chunk(finish_reason="stop"), "[DONE]")


async def body(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield TEXT_EVENT
    yield LAST_EVENTS


def make_agent(count: int) -> Agent:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body(count))

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(answer))
    provider = openrouter.Provider(api_key="sk-test", async_http_client=client)
    return Agent(provider.language_model("test/model"))


def live_text_deltas() -> int:
    return sum(1 for item in gc.get_objects() if type(item) is TextDeltaPart)


async def traced_growth(count: int) -> tuple[int, int]:
    """Consume a ``count``-chunk stream; traced bytes above the start: the peak, and what stays."""
    agent = make_agent(count)
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        stream = agent.stream_async("hi")
        async for _ in stream:
            pass
        result = await stream.result()
        del stream
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.text == "x" * count
    return peak - start, current - start


@pytest.mark.anyio
async def test_no_text_delta_outlives_its_turn_in_the_stream() -> None:
    count = 3_000
    before = live_text_deltas()
    stream = make_agent(count).stream_async("hi")
    at_step_end: int | None = None
    deltas = 0
    async for part in stream:
        if isinstance(part, TextDeltaPart):
            deltas += 1
        elif part.type == "step_finish":
            # Every chunk of the step went through; none may still be held (only ``part`` is).
            at_step_end = live_text_deltas() - before
    result = await stream.result()
    assert deltas == count
    assert result.text == "x" * count
    assert at_step_end is not None and at_step_end <= 1


@pytest.mark.anyio
async def test_memory_of_a_consumed_stream_is_flat_in_the_number_of_chunks() -> None:
    small, large = 1_000, 10_000
    await traced_growth(10)  # the first stream imports modules and fills caches: not per chunk
    small_peak, small_kept = await traced_growth(small)
    large_peak, large_kept = await traced_growth(large)
    chunks = large - small
    # A text delta part with its string is over 100 bytes; the text itself is 1 byte a chunk.
    # Whatever grows faster than a few bytes a chunk keeps something per chunk.
    assert (large_peak - small_peak) / chunks < 16
    assert (large_kept - small_kept) / chunks < 8

"""The HTTP engine end to end over a mock transport: what reaches the stream decoder."""

from __future__ import annotations

import json

import httpx2
import pytest

from reverie import Agent, ProviderError, RetryPolicy, TextDeltaPart
from reverie._http.framing import AWS_EVENT_STREAM
from reverie.providers import openaicompat
from tests.eventstream_frames import event, exception


def _event(payload: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(payload).encode()


@pytest.mark.anyio
async def test_a_final_event_ended_by_carriage_returns_is_delivered() -> None:
    # CR-only line endings: the last event's blank line is a CR at the very end of the
    # body, which the SSE decoder can only confirm when the stream ends.
    chunks = [
        _event({"choices": [{"index": 0, "delta": {"content": "Olá"}, "finish_reason": None}]}),
        _event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
    ]
    body = b"\r\r".join(chunks) + b"\r\r"

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=0))
        stream = agent.stream_async("hi")
        result = await stream.result()
    assert result.text == "Olá"
    assert result.finish_reason == "stop"


class EventStreamCodec(openaicompat.Codec):
    """Chat-completion chunks carried in AWS event-stream messages instead of SSE."""

    framing = AWS_EVENT_STREAM


class EventStreamProvider(openaicompat.Provider):
    codec_type = EventStreamCodec


def _chunk(delta: dict[str, object], finish_reason: str | None = None) -> bytes:
    return json.dumps({"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}).encode()


@pytest.mark.anyio
async def test_a_codec_that_chooses_the_aws_event_stream_is_read_through_it() -> None:
    body = event("chunk", _chunk({"content": "Olá"})) + event("chunk", _chunk({}, "stop"))
    accepts: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        accepts.append(request.headers["accept"])
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        return httpx2.Response(200, headers=headers, content=body)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = EventStreamProvider(base_url="http://test/v1", async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=0))
        result = await agent.stream_async("hi").result()
    assert result.text == "Olá"
    assert accepts == ["application/vnd.amazon.eventstream"]


@pytest.mark.anyio
async def test_an_event_stream_exception_keeps_the_text_already_streamed() -> None:
    body = event("chunk", _chunk({"content": "Partial"})) + exception("validationException", "bad input")

    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        return httpx2.Response(200, headers=headers, content=body)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = EventStreamProvider(base_url="http://test/v1", async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=0))
        texts: list[str] = []
        with pytest.raises(ProviderError, match="validationException: bad input") as info:
            async for part in agent.stream_async("hi"):
                if isinstance(part, TextDeltaPart):
                    texts.append(part.delta)
    assert texts == ["Partial"]
    assert info.value.partial_text == "Partial"
    assert info.value.url == "http://test/v1/chat/completions"
    assert not info.value.is_retryable

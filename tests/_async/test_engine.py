"""The HTTP engine end to end over a mock transport: what reaches the stream decoder."""

from __future__ import annotations

import json

import httpx2
import pytest

from reverie import Agent, RetryPolicy
from reverie.providers import openaicompat


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

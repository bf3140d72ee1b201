"""Where an Anthropic stream ends decides whether the agent retries it.

A stream that reaches ``message_stop`` is complete, even when no ``message_delta`` named a
stop reason (proxies and compatible servers send such streams): the step finishes with the
reason ``"unknown"`` and nothing is retried. Only a stream cut before ``message_stop`` is
incomplete and retried. An Anthropic provider on a scripted ``httpx2.MockTransport``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import Agent, AgentResult, AgentStreamPart, FinishPart, RetryPart
from reverie.providers import anthropic


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events)


def text_events(text: str, *, stop_reason: str | None) -> list[dict[str, Any]]:
    """A one-text-block message; without ``stop_reason`` no ``message_delta`` is sent."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {"id": "msg_1", "model": "claude", "content": [], "usage": {"input_tokens": 5}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
        {"type": "content_block_stop", "index": 0},
    ]
    if stop_reason is not None:
        events.append(
            {"type": "message_delta", "delta": {"stop_reason": stop_reason}, "usage": {"output_tokens": 2}}
        )
    events.append({"type": "message_stop"})
    return events


class Server:
    """Answers each streamed request with the next scripted body."""

    def __init__(self, *bodies: bytes) -> None:
        self.bodies = list(bodies)
        self.count = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        assert json.loads(request.content)["stream"] is True
        self.count += 1
        assert self.count <= len(self.bodies), f"unexpected request #{self.count}"
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=self.bodies[self.count - 1]
        )


async def run(server: Server) -> tuple[AgentResult, list[AgentStreamPart]]:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    provider = anthropic.Provider(api_key="test-key", async_http_client=client)
    agent = Agent(provider.language_model("claude-sonnet-4-20250514"))
    stream = agent.stream_async("hi")
    parts = [part async for part in stream]
    return await stream.result(), parts


@pytest.mark.anyio
async def test_message_stop_without_a_stop_reason_is_a_complete_answer(sleeps: list[float]) -> None:
    server = Server(sse(*text_events("Hello", stop_reason=None)))
    result, parts = await run(server)
    assert server.count == 1
    assert sleeps == []
    assert not any(isinstance(part, RetryPart) for part in parts)
    assert result.text == "Hello"
    assert result.finish_reason == "unknown"
    (finish,) = [part for part in parts if isinstance(part, FinishPart)]
    assert finish.finish_reason == "unknown"


@pytest.mark.anyio
async def test_a_stream_cut_before_message_stop_is_retried(sleeps: list[float]) -> None:
    cut = text_events("Hel", stop_reason="end_turn")[:-1]
    server = Server(sse(*cut), sse(*text_events("Hello", stop_reason="end_turn")))
    result, parts = await run(server)
    assert server.count == 2
    assert len(sleeps) == 1
    (retry,) = [part for part in parts if isinstance(part, RetryPart)]
    assert "message_stop" in str(retry.error)
    assert result.text == "Hello"
    assert result.finish_reason == "stop"

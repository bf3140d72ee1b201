"""Cloud credentials that expire in the middle of an agent run are renewed before the next request.

A fake clock drives expiry; the ``advance`` tool moves it past the credentials' lifetime
between the run's two requests. Bedrock calls its credentials callable before every request
(an async callable here, a sync one in the generated sync twin); Vertex refreshes a
google-auth-like credentials object once it is no longer ``valid``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import Agent, RetryPolicy, tool
from reverie.providers import bedrock, vertex

NO_RETRY = RetryPolicy(max_retries=0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0


def advancing_tool(clock: Clock) -> Any:
    @tool
    def advance() -> str:
        """Let an hour and a half pass."""
        clock.now += 5400
        return "later"

    return advance


def anthropic_message(turn: int) -> dict[str, Any]:
    if turn == 0:
        content: list[dict[str, Any]] = [
            {"type": "tool_use", "id": "toolu_1", "name": "advance", "input": {}}
        ]
        stop = "tool_use"
    else:
        content, stop = [{"type": "text", "text": "done"}], "end_turn"
    usage = {"input_tokens": 1, "output_tokens": 1}
    message = {"id": f"msg_{turn}", "type": "message", "role": "assistant", "model": "claude"}
    return {**message, "content": content, "stop_reason": stop, "usage": usage}


def gemini_response(turn: int) -> dict[str, Any]:
    part: dict[str, Any] = (
        {"functionCall": {"name": "advance", "args": {}}} if turn == 0 else {"text": "done"}
    )
    return {
        "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
    }


class Server:
    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.authorizations: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        json.loads(request.content)
        self.authorizations.append(request.headers["authorization"])
        return httpx2.Response(200, json=self.answer(len(self.authorizations) - 1))


@pytest.mark.anyio
async def test_bedrock_credentials_are_fetched_again_before_the_next_request() -> None:
    clock = Clock()
    fetched: list[float] = []

    async def fetch() -> bedrock.AWSCredentials:
        fetched.append(clock.now)
        generation = 1 + int(clock.now // 3600)  # credentials that rotate every hour
        return bedrock.AWSCredentials(f"AKID{generation}", f"secret-{generation}", f"token-{generation}")

    server = Server(anthropic_message)
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        provider = bedrock.Provider(region="us-west-2", credentials=fetch, async_http_client=client)
        agent = Agent(
            provider.language_model("anthropic.claude"), tools=[advancing_tool(clock)], retry=NO_RETRY
        )
        result = await agent.generate_async("go")
    assert result.text == "done"
    assert fetched == [0.0, 5400.0]
    assert [value.split("/")[0] for value in server.authorizations] == [
        "AWS4-HMAC-SHA256 Credential=AKID1",
        "AWS4-HMAC-SHA256 Credential=AKID2",
    ]
    assert all("/us-west-2/bedrock/aws4_request, " in value for value in server.authorizations)


class FakeCredentials:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.token: str | None = None
        self.expiry = 0.0
        self.refreshes = 0

    @property
    def valid(self) -> bool:
        return self.token is not None and self.clock.now < self.expiry

    def refresh(self, request: object) -> None:
        self.refreshes += 1
        self.token = f"ya29.token-{self.refreshes}"
        self.expiry = self.clock.now + 3600


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("model_id", "answer"),
    [("gemini-2.5-flash", gemini_response), ("claude-3-7-sonnet@20250219", anthropic_message)],
)
async def test_vertex_credentials_are_refreshed_once_they_expire(model_id: str, answer: Any) -> None:
    clock = Clock()
    credentials = FakeCredentials(clock)
    server = Server(answer)
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        provider = vertex.Provider(
            project="p", location="us-east5", credentials=credentials, async_http_client=client
        )
        agent = Agent(provider.language_model(model_id), tools=[advancing_tool(clock)], retry=NO_RETRY)
        result = await agent.generate_async("go")
        again = await agent.generate_async("go")
    assert result.text == "done" and again.text == "done"
    # Refreshed at the start and after the tool let the token expire; still valid for the next run
    # (one request: the server answers every request after the first with text).
    assert server.authorizations == ["Bearer ya29.token-1", "Bearer ya29.token-2", "Bearer ya29.token-2"]
    assert credentials.refreshes == 2

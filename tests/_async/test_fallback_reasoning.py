"""A fallback to another provider drops the primary's provider-bound reasoning, with a warning.

Step 1 is answered by an Anthropic model (its answer read by the real Anthropic codec:
signed and redacted thinking, then a tool call). In step 2 the primary is overloaded and
the backup, another provider's real codec over an ``httpx2.MockTransport``, answers. The
backup's request carries none of Anthropic's thinking, and step 2's warnings say it was
dropped. This is the async source; ``tests/_sync/test_fallback_reasoning.py`` is
generated from it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import Agent, AgentResult, FallbackModel, ProviderError, RetryPolicy
from reverie.providers import anthropic, google, openai
from reverie.testing import MockModel
from reverie.testing.scenarios import SCENARIO_TOOLS

SIGNATURE = "EqQBCkYIBxgCKkBsigned"
THINKING = "The user wants the weather; I will call the tool."
REDACTED = "b3BhcXVlLXJlZGFjdGVk"
ANSWER = "It is 40 C in Florence."

ANTHROPIC_TOOL_ANSWER: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [
        {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
        {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {"location": "Florence"}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 10, "output_tokens": 20},
}
GEMINI_ANSWER: dict[str, Any] = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": ANSWER}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 8, "totalTokenCount": 38},
}
CHAT_ANSWER: dict[str, Any] = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 30, "completion_tokens": 8, "total_tokens": 38},
}
CHAT_CHUNKS: list[dict[str, Any]] = [
    {"id": "chatcmpl-1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": ANSWER}}]},
    {"id": "chatcmpl-1", "model": "gpt-4o", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    {
        "id": "chatcmpl-1",
        "model": "gpt-4o",
        "choices": [],
        "usage": {"prompt_tokens": 30, "completion_tokens": 8, "total_tokens": 38},
    },
]


def server(bodies: list[dict[str, Any]]) -> httpx2.MockTransport:
    """Answers Gemini and chat-completions requests, whole or streamed; records each body."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        bodies.append(body)
        if request.url.path.endswith(":streamGenerateContent"):
            events = f"data: {json.dumps(GEMINI_ANSWER)}\r\n\r\n"
        elif request.url.path.endswith(":generateContent"):
            return httpx2.Response(200, json=GEMINI_ANSWER)
        elif body.get("stream"):
            events = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in CHAT_CHUNKS) + "data: [DONE]\n\n"
        else:
            return httpx2.Response(200, json=CHAT_ANSWER)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=events.encode())

    return httpx2.MockTransport(handle)


def claude() -> MockModel:
    """Answers step 1 the way Claude did (read by the real codec), then is overloaded."""
    step_one = anthropic.Codec("claude-sonnet-4-20250514").parse_response(ANTHROPIC_TOOL_ANSWER)
    overloaded = ProviderError("Overloaded", status_code=529)
    return MockModel([step_one, overloaded], provider="anthropic", model_id="claude-sonnet-4-20250514")


async def run(agent: Agent, *, streaming: bool) -> AgentResult:
    prompt = "What's the weather in Florence?"
    if not streaming:
        return await agent.generate_async(prompt)
    async with agent.stream_async(prompt) as stream:
        async for _ in stream:
            pass
        return await stream.result()


@pytest.mark.anyio
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
@pytest.mark.parametrize(
    ("backup_provider", "message"),
    [
        ("google", "reasoning bound to anthropic is not sent back: google cannot read it"),
        ("openai", "reasoning bound to anthropic is not sent back: openai chat completions cannot read it"),
    ],
)
async def test_the_backup_gets_no_anthropic_reasoning_and_the_step_says_so(
    streaming: bool, backup_provider: str, message: str
) -> None:
    bodies: list[dict[str, Any]] = []
    async with httpx2.AsyncClient(transport=server(bodies)) as client:
        if backup_provider == "google":
            backup = google.Provider(api_key="k", async_http_client=client).language_model("gemini-2.5-flash")
        else:
            backup = openai.Provider(api_key="k", async_http_client=client).language_model("gpt-4o")
        primary = claude()
        agent = Agent(
            FallbackModel(primary, backup),
            tools=[SCENARIO_TOOLS["weather"]],
            retry=RetryPolicy(max_retries=0),
        )
        result = await run(agent, streaming=streaming)
    assert result.text == ANSWER
    first, second = result.steps
    assert (first.provider, second.provider) == ("anthropic", backup_provider)
    assert len(primary.calls) == 2
    # Step 2 went to the backup alone, and its request holds none of Claude's thinking.
    [body] = bodies
    sent = json.dumps(body)
    assert SIGNATURE not in sent and THINKING not in sent and REDACTED not in sent
    assert "toolu_01" in sent  # the call and its result do go
    assert [(warning.setting, warning.message) for warning in second.warnings] == [("reasoning", message)]
    assert first.warnings == []
    # The reasoning stays in the history all the same.
    assert [part.type for part in first.messages[0].content][:2] == ["reasoning", "reasoning"]


@pytest.mark.anyio
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_a_backup_of_the_same_provider_gets_the_signed_thinking_without_a_warning(
    streaming: bool,
) -> None:
    """Anthropic to Anthropic (another Claude model): the thinking goes back, no warning."""
    bodies: list[dict[str, Any]] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        text = {"type": "text", "text": ANSWER}
        if not bodies[-1].get("stream"):
            answer = {"type": "message", "content": [text], "stop_reason": "end_turn", "usage": {}}
            return httpx2.Response(200, json=answer)
        events = [
            ("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 30}}}),
            ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": text}),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn"},
                    "usage": {"output_tokens": 8},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        stream = "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events)
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=stream.encode())

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handle)) as client:
        backup = anthropic.Provider(api_key="k", async_http_client=client).language_model("claude-opus-4")
        agent = Agent(
            FallbackModel(claude(), backup),
            tools=[SCENARIO_TOOLS["weather"]],
            retry=RetryPolicy(max_retries=0),
        )
        result = await run(agent, streaming=streaming)
    assert result.text == ANSWER
    [body] = bodies
    assert body["messages"][1]["content"][:2] == [
        {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": REDACTED},
    ]
    assert result.steps[1].warnings == []

"""Reasoning produced by one step goes back, as each API expects it, in the next request.

Each test runs a two-step agent over a scripted transport: step 0 thinks and calls a tool,
step 1 answers. The second request body must carry step 0's reasoning state: Gemini's
``thoughtSignature`` on the part that carried it (thought text stays home), Anthropic's
thinking blocks with their signatures. Generate and stream must send the same body.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import Agent
from reverie.providers import anthropic, google
from reverie.testing.scenarios import SCENARIO_TOOLS


def scripted(answers: list[tuple[dict[str, Any], str]]) -> tuple[httpx2.Client, list[dict[str, Any]]]:
    """A client answering each request with the next ``(whole answer, SSE body)`` pair."""
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        whole, events = answers[len(bodies)]
        bodies.append(body)
        if body.get("stream") or request.url.path.endswith(":streamGenerateContent"):
            headers = {"content-type": "text/event-stream"}
            return httpx2.Response(200, headers=headers, content=events.encode())
        return httpx2.Response(200, json=whole)

    return httpx2.Client(transport=httpx2.MockTransport(handler)), bodies


def run(agent: Agent, streaming: bool) -> None:
    if streaming:
        stream = agent.stream("What's the weather in Florence?")
        for _ in stream:
            pass
        stream.result()
    else:
        agent.generate("What's the weather in Florence?")


# --- Gemini ---------------------------------------------------------------------------

GEMINI_SIGNATURE = "Z2VtaW5pLXNpZw=="
GEMINI_CALL_PARTS: list[dict[str, Any]] = [
    {"text": "**Weather lookup**", "thought": True},
    {
        "functionCall": {"name": "weather", "args": {"location": "Florence"}},
        "thoughtSignature": GEMINI_SIGNATURE,
    },
]
GEMINI_TEXT_PARTS: list[dict[str, Any]] = [{"text": "It is 40 C in Florence."}]


def gemini_answer(parts: list[dict[str, Any]]) -> tuple[dict[str, Any], str]:
    whole = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}]}
    return whole, f"data: {json.dumps(whole)}\r\n\r\n"


@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
def test_gemini_sends_the_call_signature_back_with_the_minted_id(streaming: bool) -> None:
    client, bodies = scripted([gemini_answer(GEMINI_CALL_PARTS), gemini_answer(GEMINI_TEXT_PARTS)])
    with client:
        provider = google.Provider(api_key="k", http_client=client, tool_call_id=lambda: "call-1")
        agent = Agent(provider.language_model("gemini-2.5-flash"), tools=[SCENARIO_TOOLS["weather"]])
        run(agent, streaming)
    assert bodies[1]["contents"][1:] == [
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"id": "call-1", "name": "weather", "args": {"location": "Florence"}},
                    "thoughtSignature": GEMINI_SIGNATURE,
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"id": "call-1", "name": "weather", "response": {"result": "40 C"}}}
            ],
        },
    ]


# --- Anthropic ------------------------------------------------------------------------

ANTHROPIC_SIGNATURE = "EqQBCkYIBxgCKkBsigned"
THINKING = "The user wants the weather; I will call the tool."
ANTHROPIC_CALL: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [
        {"type": "thinking", "thinking": THINKING, "signature": ANTHROPIC_SIGNATURE},
        {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {"location": "Florence"}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 10, "output_tokens": 20},
}
ANTHROPIC_CALL_EVENTS = [
    {"type": "message_start", "message": {**ANTHROPIC_CALL, "content": [], "stop_reason": None}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": THINKING}},
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "signature_delta", "signature": ANTHROPIC_SIGNATURE},
    },
    {"type": "content_block_stop", "index": 0},
    {
        "type": "content_block_start",
        "index": 1,
        "content_block": {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {}},
    },
    {
        "type": "content_block_delta",
        "index": 1,
        "delta": {"type": "input_json_delta", "partial_json": '{"location": "Florence"}'},
    },
    {"type": "content_block_stop", "index": 1},
    {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 20}},
    {"type": "message_stop"},
]
ANTHROPIC_TEXT: dict[str, Any] = {
    "id": "msg_2",
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "It is 40 C in Florence."}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 30, "output_tokens": 8},
}
ANTHROPIC_TEXT_EVENTS = [
    {"type": "message_start", "message": {**ANTHROPIC_TEXT, "content": [], "stop_reason": None}},
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "It is 40 C in Florence."},
    },
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 8}},
    {"type": "message_stop"},
]


def sse(events: list[dict[str, Any]]) -> str:
    return "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)


@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
def test_anthropic_sends_signed_thinking_back(streaming: bool) -> None:
    client, bodies = scripted(
        [(ANTHROPIC_CALL, sse(ANTHROPIC_CALL_EVENTS)), (ANTHROPIC_TEXT, sse(ANTHROPIC_TEXT_EVENTS))]
    )
    with client:
        provider = anthropic.Provider(api_key="k", http_client=client)
        agent = Agent(provider.language_model("claude-sonnet-4-20250514"), tools=[SCENARIO_TOOLS["weather"]])
        run(agent, streaming)
    assistant = bodies[1]["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"] == [
        {"type": "thinking", "thinking": THINKING, "signature": ANTHROPIC_SIGNATURE},
        {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {"location": "Florence"}},
    ]

"""A conversation started on one provider continues on another.

Provider-bound reasoning state (Anthropic's signed and redacted thinking, Gemini's thought
signatures, OpenRouter's reasoning details) stays on the steps, but each codec sends back
only what its API understands: Anthropic re-sends signed thinking, Gemini and the chat
family send no reasoning at all, and call ids are mapped where an API restricts them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2

from reverie import (
    Agent,
    Call,
    Message,
    ReasoningPart,
    StepContext,
    StepOverrides,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from reverie._content import ContentPart
from reverie.providers import anthropic, google, openrouter
from reverie.testing import MockModel
from reverie.testing.scenarios import SCENARIO_TOOLS
from tests.wire_answers import ANTHROPIC_TEXT_ANSWER, GEMINI_TOOL_ANSWER

SIGNATURE = "EqQBCkYIBxgCKkBsigned"
THINKING = "The user wants the weather; I will call the tool."

# An Anthropic answer with signed and redacted thinking before a tool call (the shape of
# the recorded thinking cassette).
ANTHROPIC_TOOL_ANSWER: dict[str, Any] = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-20250514",
    "content": [
        {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": "b3BhcXVl"},
        {"type": "text", "text": "Let me check."},
        {"type": "tool_use", "id": "toolu_01", "name": "weather", "input": {"location": "Florence"}},
    ],
    "stop_reason": "tool_use",
    "usage": {"input_tokens": 10, "output_tokens": 20},
}
GEMINI_TEXT_ANSWER: dict[str, Any] = {
    "candidates": [
        {"content": {"role": "model", "parts": [{"text": "It is 40 C in Florence."}]}, "finishReason": "STOP"}
    ],
}


def recording(answer: dict[str, Any]) -> tuple[httpx2.Client, list[dict[str, Any]]]:
    """A client whose every request is recorded and answered with ``answer``."""
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        return httpx2.Response(200, json=answer)

    return httpx2.Client(transport=httpx2.MockTransport(handler)), bodies


def switch_to(model: Any) -> Callable[[StepContext], StepOverrides | None]:
    return lambda context: StepOverrides(model=model) if context.step_number > 0 else None


def claude_step() -> MockModel:
    """Step 0 answered the way Claude answered, parsed by the real Anthropic codec."""
    response = anthropic.Codec("claude-sonnet-4-20250514").parse_response(ANTHROPIC_TOOL_ANSWER)
    return MockModel(response, provider="anthropic", model_id="claude-sonnet-4-20250514")


def test_anthropic_thinking_is_not_sent_to_gemini() -> None:
    client, bodies = recording(GEMINI_TEXT_ANSWER)
    with client:
        gemini = google.Provider(api_key="k", http_client=client).language_model("gemini-2.5-flash")
        agent = Agent(claude_step(), tools=[SCENARIO_TOOLS["weather"]], prepare_step=switch_to(gemini))
        result = agent.generate(
            "What's the weather in Florence?",
            provider_options={"anthropic": {"thinking": {"budget_tokens": 2000}}},
        )
    assert result.text == "It is 40 C in Florence."
    [body] = bodies
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "What's the weather in Florence?"}]},
        {
            "role": "model",
            "parts": [
                {"text": "Let me check."},
                {"functionCall": {"id": "toolu_01", "name": "weather", "args": {"location": "Florence"}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"id": "toolu_01", "name": "weather", "response": {"result": "40 C"}}}
            ],
        },
    ]
    sent = json.dumps(body)
    assert SIGNATURE not in sent
    assert THINKING not in sent
    assert "thought" not in sent
    assert "generationConfig" not in body  # the anthropic options mean nothing to Gemini
    # The reasoning stays in the conversation's history all the same.
    reasoning = [part for part in result.steps[0].messages[0].content if isinstance(part, ReasoningPart)]
    assert [part.provider_metadata["anthropic"] for part in reasoning] == [
        {"signature": SIGNATURE},
        {"redacted_data": "b3BhcXVl"},
    ]


def test_gemini_thoughts_are_not_sent_to_anthropic() -> None:
    gemini_codec = google.Codec("gemini-2.5-flash", tool_call_id=lambda: "weather")
    gemini_answer = gemini_codec.parse_response(GEMINI_TOOL_ANSWER)
    first = MockModel(gemini_answer, provider="google", model_id="gemini-2.5-flash")
    client, bodies = recording(ANTHROPIC_TEXT_ANSWER)
    with client:
        claude = anthropic.Provider(api_key="k", http_client=client).language_model(
            "claude-sonnet-4-20250514"
        )
        agent = Agent(first, tools=[SCENARIO_TOOLS["weather"]], prepare_step=switch_to(claude))
        result = agent.generate("What's the weather in Florence?")
    assert result.text == "It is 40 C in Florence."
    [body] = bodies
    assert body["messages"][1:] == [
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "weather", "name": "weather", "input": {"location": "Florence"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "weather",
                    "content": [{"type": "text", "text": "40 C"}],
                }
            ],
        },
    ]
    assert "Z3NpZw==" not in json.dumps(body)
    assert [warning.setting for warning in result.steps[1].warnings] == ["reasoning"]


def test_openrouter_history_continues_on_anthropic() -> None:
    """Message history from kimi-k2 via OpenRouter: reasoning details dropped, call ids mapped."""
    history: list[Message] = [
        Message.user("What's the weather in Florence?"),
        Message(
            role="assistant",
            content=[
                ReasoningPart(
                    text="I should call weather.",
                    provider_metadata={
                        "openrouter": {"reasoning_details": [{"type": "reasoning.text", "text": "x"}]}
                    },
                ),
                *_call("functions.weather:0"),
            ],
        ),
        Message(
            role="tool",
            content=[ToolResultPart(tool_call_id="functions.weather:0", tool_name="weather", output="40 C")],
        ),
    ]
    model = anthropic.Provider(api_key="k").language_model("claude-sonnet-4-20250514")
    prepared = model.prepare(Call(prompt=history), stream=False)
    body = json.loads(prepared.content)
    assistant, results = body["messages"][1:]
    assert assistant["content"] == [
        {
            "type": "tool_use",
            "id": "functions_weather_0",
            "name": "weather",
            "input": {"location": "Florence"},
        }
    ]
    assert results["content"][0]["tool_use_id"] == "functions_weather_0"
    assert "reasoning" in [warning.setting for warning in prepared.warnings]


def test_anthropic_history_continues_on_openrouter_without_reasoning() -> None:
    response = anthropic.Codec("claude").parse_response(ANTHROPIC_TOOL_ANSWER)
    history = [
        Message.user("What's the weather in Florence?"),
        Message(role="assistant", content=response.content),
        Message(
            role="tool", content=[ToolResultPart(tool_call_id="toolu_01", tool_name="weather", output="40 C")]
        ),
    ]
    body = openrouter.Codec("moonshotai/kimi-k2-0905").build_request(Call(prompt=history), stream=False).body
    assert body["messages"][1] == {
        "role": "assistant",
        "content": "Let me check.",
        "tool_calls": [
            {
                "id": "toolu_01",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"location":"Florence"}'},
            }
        ],
    }
    assert SIGNATURE not in json.dumps(body)


def test_anthropic_to_anthropic_keeps_signed_thinking() -> None:
    client, bodies = recording(ANTHROPIC_TEXT_ANSWER)
    with client:
        claude = anthropic.Provider(api_key="k", http_client=client).language_model("claude-opus-4")
        agent = Agent(claude_step(), tools=[SCENARIO_TOOLS["weather"]], prepare_step=switch_to(claude))
        agent.generate("What's the weather in Florence?")
    [body] = bodies
    assert body["messages"][1]["content"][:2] == [
        {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE},
        {"type": "redacted_thinking", "data": "b3BhcXVl"},
    ]


def _call(call_id: str) -> list[ContentPart]:
    return [ToolCallPart(tool_call_id=call_id, tool_name="weather", input='{"location":"Florence"}')]


def test_a_signed_empty_gemini_text_part_does_not_hide_the_text_on_chat_completions() -> None:
    from reverie.providers import openai

    signed = TextPart(text="", provider_metadata={"google": {"thought_signature": "c2ln"}})
    call = ToolCallPart(tool_call_id="1", tool_name="weather", input='{"location": "Rome"}')
    history = [
        Message.user("hi"),
        Message(role="assistant", content=[TextPart(text="Checking."), call, signed]),
    ]
    body = openai.Codec("gpt-4o").build_request(Call(prompt=history), stream=False).body
    assert body["messages"][1]["content"] == "Checking."

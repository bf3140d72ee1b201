"""Tools that return files, end to end: a ``@tool`` returning a ``FilePart`` and computer use in an agent.

Anthropic receives the file inside the ``tool_result`` block (the request body is checked);
the chat-completions API, which takes only text there, gets a placeholder and the step a
``CallWarning``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import pytest

from reverie import Agent, FilePart, tool
from reverie.providers import anthropic, openai

PNG = b"\x89PNG\r\n\x1a\nscreen"
ENCODED = base64.b64encode(PNG).decode()


@tool
def screenshot() -> FilePart:
    """Take a screenshot."""
    return FilePart(data=PNG, media_type="image/png")


def claude_message(*blocks: dict[str, Any], stop: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": list(blocks),
        "stop_reason": stop,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


class Claude:
    """Answers with a call of ``name`` first, then text; keeps the request bodies and URLs."""

    def __init__(self, name: str, arguments: dict[str, Any]) -> None:
        self.call = {"type": "tool_use", "id": "toolu_1", "name": name, "input": arguments}
        self.bodies: list[dict[str, Any]] = []
        self.urls: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        self.urls.append(str(request.url))
        if len(self.bodies) == 1:
            return httpx2.Response(200, json=claude_message(self.call, stop="tool_use"))
        return httpx2.Response(
            200, json=claude_message({"type": "text", "text": "I see it."}, stop="end_turn")
        )


@pytest.mark.anyio
async def test_a_tool_returning_a_file_sends_it_to_anthropic() -> None:
    server = Claude("screenshot", {})
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        model = anthropic.Provider(api_key="k", async_http_client=client).language_model("claude")
        result = await Agent(model, tools=[screenshot]).generate_async("look")
    assert result.text == "I see it."
    assert result.steps[0].tool_results[0].media == FilePart(data=PNG, media_type="image/png")
    assert server.bodies[1]["messages"][2] == {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_1",
                "content": [
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": ENCODED},
                    }
                ],
            }
        ],
    }


@pytest.mark.anyio
async def test_computer_use_runs_in_an_agent_on_the_beta_endpoint() -> None:
    actions: list[dict[str, Any]] = []

    def run(action_input: dict[str, Any]) -> FilePart:
        actions.append(action_input)
        return FilePart(data=PNG, media_type="image/png")

    computer = anthropic.computer_use(
        display_width_px=800, display_height_px=600, version="20250124", run=run
    )
    server = Claude("computer", {"action": "screenshot"})
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        model = anthropic.Provider(api_key="k", async_http_client=client).language_model("claude")
        result = await Agent(model, tools=[computer]).generate_async("take a screenshot")
    assert actions == [{"action": "screenshot"}]
    assert result.text == "I see it."
    assert server.urls == ["https://api.anthropic.com/v1/messages?beta=true"] * 2
    assert server.bodies[0]["tools"] == [
        {"type": "computer_20250124", "name": "computer", "display_width_px": 800, "display_height_px": 600}
    ]
    image = server.bodies[1]["messages"][2]["content"][0]["content"]
    assert image == [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ENCODED}}
    ]


@pytest.mark.anyio
async def test_a_file_result_is_a_placeholder_and_a_warning_on_chat_completions() -> None:
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        if len(bodies) == 1:
            call = {"id": "c1", "type": "function", "function": {"name": "screenshot", "arguments": "{}"}}
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
            reason = "tool_calls"
        else:
            message, reason = {"role": "assistant", "content": "ok"}, "stop"
        return httpx2.Response(
            200,
            json={
                "id": "x",
                "model": "gpt-4o",
                "choices": [{"index": 0, "message": message, "finish_reason": reason}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        model = openai.Provider(api_key="k", async_http_client=client).language_model("gpt-4o")
        result = await Agent(model, tools=[screenshot]).generate_async("look")
    assert bodies[1]["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c1",
        "content": "[the tool returned a file (image/png) that cannot be sent here]",
    }
    assert [warning.setting for warning in result.steps[1].warnings] == ["tool_result.media"]

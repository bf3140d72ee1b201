"""``litellm`` used as its docs show: ``litellm.completion(model="openai/...", api_base=..., stream=True)``.

The agent run is litellm's documented function-calling loop: a request with ``tools``, run the tool,
append the assistant message and the tool result, request again.
"""

from __future__ import annotations

import json
from typing import Any

import litellm
from common import AGENT_PROMPT, API_KEY, PROMPT, WEATHER_TOOL, weather_impl

litellm.suppress_debug_info = True
MESSAGES: list[Any] = [{"role": "user", "content": PROMPT}]


def _text(response: Any) -> str:
    return response.choices[0].message.content or ""


class Client:
    """Module-level ``litellm.completion`` / ``acompletion`` with the ``openai/`` provider prefix."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _kwargs(self, model: str) -> dict[str, Any]:
        return {"model": f"openai/{model}", "api_base": self.base_url, "api_key": API_KEY}

    def call(self, model: str) -> str:
        return _text(litellm.completion(messages=MESSAGES, **self._kwargs(model)))

    def stream(self, model: str) -> str:
        text = ""
        for chunk in litellm.completion(messages=MESSAGES, stream=True, **self._kwargs(model)):
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
        return text

    async def astream(self, model: str) -> str:
        text = ""
        response = await litellm.acompletion(messages=MESSAGES, stream=True, **self._kwargs(model))
        async for chunk in response:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
        return text

    def agent(self, model: str) -> str:
        messages: list[Any] = [{"role": "user", "content": AGENT_PROMPT}]
        tools = [WEATHER_TOOL]
        message = litellm.completion(messages=messages, tools=tools, **self._kwargs(model)).choices[0].message
        messages.append(message)
        for call in message.tool_calls or []:
            result = weather_impl(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        return _text(litellm.completion(messages=messages, tools=tools, **self._kwargs(model)))

    async def aclose(self) -> None:
        return None

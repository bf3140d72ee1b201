"""The ``openai`` SDK used as its docs show: ``client.chat.completions.create(..., stream=True)``.

The agent run is the SDK's documented function-calling loop done by hand: a request with ``tools``,
run the tool, append the assistant message and the tool result, request again.
"""

from __future__ import annotations

import json
from typing import Any

from common import AGENT_PROMPT, API_KEY, PROMPT, WEATHER_TOOL, weather_impl
from openai import AsyncOpenAI, OpenAI

MESSAGES: list[Any] = [{"role": "user", "content": PROMPT}]


class Client:
    """``OpenAI`` / ``AsyncOpenAI`` pointed at the mock server, default settings otherwise."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.client = OpenAI(base_url=base_url, api_key=API_KEY)
        self.async_client: AsyncOpenAI | None = None

    def call(self, model: str) -> str:
        completion = self.client.chat.completions.create(model=model, messages=MESSAGES)
        return completion.choices[0].message.content or ""

    def stream(self, model: str) -> str:
        text = ""
        for chunk in self.client.chat.completions.create(model=model, messages=MESSAGES, stream=True):
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
        return text

    async def astream(self, model: str) -> str:
        if self.async_client is None:
            self.async_client = AsyncOpenAI(base_url=self.base_url, api_key=API_KEY)
        text = ""
        stream = await self.async_client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                text += chunk.choices[0].delta.content
        return text

    def agent(self, model: str) -> str:
        messages: list[Any] = [{"role": "user", "content": AGENT_PROMPT}]
        tools: list[Any] = [WEATHER_TOOL]
        message = (
            self.client.chat.completions.create(model=model, messages=messages, tools=tools)
            .choices[0]
            .message
        )
        messages.append(message)
        for call in message.tool_calls or []:
            if call.type != "function":
                raise AssertionError(f"unexpected tool call type {call.type!r}")
            result = weather_impl(**json.loads(call.function.arguments))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
        final = self.client.chat.completions.create(model=model, messages=messages, tools=tools)
        return final.choices[0].message.content or ""

    async def aclose(self) -> None:
        if self.async_client is not None:
            await self.async_client.close()
        self.client.close()

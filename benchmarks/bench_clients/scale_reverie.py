"""reverie doing each scale row's work the way its docs show (see ``scale_rows``).

An ``Agent`` on ``openaicompat.Provider(...).language_model(...)`` with reverie's defaults: its own
default httpx2 clients and connection pool, and the default retry policy. Only two settings are
not defaults: ``max_steps`` of the agent row (a run of N tool steps needs N + 1 steps) and
``max_response_bytes`` (its 64 MiB safety cap would cut the 500k-chunk stream).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from common import (
    AGENT_PROMPT,
    API_KEY,
    PROMPT,
    TOOL_ARG_DESCRIPTION,
    TOOL_DESCRIPTION,
    TOOL_NAME,
    model_name,
)
from common import weather_impl as weather
from pydantic import Field
from scale_rows import (
    CONCURRENT_MODEL,
    DELAY_MS,
    HISTORY_MODEL,
    STREAM_MAX_RESPONSE_BYTES,
    STREAM_WARM_UP_MODEL,
    extra_tool_description,
    extra_tool_name,
    history_text,
)

from reverie import Agent, Message, tool
from reverie.providers import openaicompat


def make_tool(name: str, description: str) -> Any:
    """A ``@tool`` function named ``name`` with the ``weather`` tool's signature."""

    def run(location: Annotated[str, Field(description=TOOL_ARG_DESCRIPTION)]) -> str:
        return weather(location)

    return tool(name=name, description=description)(run)


class Client:
    """One provider; one ``Agent`` per row, built by ``prepare``."""

    def __init__(self, base_url: str) -> None:
        self.provider = openaicompat.Provider(
            base_url=base_url, api_key=API_KEY, max_response_bytes=STREAM_MAX_RESPONSE_BYTES
        )
        self.agent_for: dict[str, Any] = {}
        self.history: list[Message] = []

    def prepare(self, row: str, size: int) -> None:
        """Build the row's agent (and history) outside the measured window."""
        if row.startswith("concurrency"):
            model = self.provider.language_model(CONCURRENT_MODEL)
            self.agent_for["plain"] = Agent(model)
            self.agent_for["delayed"] = Agent(model, headers={"x-bench-delay-ms": str(DELAY_MS)})
        if row == "history":
            roles = (Message.user, Message.assistant)
            self.history = [roles[i % 2](history_text(i)) for i in range(size)]
            self.agent_for[row] = Agent(self.provider.language_model(HISTORY_MODEL))
        if row == "stream":
            for model in (STREAM_WARM_UP_MODEL, model_name(size)):
                self.agent_for[model] = Agent(self.provider.language_model(model))
        if row in ("agent", "tools"):
            tools = [make_tool(TOOL_NAME, TOOL_DESCRIPTION)]
            steps = size if row == "agent" else 1
            if row == "tools":
                tools += [make_tool(extra_tool_name(i), extra_tool_description(i)) for i in range(1, size)]
            self.agent_for[row] = Agent(
                self.provider.language_model(HISTORY_MODEL),
                tools=tools,
                max_steps=steps + 1,
                headers={"x-bench-tool-steps": str(steps)},
            )

    async def astream(self, delayed: bool) -> str:
        """One async stream consumed part by part; returns the run's text."""
        stream = self.agent_for["delayed" if delayed else "plain"].stream_async(PROMPT)
        received = 0
        async for part in stream:
            if part.type == "text_delta":
                received += len(part.delta)
        result = await stream.result()
        return _checked(received, result.text)

    def call(self) -> str:
        """One non-streaming call after the prepared history."""
        text: str = self.agent_for["history"].generate(PROMPT, messages=self.history).text
        return text

    def agent(self, steps: int) -> str:
        """One agent run; the server asks for ``steps`` tool calls, then answers."""
        result = self.agent_for["agent"].generate(AGENT_PROMPT)
        if len(result.steps) != steps + 1:
            raise AssertionError(f"expected {steps + 1} steps, got {len(result.steps)}")
        text: str = result.text
        return text

    def tools_run(self) -> str:
        """A 2-step agent run offering every prepared tool."""
        result = self.agent_for["tools"].generate(AGENT_PROMPT)
        if len(result.steps) != 2:
            raise AssertionError(f"expected 2 steps, got {len(result.steps)}")
        text: str = result.text
        return text

    def stream(self, model: str, tick: Callable[[], None]) -> str:
        """One sync stream consumed part by part, ``tick()`` per part; returns the run's text."""
        stream = self.agent_for[model].stream(PROMPT)
        received = 0
        for part in stream:
            tick()
            if part.type == "text_delta":
                received += len(part.delta)
        return _checked(received, stream.result().text)

    async def aclose(self) -> None:
        await self.provider.aclose()
        self.provider.close()


def _checked(received: int, text: str) -> str:
    """The run's text, after checking the streamed deltas added up to as many characters."""
    if received != len(text):
        raise AssertionError(f"streamed {received} characters, but result().text has {len(text)}")
    return text

"""``pydantic-ai`` as its docs show: ``Agent`` on ``OpenAIChatModel`` + ``OpenAIProvider(base_url=...)``.

``run_sync`` for calls and the agent run (with a ``weather`` tool), ``run_stream_sync`` /
``run_stream`` with ``stream_text(delta=True)`` for streams.
"""

from __future__ import annotations

from typing import Annotated

from common import AGENT_PROMPT, API_KEY, PROMPT, weather_impl
from pydantic import Field
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider


def weather(location: Annotated[str, Field(description="the city")]) -> str:
    """Get weather information for a location."""
    return weather_impl(location)


class Client:
    """One ``OpenAIProvider`` and one ``Agent`` per model name (built on first use)."""

    def __init__(self, base_url: str) -> None:
        self.provider = OpenAIProvider(base_url=base_url, api_key=API_KEY)
        self.agents: dict[tuple[str, bool], Agent[None, str]] = {}

    def _agent(self, model: str, tools: bool = False) -> Agent[None, str]:
        agent = self.agents.get((model, tools))
        if agent is None:
            chat_model = OpenAIChatModel(model, provider=self.provider)
            agent = Agent(chat_model, tools=[weather] if tools else [])
            self.agents[(model, tools)] = agent
        return agent

    def call(self, model: str) -> str:
        return self._agent(model).run_sync(PROMPT).output

    def stream(self, model: str) -> str:
        result = self._agent(model).run_stream_sync(PROMPT)
        return "".join(result.stream_text(delta=True))

    async def astream(self, model: str) -> str:
        async with self._agent(model).run_stream(PROMPT) as result:
            return "".join([delta async for delta in result.stream_text(delta=True)])

    def agent(self, model: str) -> str:
        return self._agent(model, tools=True).run_sync(AGENT_PROMPT).output

    async def aclose(self) -> None:
        return None

"""reverie used as its docs show: an ``Agent`` on ``openaicompat.Provider(...).language_model(...)``.

Every workload goes through the Agent (what users write): ``generate`` for calls, ``stream`` /
``stream_async`` for streams, and ``generate`` with a ``@tool`` ``weather`` for the 2-step run.
The provider gets httpx2 clients configured like the raw floor's (same timeout and pool limits).
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx2
from common import AGENT_PROMPT, API_KEY, PROMPT, weather_impl
from pydantic import Field

from bench_clients.raw_httpx2 import LIMITS, TIMEOUT
from reverie import Agent, RetryPolicy, tool
from reverie.providers import openaicompat


@tool
def weather(location: Annotated[str, Field(description="the city")]) -> str:
    """Get weather information for a location"""
    return weather_impl(location)


class Client:
    """One provider, one ``Agent`` per (model name, with tools)."""

    def __init__(self, base_url: str) -> None:
        self.http_client = httpx2.Client(timeout=TIMEOUT, limits=LIMITS)
        self.async_http_client = httpx2.AsyncClient(timeout=TIMEOUT, limits=LIMITS)
        self.provider = openaicompat.Provider(
            base_url=base_url,
            api_key=API_KEY,
            http_client=self.http_client,
            async_http_client=self.async_http_client,
        )
        self.agents: dict[tuple[str, bool], Any] = {}

    def _agent(self, model: str, tools: bool = False) -> Any:
        agent = self.agents.get((model, tools))
        if agent is None:
            language_model = self.provider.language_model(model)
            retry = RetryPolicy(max_retries=0)
            agent = (
                Agent(language_model, tools=[weather], retry=retry)
                if tools
                else Agent(language_model, retry=retry)
            )
            self.agents[(model, tools)] = agent
        return agent

    def call(self, model: str) -> str:
        text: str = self._agent(model).generate(PROMPT).text
        return text

    def stream(self, model: str) -> str:
        stream = self._agent(model).stream(PROMPT)
        text = ""
        for part in stream:
            if part.type == "text_delta":
                text += part.delta
        return _checked(text, stream.result().text)

    async def astream(self, model: str) -> str:
        stream = self._agent(model).stream_async(PROMPT)
        text = ""
        async for part in stream:
            if part.type == "text_delta":
                text += part.delta
        result = await stream.result()
        return _checked(text, result.text)

    def agent(self, model: str) -> str:
        result = self._agent(model, tools=True).generate(AGENT_PROMPT)
        if len(result.steps) != 2:
            raise AssertionError(f"expected 2 steps, got {len(result.steps)}")
        text: str = result.text
        return text

    async def aclose(self) -> None:
        await self.async_http_client.aclose()
        self.http_client.close()


def _checked(streamed: str, final: str) -> str:
    """The streamed text, after checking the stream's final result carries the same text."""
    if streamed != final:
        raise AssertionError(f"streamed text and result().text differ: {streamed[:60]!r} vs {final[:60]!r}")
    return streamed

"""Replay the recorded OpenRouter conversation bundled with reverie, sync and async. Offline.

The real OpenRouter provider and codec run; a ``Cassette`` answers each request from the
recording instead of the network, and fails on any request that is not, as JSON, the recorded
one. The recording holds a tool call, a ``429`` on the second step, and the answer.
"""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import Annotated

import httpx2
from pydantic import Field

from reverie import Agent, RetryPart, RetryPolicy, tool
from reverie.providers import openrouter
from reverie.testing import Cassette

RECORDING = "openrouter-kimi-k2-siliconflow-tool.json"
PROMPT = "What's the weather in Florence,Italy?"


@tool
def weather(location: Annotated[str, Field(description="the city")]) -> str:
    """Get weather information for a location"""  # noqa: D415 - the recorded description
    return "40 C"


def load_recording() -> Cassette:
    """The bundled recording, ready to replay."""
    with resources.as_file(resources.files("reverie._demo") / RECORDING) as path:
        return Cassette.load(path)


def report_retry(retry: RetryPart) -> None:
    """Print the recorded 429 and its retry."""
    status = getattr(retry.error, "status_code", None)
    print(f"retry {retry.attempt} after an HTTP {status} from the recording")


def make_agent(provider: openrouter.Provider) -> Agent:
    """The agent the recording was made with (no waiting before the retry)."""
    return Agent(
        provider.language_model("moonshotai/kimi-k2-0905"),
        system_prompt="You are a helpful assistant",
        tools=[weather],
        retry=RetryPolicy(initial_delay=0.0),
        on_retry=report_retry,
        # The recorded requests asked for this limit and this upstream: replayed ones must too.
        max_output_tokens=4000,
        provider_options={"openrouter": {"provider": {"only": ["siliconflow"]}}},
    )


def replay_sync() -> None:
    """Replay with the sync API."""
    cassette = load_recording()
    with httpx2.Client(transport=cassette) as client:
        provider = openrouter.Provider(api_key="not-needed", http_client=client)
        result = make_agent(provider).generate(PROMPT)
    print(f"sync: {result.text}")
    print(
        f"sync: {len(result.steps)} steps, {result.total_usage.total_tokens} tokens, ${result.total_cost:.6f}"
    )


async def replay_async() -> None:
    """Replay with the async API."""
    cassette = load_recording()
    async with httpx2.AsyncClient(transport=cassette) as client:
        provider = openrouter.Provider(api_key="not-needed", async_http_client=client)
        result = await make_agent(provider).generate_async(PROMPT)
    print(f"async: {result.steps[0].tool_calls[0].tool_name}{result.steps[0].tool_calls[0].input}")
    print(f"async: served by {result.steps[-1].provider_metadata['openrouter']['provider']}")


def main() -> None:
    """Replay the recording twice: sync, then async."""
    replay_sync()
    asyncio.run(replay_async())


if __name__ == "__main__":
    main()

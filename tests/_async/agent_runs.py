"""Running an agent whole or streamed, for the shell tests that check both modes alike.

This is the async source; ``tests/_sync/agent_runs.py`` is generated from it. Test modules
import it relatively (``from .agent_runs import run``), so each colour gets its own twin.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reverie import Agent, AgentResult, AgentStreamPart, RetryPart, TextDeltaPart


async def run(agent: Agent, *, streaming: bool) -> tuple[AgentResult, list[AgentStreamPart]]:
    """Run ``agent`` on ``"hi"``; the stream's parts too (none when not streaming)."""
    parts: list[AgentStreamPart] = []
    if not streaming:
        return await agent.generate_async("hi"), parts
    async with agent.stream_async("hi") as stream:
        async for part in stream:
            parts.append(part)
        return await stream.result(), parts


async def finish(agent: Agent, prompt: str, *, streaming: bool) -> Any:
    """Run ``agent`` on ``prompt`` to its result, streamed to the end when ``streaming``."""
    if not streaming:
        return await agent.generate_async(prompt)
    stream = agent.stream_async(prompt)
    async for _ in stream:
        pass
    return await stream.result()


def after_last_retry(parts: Sequence[object]) -> str:
    """The text a consumer shows after forgetting every failed attempt (one-step runs)."""
    retries = [index for index, part in enumerate(parts) if isinstance(part, RetryPart)]
    kept = parts[retries[-1] + 1 :] if retries else parts
    return "".join(part.delta for part in kept if isinstance(part, TextDeltaPart))

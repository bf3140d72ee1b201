"""The scale suite's floor: hand-written httpx2 code doing each row's work (see ``scale_rows``).

Bodies are dicts built by hand and sent as ``json.dumps`` text, JSON-equal to reverie's (the mock
server checks this through its body digest). Streams are read to the end (``iter_lines``, one
``json.loads`` per ``data:`` line), so every connection goes back to the pool; the pool has the
openai SDK's limits (1,000 connections, 100 kept alive), the same as ``raw_httpx2``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
from common import AGENT_PROMPT, API_KEY, PROMPT, TOOL_ARG_DESCRIPTION, TOOL_DESCRIPTION, TOOL_NAME
from common import weather_impl as weather
from scale_rows import (
    CONCURRENT_MODEL,
    DELAY_MS,
    HISTORY_MODEL,
    extra_tool_description,
    extra_tool_name,
    history_text,
)

from bench_clients.raw_httpx2 import LIMITS, TIMEOUT, delta_text


def tool_definition(name: str, description: str) -> dict[str, Any]:
    """A tool as reverie's chat-completions codec sends it (``strict`` false)."""
    parameters = {
        "properties": {"location": {"description": TOOL_ARG_DESCRIPTION, "type": "string"}},
        "required": ["location"],
        "type": "object",
    }
    function = {"name": name, "description": description, "parameters": parameters, "strict": False}
    return {"type": "function", "function": function}


class Client:
    """Raw httpx2 requests against ``{base_url}/chat/completions``."""

    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/chat/completions"
        self.headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
        self.client = httpx2.Client(timeout=TIMEOUT, limits=LIMITS)
        self.async_client: httpx2.AsyncClient | None = None
        self.history: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []

    def prepare(self, row: str, size: int) -> None:
        """Build what the row's requests reuse (outside the measured window)."""
        if row == "history":
            roles = ("user", "assistant")
            self.history = [{"role": roles[i % 2], "content": history_text(i)} for i in range(size)]
        if row in ("agent", "tools"):
            self.tools = [tool_definition(TOOL_NAME, TOOL_DESCRIPTION)]
        if row == "tools":
            self.tools += [
                tool_definition(extra_tool_name(i), extra_tool_description(i)) for i in range(1, size)
            ]

    def _post(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        response = self.client.post(self.url, content=json.dumps(body), headers=headers or self.headers)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    async def astream(self, delayed: bool) -> str:
        """One async stream read to the end; ``delayed``: the server waits ``DELAY_MS`` first."""
        if self.async_client is None:
            self.async_client = httpx2.AsyncClient(timeout=TIMEOUT, limits=LIMITS)
        body = {
            "model": CONCURRENT_MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        headers = {**self.headers, "x-bench-delay-ms": str(DELAY_MS)} if delayed else self.headers
        text = ""
        async with self.async_client.stream(
            "POST", self.url, content=json.dumps(body), headers=headers
        ) as resp:
            resp.raise_for_status()
            async for line in resp.aiter_lines():
                delta = delta_text(line)
                if delta:
                    text += delta
        return text

    def call(self) -> str:
        """One non-streaming call after the prepared history."""
        messages = [*self.history, {"role": "user", "content": PROMPT}]
        content: str = self._post({"model": HISTORY_MODEL, "messages": messages})["choices"][0]["message"][
            "content"
        ]
        return content

    def agent(self, steps: int) -> str:
        """An agent run by hand: post, run the tool calls, post again, until the model answers."""
        headers = {**self.headers, "x-bench-tool-steps": str(steps)}
        body = {
            "model": HISTORY_MODEL,
            "messages": [{"role": "user", "content": AGENT_PROMPT}],
            "tools": self.tools,
            "tool_choice": "auto",
        }
        while True:
            message = self._post(body, headers)["choices"][0]["message"]
            calls = message.get("tool_calls")
            if not calls:
                content: str = message["content"]
                return content
            body["messages"].append({"role": "assistant", "tool_calls": calls})
            for call in calls:
                result = weather(**json.loads(call["function"]["arguments"]))
                body["messages"].append({"role": "tool", "tool_call_id": call["id"], "content": result})

    def tools_run(self) -> str:
        """A 2-step agent run with the prepared tools (the server calls ``weather`` once)."""
        return self.agent(1)

    def stream(self, model: str, tick: Callable[[], None]) -> str:
        """One sync stream read to the end, ``tick()`` per event; returns the text."""
        body = {
            "model": model,
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        text = ""
        with self.client.stream("POST", self.url, content=json.dumps(body), headers=self.headers) as resp:
            resp.raise_for_status()
            for line in resp.iter_lines():
                if line:  # one tick per event, as reverie's consumer ticks once per part
                    tick()
                    delta = delta_text(line)
                    if delta:
                        text += delta
        return text

    async def aclose(self) -> None:
        if self.async_client is not None:
            await self.async_client.aclose()
        self.client.close()

"""The floor: a hand-written httpx2 loop (one request per call, two for the agent run).

It posts JSON with ``httpx2.Client`` / ``httpx2.AsyncClient``, reads streams with ``iter_lines``,
``json.loads`` each ``data:`` line and accumulates the text. Nothing a library could skip.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from common import AGENT_PROMPT, API_KEY, PROMPT, WEATHER_TOOL, weather_impl

TIMEOUT = 60.0
# The openai SDK's default pool limits, so 200 concurrent streams get 200 connections.
LIMITS = httpx2.Limits(max_connections=1000, max_keepalive_connections=100)


def _body(model: str, prompt: str = PROMPT, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": prompt}]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def delta_text(line: str) -> str | None:
    """Text carried by one SSE line; "" for non-text lines; None at ``[DONE]``."""
    if not line.startswith("data:"):
        return ""
    data = line[5:].strip()
    if data == "[DONE]":
        return None
    chunk = json.loads(data)
    return "".join(choice["delta"].get("content") or "" for choice in chunk["choices"])


class Client:
    """Raw httpx2 requests against ``{base_url}/chat/completions``."""

    def __init__(self, base_url: str) -> None:
        self.url = f"{base_url}/chat/completions"
        self.headers = {"Authorization": f"Bearer {API_KEY}"}
        self.client = httpx2.Client(timeout=TIMEOUT, limits=LIMITS)
        self.async_client: httpx2.AsyncClient | None = None

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(self.url, json=body, headers=self.headers)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def call(self, model: str) -> str:
        content: str = self._post(_body(model))["choices"][0]["message"]["content"]
        return content

    def stream(self, model: str) -> str:
        parts: list[str] = []
        with self.client.stream(
            "POST", self.url, json=_body(model, stream=True), headers=self.headers
        ) as resp:
            resp.raise_for_status()
            for line in resp.iter_lines():
                text = delta_text(line)
                if text is None:
                    break
                parts.append(text)
        return "".join(parts)

    async def astream(self, model: str) -> str:
        if self.async_client is None:
            self.async_client = httpx2.AsyncClient(timeout=TIMEOUT, limits=LIMITS)
        parts: list[str] = []
        body = _body(model, stream=True)
        async with self.async_client.stream("POST", self.url, json=body, headers=self.headers) as resp:
            resp.raise_for_status()
            async for line in resp.aiter_lines():
                text = delta_text(line)
                if text is None:
                    break
                parts.append(text)
        return "".join(parts)

    def agent(self, model: str) -> str:
        body = _body(model, AGENT_PROMPT)
        body["tools"] = [WEATHER_TOOL]
        message = self._post(body)["choices"][0]["message"]
        body["messages"].append(message)
        for call in message.get("tool_calls") or []:
            result = weather_impl(**json.loads(call["function"]["arguments"]))
            body["messages"].append({"role": "tool", "tool_call_id": call["id"], "content": result})
        content: str = self._post(body)["choices"][0]["message"]["content"]
        return content

    async def aclose(self) -> None:
        if self.async_client is not None:
            await self.async_client.aclose()
        self.client.close()

"""Run in a fresh interpreter: a plain first request to every provider, and what it imported.

    python -m tests.first_request    # prints one JSON object

Each provider's first plain call (no tools, no provider options, no output type) goes through
an ``httpx2.MockTransport`` that answers in its wire format, in both modes (``generate`` and
``stream``) and both colours (sync and async). After each one the script records whether
pydantic or any provider options module has been imported. A last call with provider options
shows the check can see such an import. ``tests/unit/test_first_request_imports.py`` reads the
result.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Callable
from typing import Any

import httpx2

from reverie import Agent
from reverie._http_model import HttpLanguageModel
from tests.eventstream_frames import event
from tests.wire_answers import anthropic_message, chat_completion, gemini_response, responses_answer

CHAT = chat_completion()
CHAT_CHUNKS = [
    {"choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": None}]},
    {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
]
RESPONSE = responses_answer()
RESPONSE_EVENTS = [
    {
        "type": "response.output_text.delta",
        "item_id": "msg_1",
        "output_index": 0,
        "content_index": 0,
        "delta": "hi",
    },
    {"type": "response.completed", "response": RESPONSE},
]
MESSAGE = anthropic_message()
MESSAGE_EVENTS = [
    {
        "type": "message_start",
        "message": {
            **MESSAGE,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 1, "output_tokens": 0},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
    {"type": "message_stop"},
]
GEMINI = gemini_response()


def sse(events: list[dict[str, Any]], *, named: bool = False, done: bool = False) -> bytes:
    lines = [
        (f"event: {item['type']}\n" if named else "") + f"data: {json.dumps(item)}\n\n" for item in events
    ]
    return "".join(lines).encode() + (b"data: [DONE]\n\n" if done else b"")


def bedrock_stream() -> bytes:
    return b"".join(
        event("chunk", json.dumps({"bytes": base64.b64encode(json.dumps(item).encode()).decode()}).encode())
        for item in MESSAGE_EVENTS
    )


def answer(request: httpx2.Request) -> httpx2.Response:
    """The wire answer for ``request``, by path: chat, Responses, Messages (also Bedrock's), Gemini."""
    path = request.url.path
    stream = bool(json.loads(request.content).get("stream")) or "stream" in path.lower()
    if path.endswith("/invoke-with-response-stream"):
        return httpx2.Response(
            200, headers={"content-type": "application/vnd.amazon.eventstream"}, content=bedrock_stream()
        )
    if path.endswith("/chat/completions"):
        whole, streamed = CHAT, sse(CHAT_CHUNKS, done=True)
    elif path.endswith("/responses"):
        whole, streamed = RESPONSE, sse(RESPONSE_EVENTS, named=True)
    elif path.endswith(("/messages", "/invoke", ":rawPredict", ":streamRawPredict")):
        whole, streamed = MESSAGE, sse(MESSAGE_EVENTS, named=True)
    else:
        whole, streamed = GEMINI, sse([GEMINI])
    if stream:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=streamed)
    return httpx2.Response(200, json=whole)


def models(clients: dict[str, Any]) -> dict[str, Callable[[], HttpLanguageModel]]:
    """A model of each provider (imported on use, after the import check started)."""
    from reverie.providers import (
        anthropic,
        azure,
        bedrock,
        google,
        openai,
        openaicompat,
        openrouter,
        vercel,
        vertex,
    )

    return {
        "openai": lambda: openai.Provider(api_key="k", **clients).language_model("gpt-4o"),
        "openai-responses": lambda: openai.Provider(api_key="k", api="responses", **clients).language_model(
            "gpt-4o"
        ),
        "anthropic": lambda: anthropic.Provider(api_key="k", **clients).language_model("claude-sonnet-4"),
        "google": lambda: google.Provider(api_key="k", **clients).language_model("gemini-2.5-flash"),
        "openrouter": lambda: openrouter.Provider(api_key="k", **clients).language_model(
            "moonshotai/kimi-k2"
        ),
        "openaicompat": lambda: openaicompat.Provider(base_url="http://compat/v1", **clients).language_model(
            "m"
        ),
        "vercel": lambda: vercel.Provider(api_key="k", **clients).language_model("openai/gpt-4o"),
        "azure": lambda: azure.Provider(
            base_url="https://r.openai.azure.com", api_key="k", **clients
        ).language_model("gpt-4o"),
        "bedrock": lambda: bedrock.Provider(region="us-east-1", api_key="k", **clients).language_model(
            "anthropic.claude"
        ),
        "vertex-gemini": lambda: vertex.Provider(
            project="p", location="us-east5", access_token="t", **clients
        ).language_model("gemini-2.5-flash"),
        "vertex-claude": lambda: vertex.Provider(
            project="p", location="us-east5", access_token="t", **clients
        ).language_model("claude-sonnet-4"),
    }


def heavy_modules() -> list[str]:
    """pydantic and every provider options module imported so far."""
    return sorted(
        name
        for name in sys.modules
        if name == "pydantic" or name.endswith("._options") or name.endswith("_openai_responses.options")
    )


async def run_async(results: list[dict[str, Any]]) -> None:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(answer)) as client:
        for name, make in models({"async_http_client": client}).items():
            agent = Agent(make())
            generated = (await agent.generate_async("hi")).text
            results.append(
                {"provider": name, "call": "generate_async", "text": generated, "imported": heavy_modules()}
            )
            streamed = (await agent.stream_async("hi").result()).text
            results.append(
                {"provider": name, "call": "stream_async", "text": streamed, "imported": heavy_modules()}
            )


def main() -> None:
    results: list[dict[str, Any]] = []
    with httpx2.Client(transport=httpx2.MockTransport(answer)) as client:
        for name, make in models({"http_client": client}).items():
            agent = Agent(make())
            results.append(
                {
                    "provider": name,
                    "call": "generate",
                    "text": agent.generate("hi").text,
                    "imported": heavy_modules(),
                }
            )
            results.append(
                {
                    "provider": name,
                    "call": "stream",
                    "text": agent.stream("hi").result().text,
                    "imported": heavy_modules(),
                }
            )
        asyncio.run(run_async(results))
        with_options = Agent(
            models({"http_client": client})["openai"](), provider_options={"openai": {"user": "u"}}
        )
        with_options.generate("hi")
    print(json.dumps({"results": results, "after_options": heavy_modules()}))


if __name__ == "__main__":
    main()

"""Provider-shaped fake answers for the typed-output tests: one per API family, whole or streamed.

Each ``Family`` turns an abstract answer (a text, or one tool call) into the body a real server
of that family sends: OpenAI chat completions (``data: [DONE]`` streams), OpenAI's Responses
API and Anthropic Messages (named events) and Gemini (``alt=sse`` chunks). Streams cut text
and tool input into small pieces so that partial output has something to grow from. ``Server`` is an
``httpx2.MockTransport`` handler that answers from a script and keeps every request body.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from reverie import LanguageModel
from reverie.providers import anthropic, google, openai

Answer = str | tuple[str, dict[str, Any]]
"""A text reply, or one call ``(tool name, arguments)``."""
PIECE = 4


def _pieces(text: str) -> list[str]:
    return [text[index : index + PIECE] for index in range(0, len(text), PIECE)] or [""]


def _sse(events: list[tuple[str | None, Any]]) -> bytes:
    lines: list[str] = []
    for name, data in events:
        if name is not None:
            lines.append(f"event: {name}")
        lines.append(f"data: {data if isinstance(data, str) else json.dumps(data)}")
        lines.append("")
    return ("\n".join(lines) + "\n").encode()


def _openai_whole(answer: Answer) -> dict[str, Any]:
    if isinstance(answer, str):
        message: dict[str, Any] = {"role": "assistant", "content": answer}
        reason = "stop"
    else:
        name, arguments = answer
        call = {
            "id": "call_1",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        message, reason = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    return {
        "id": "chatcmpl-1",
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": message, "finish_reason": reason}],
        "usage": usage,
    }


def _openai_stream(answer: Answer) -> bytes:
    def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-1",
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
        }

    events: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", "content": ""}))]
    if isinstance(answer, str):
        events += [(None, chunk({"content": piece})) for piece in _pieces(answer)]
        reason = "stop"
    else:
        name, arguments = answer
        first = {"index": 0, "id": "call_1", "type": "function", "function": {"name": name, "arguments": ""}}
        events.append((None, chunk({"tool_calls": [first]})))
        events += [
            (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
            for piece in _pieces(json.dumps(arguments))
        ]
        reason = "tool_calls"
    events.append((None, chunk({}, reason)))
    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    events.append((None, {"id": "chatcmpl-1", "model": "gpt-4o", "choices": [], "usage": usage}))
    events.append((None, "[DONE]"))
    return _sse(events)


def _responses_item(answer: Answer) -> dict[str, Any]:
    if isinstance(answer, str):
        text = {"type": "output_text", "text": answer, "annotations": []}
        return {"id": "msg_1", "type": "message", "role": "assistant", "content": [text]}
    name, arguments = answer
    return {"id": "fc_1", "type": "function_call", "call_id": "call_1", "name": name,
            "arguments": json.dumps(arguments)}  # fmt: skip


def _responses_whole(answer: Answer) -> dict[str, Any]:
    usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    return {"id": "resp_1", "model": "gpt-4o", "status": "completed", "output": [_responses_item(answer)],
            "usage": usage}  # fmt: skip


def _responses_stream(answer: Answer) -> bytes:
    item = _responses_item(answer)
    events: list[tuple[str | None, Any]] = [
        ("response.created", {"type": "response.created", "response": {"id": "resp_1", "model": "gpt-4o"}}),
        (
            "response.output_item.added",
            {"type": "response.output_item.added", "item": {**item, "content": []}},
        ),
    ]
    if isinstance(answer, str):
        kind, pieces = "response.output_text.delta", _pieces(answer)
    else:
        kind, pieces = "response.function_call_arguments.delta", _pieces(item["arguments"])
    events += [(kind, {"type": kind, "item_id": item["id"], "delta": piece}) for piece in pieces]
    events.append(("response.output_item.done", {"type": "response.output_item.done", "item": item}))
    done = {"type": "response.completed", "response": _responses_whole(answer)}
    events.append(("response.completed", done))
    return _sse(events)


def _anthropic_whole(answer: Answer) -> dict[str, Any]:
    if isinstance(answer, str):
        content: list[dict[str, Any]] = [{"type": "text", "text": answer}]
        reason = "end_turn"
    else:
        name, arguments = answer
        content, reason = (
            [{"type": "tool_use", "id": "toolu_1", "name": name, "input": arguments}],
            "tool_use",
        )
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": content,
        "stop_reason": reason,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def _anthropic_stream(answer: Answer) -> bytes:
    start = {"type": "message", "id": "msg_1", "role": "assistant", "model": "claude-sonnet-4-20250514",
             "content": [], "usage": {"input_tokens": 10, "output_tokens": 1}}  # fmt: skip
    events: list[tuple[str | None, Any]] = [("message_start", {"type": "message_start", "message": start})]
    if isinstance(answer, str):
        block: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in _pieces(answer)]
        reason = "end_turn"
    else:
        name, arguments = answer
        block = {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}
        deltas = [
            {"type": "input_json_delta", "partial_json": piece} for piece in _pieces(json.dumps(arguments))
        ]
        reason = "tool_use"
    events.append(
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block})
    )
    events += [
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta})
        for delta in deltas
    ]
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    events.append(
        (
            "message_delta",
            {"type": "message_delta", "delta": {"stop_reason": reason}, "usage": {"output_tokens": 5}},
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return _sse(events)


def _gemini_parts(answer: Answer) -> list[list[dict[str, Any]]]:
    if isinstance(answer, str):
        return [[{"text": piece}] for piece in _pieces(answer)]
    name, arguments = answer
    return [[{"functionCall": {"name": name, "args": arguments}}]]


def _gemini_chunk(parts: list[dict[str, Any]], *, last: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    chunk: dict[str, Any] = {
        "candidates": [candidate],
        "modelVersion": "gemini-2.5-flash",
        "responseId": "r-1",
    }
    if last:
        candidate["finishReason"] = "STOP"
        chunk["usageMetadata"] = {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}
    return chunk


def _gemini_whole(answer: Answer) -> dict[str, Any]:
    parts = [part for group in _gemini_parts(answer) for part in group]
    if isinstance(answer, str):
        parts = [{"text": answer}]
    return _gemini_chunk(parts, last=True)


def _gemini_stream(answer: Answer) -> bytes:
    groups = _gemini_parts(answer)
    chunks = [_gemini_chunk(group, last=index == len(groups) - 1) for index, group in enumerate(groups)]
    return "".join(f"data: {json.dumps(chunk)}\r\n\r\n" for chunk in chunks).encode()


@dataclass(frozen=True)
class Family:
    """One API family: how to build its model and how its server answers."""

    name: str
    whole: Callable[[Answer], dict[str, Any]]
    stream: Callable[[Answer], bytes]
    build: Callable[[httpx2.Client, httpx2.AsyncClient], LanguageModel]
    native_json: bool
    """Whether ``output_mode="auto"`` without tools uses the provider's native JSON output."""


FAMILIES = [
    Family(
        "openai",
        _openai_whole,
        _openai_stream,
        lambda sync, async_: openai.Provider(
            api_key="k", http_client=sync, async_http_client=async_
        ).language_model("gpt-4o"),
        native_json=True,
    ),
    Family(
        "openai-responses",
        _responses_whole,
        _responses_stream,
        lambda sync, async_: openai.Provider(
            api="responses", api_key="k", http_client=sync, async_http_client=async_
        ).language_model("gpt-4o"),
        native_json=True,
    ),
    Family(
        "anthropic",
        _anthropic_whole,
        _anthropic_stream,
        lambda sync, async_: anthropic.Provider(
            api_key="k", http_client=sync, async_http_client=async_
        ).language_model("claude-sonnet-4-20250514"),
        native_json=False,
    ),
    Family(
        "google",
        _gemini_whole,
        _gemini_stream,
        lambda sync, async_: google.Provider(
            api_key="k", http_client=sync, async_http_client=async_, tool_call_id=lambda: "1"
        ).language_model("gemini-2.5-flash"),
        native_json=True,
    ),
]


@dataclass
class Server:
    """Answers each request with the next scripted answer, in the family's shape."""

    family: Family
    script: list[Answer]
    bodies: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        answer = self.script[len(self.bodies) - 1]
        streaming = body.get("stream") is True or request.url.path.endswith(":streamGenerateContent")
        if streaming:
            return httpx2.Response(
                200, headers={"content-type": "text/event-stream"}, content=self.family.stream(answer)
            )
        return httpx2.Response(200, json=self.family.whole(answer))

    def model(self) -> LanguageModel:
        transport = httpx2.MockTransport(self)
        return self.family.build(httpx2.Client(transport=transport), httpx2.AsyncClient(transport=transport))

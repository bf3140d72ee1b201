"""Successful answers in each API's wire format, for tests whose servers must just answer.

A chat completion, a Responses API response, an Anthropic message and a Gemini response,
each with one text (``"hi"`` unless asked otherwise) and a small usage block; each call
builds a fresh dict. Then the two answers of a weather lookup that changes provider midway:
Gemini calls the tool (with a thought and its signature), Anthropic answers. Standard
library only: ``tests/first_request.py`` imports this module in an interpreter whose
imports it checks.
"""

from __future__ import annotations

from typing import Any


def chat_completion(
    text: str = "hi", *, response_id: str = "chatcmpl-1", model: str = "m", usage: tuple[int, int] = (1, 1)
) -> dict[str, Any]:
    """A chat completion (OpenAI and compatible APIs) answering ``text``; ``usage``: prompt, completion."""
    prompt_tokens, completion_tokens = usage
    return {
        "id": response_id,
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def responses_answer(
    text: str = "hi", *, response_id: str = "resp_1", model: str = "m", usage: tuple[int, int] = (1, 1)
) -> dict[str, Any]:
    """A completed OpenAI Responses API response answering ``text``; ``usage``: input, output."""
    input_tokens, output_tokens = usage
    return {
        "id": response_id,
        "object": "response",
        "status": "completed",
        "model": model,
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": sum(usage)},
    }


def anthropic_message(text: str = "hi") -> dict[str, Any]:
    """An Anthropic Messages API message answering ``text``."""
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def gemini_response(text: str = "hi") -> dict[str, Any]:
    """A Gemini ``generateContent`` response answering ``text``."""
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
    }


GEMINI_TOOL_ANSWER: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "**Weather lookup**", "thought": True},
                    {
                        "functionCall": {"name": "weather", "args": {"location": "Florence"}},
                        "thoughtSignature": "Z3NpZw==",
                    },
                ],
            },
            "finishReason": "STOP",
        }
    ],
    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 5, "totalTokenCount": 10},
}
"""Gemini calls ``weather`` after a signed thought (the signature is ``Z3NpZw==``)."""
ANTHROPIC_TEXT_ANSWER: dict[str, Any] = {
    "type": "message",
    "content": [{"type": "text", "text": "It is 40 C in Florence."}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 30, "output_tokens": 8},
}
"""Anthropic's answer once the tool has run."""

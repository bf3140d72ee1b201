"""Usage means the same for Anthropic and Gemini as for every provider.

``input_tokens`` excludes cached input; cache reads and writes are counted apart in
``cache_read_tokens`` / ``cache_creation_tokens``; ``reasoning_tokens`` is what the provider
reports. Anthropic already reports input without cache; Gemini's ``promptTokenCount``
includes ``cachedContentTokenCount``, which is subtracted. The blocks marked "recorded"
are copied from fantasy v0.41.2's recordings; the cached variants have the shapes the
APIs document, as no recording hit a cache.
"""

from __future__ import annotations

import json
from typing import Any

from reverie import FinishPart, ModelStreamPart, Usage
from reverie._http.sse import SSEDecoder
from reverie.providers import anthropic, google

# Recorded (TestGoogleThinking/gemini-2.5-flash/thinking.yaml, first answer): 123 = 54 + 15 + 54.
GEMINI_RECORDED = {
    "promptTokenCount": 54,
    "candidatesTokenCount": 15,
    "totalTokenCount": 123,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 54}],
    "thoughtsTokenCount": 54,
}

# The same call with 40 of the 54 prompt tokens served from a context cache.
GEMINI_CACHED = {
    "promptTokenCount": 54,
    "cachedContentTokenCount": 40,
    "candidatesTokenCount": 15,
    "totalTokenCount": 123,
    "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 54}],
    "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 40}],
    "thoughtsTokenCount": 54,
}

# Recorded (TestAnthropicCommonWithCacheControl/claude-sonnet-4, a tool answer).
ANTHROPIC_RECORDED = {
    "input_tokens": 507,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 137,
    "service_tier": "standard",
    "inference_geo": "not_available",
}

# A later turn of such a run: the marked prefix is read from the cache, the new turn written.
ANTHROPIC_CACHED = {
    **ANTHROPIC_RECORDED,
    "input_tokens": 12,
    "cache_creation_input_tokens": 188,
    "cache_read_input_tokens": 495,
    "cache_creation": {"ephemeral_5m_input_tokens": 188, "ephemeral_1h_input_tokens": 0},
}


def gemini_response(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"parts": [{"text": "Hi"}], "role": "model"}, "finishReason": "STOP"}],
        "usageMetadata": usage,
    }


def gemini_stream_usage(usage: dict[str, Any]) -> Usage:
    decoder = google.Codec("gemini-2.5-flash").stream_decoder()
    parts: list[ModelStreamPart] = []
    for event in SSEDecoder().feed(f"data: {json.dumps(gemini_response(usage))}\r\n\r\n".encode()):
        parts.extend(decoder.feed(event))
    parts.extend(decoder.end())
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    return finish.usage


def anthropic_message(usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_1",
        "content": [{"type": "text", "text": "Hi"}],
        "stop_reason": "end_turn",
        "usage": usage,
    }


def anthropic_stream_usage(usage: dict[str, Any]) -> Usage:
    # message_start carries the input and cache counts, message_delta the output count.
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {"id": "msg_1", "content": [], "usage": {**usage, "output_tokens": 1}},
        },
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": usage["output_tokens"]},
        },
        {"type": "message_stop"},
    ]
    body = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
    decoder = anthropic.Codec("claude-sonnet-4-20250514").stream_decoder()
    parts: list[ModelStreamPart] = []
    for event in SSEDecoder().feed(body.encode()):
        parts.extend(decoder.feed(event))
    parts.extend(decoder.end())
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    return finish.usage


def test_gemini_recorded_usage() -> None:
    # Output excludes thoughts (they are reasoning tokens); the total is the API's own.
    expected = Usage(input_tokens=54, output_tokens=15, total_tokens=123, reasoning_tokens=54)
    assert google.Codec("gemini-2.5-flash").parse_response(gemini_response(GEMINI_RECORDED)).usage == expected
    assert gemini_stream_usage(GEMINI_RECORDED) == expected


def test_gemini_input_excludes_cached_content() -> None:
    expected = Usage(
        input_tokens=14, output_tokens=15, total_tokens=123, reasoning_tokens=54, cache_read_tokens=40
    )
    assert google.Codec("gemini-2.5-flash").parse_response(gemini_response(GEMINI_CACHED)).usage == expected
    assert gemini_stream_usage(GEMINI_CACHED) == expected


def test_gemini_total_without_total_token_count_counts_every_token_once() -> None:
    usage = {key: value for key, value in GEMINI_CACHED.items() if key != "totalTokenCount"}
    parsed = google.Codec("gemini-2.5-flash").parse_response(gemini_response(usage)).usage
    assert parsed.total_tokens == 123  # 14 new + 40 cached + 15 output + 54 thoughts


def test_anthropic_recorded_usage() -> None:
    expected = Usage(input_tokens=507, output_tokens=137, total_tokens=644)
    codec = anthropic.Codec("claude-sonnet-4-20250514")
    assert codec.parse_response(anthropic_message(ANTHROPIC_RECORDED)).usage == expected
    assert anthropic_stream_usage(ANTHROPIC_RECORDED) == expected


def test_anthropic_cache_reads_and_writes_stay_apart_from_input() -> None:
    # Anthropic's input_tokens already excludes both cache counts: nothing is subtracted.
    expected = Usage(
        input_tokens=12, output_tokens=137, total_tokens=149, cache_creation_tokens=188, cache_read_tokens=495
    )
    codec = anthropic.Codec("claude-sonnet-4-20250514")
    assert codec.parse_response(anthropic_message(ANTHROPIC_CACHED)).usage == expected
    assert anthropic_stream_usage(ANTHROPIC_CACHED) == expected

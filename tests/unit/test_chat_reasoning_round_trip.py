"""Reasoning produced by one chat-completions step goes back in the next request's body.

For each provider of the family, a response (whole, and streamed) is read into a step's
content the way the run machine folds it, then the next request is built with that content
as the assistant message; the reasoning fields on the wire are checked against what the
v0.41.2 recordings send.
"""

from __future__ import annotations

import json
from typing import Any

from reverie import Call, Message, ReasoningPart, TextPart, ToolCallPart, ToolResultPart
from reverie._content import ContentPart
from reverie._run.step import StepBuilder
from reverie.providers import openai, openaicompat, openrouter, vercel
from reverie.providers._openai_chat.codec import OpenAIChatCodec
from tests.unit.test_openai_chat_codec import chunk, decode_stream, sse

WEATHER_CALL = {
    "id": "call_1",
    "type": "function",
    "function": {"name": "weather", "arguments": '{"location":"Florence"}'},
}


def _folded(codec: OpenAIChatCodec, body: bytes) -> list[ContentPart]:
    builder = StepBuilder()
    for part in decode_stream(codec, body):
        builder.add(part)
    return builder.content()


def _next_assistant(codec: OpenAIChatCodec, content: list[ContentPart]) -> dict[str, Any]:
    prompt = [
        Message.user("What's the weather in Florence?"),
        Message(role="assistant", content=content),
        Message(
            role="tool",
            content=[ToolResultPart(tool_call_id="call_1", tool_name="weather", output="40 C")],
        ),
    ]
    body = codec.build_request(Call(prompt=prompt), stream=False).body
    return body["messages"][1]


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    return {"id": "gen-1", "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}


ANTHROPIC_DETAIL = {
    "type": "reasoning.text",
    "text": "Call the weather tool.",
    "format": "anthropic-claude-v1",
    "index": 0,
    "signature": "sig-123",
}


def test_openrouter_generate_sends_anthropic_details_and_reasoning_back() -> None:
    codec = openrouter.Codec("anthropic/claude-haiku-4.5")
    response = codec.parse_response(
        _completion(
            {
                "role": "assistant",
                "content": None,
                "reasoning": "Call the weather tool.",
                "reasoning_details": [ANTHROPIC_DETAIL],
                "tool_calls": [WEATHER_CALL],
            }
        )
    )
    reasoning = [part for part in response.content if isinstance(part, ReasoningPart)]
    assert reasoning[0].provider_metadata["anthropic"] == {"signature": "sig-123"}
    assistant = _next_assistant(codec, response.content)
    assert assistant["reasoning_details"] == [ANTHROPIC_DETAIL]
    assert assistant["reasoning"] == "Call the weather tool."


def test_openrouter_stream_sends_the_signed_anthropic_detail_with_the_whole_text() -> None:
    codec = openrouter.Codec("anthropic/claude-haiku-4.5")
    piece = {"type": "reasoning.text", "format": "anthropic-claude-v1", "index": 0}
    body = sse(
        chunk(
            {
                "role": "assistant",
                "reasoning": "Call the",
                "reasoning_details": [{**piece, "text": "Call the"}],
            }
        ),
        chunk({"reasoning": " weather tool.", "reasoning_details": [{**piece, "text": " weather tool."}]}),
        chunk({"reasoning_details": [{**piece, "signature": "sig-123"}]}),
        chunk({"tool_calls": [{"index": 0, **WEATHER_CALL}]}),
        chunk({}, "tool_calls"),
    )
    content = _folded(codec, body)
    reasoning = [part for part in content if isinstance(part, ReasoningPart)]
    assert [part.text for part in reasoning] == ["Call the weather tool."]
    assert reasoning[0].provider_metadata["anthropic"] == {"signature": "sig-123"}
    assistant = _next_assistant(codec, content)
    assert assistant["reasoning_details"] == [ANTHROPIC_DETAIL]
    assert assistant["reasoning"] == "Call the weather tool."
    assert [call["id"] for call in assistant["tool_calls"]] == ["call_1"]


def test_openrouter_stream_sends_back_the_details_after_the_first_chunk() -> None:
    # fantasy keeps the first chunk's details only until more arrive; the recorded
    # follow-ups (kimi through OpenRouter) send the text from the second piece on.
    codec = openrouter.Codec("moonshotai/kimi-k2.5")
    piece = {"type": "reasoning.text", "format": "unknown", "index": 0}
    body = sse(
        chunk({"reasoning": " The", "reasoning_details": [{**piece, "text": " The"}]}),
        chunk({"reasoning": " user", "reasoning_details": [{**piece, "text": " user"}]}),
        chunk({"reasoning": " asks.", "reasoning_details": [{**piece, "text": " asks."}]}),
        chunk({"tool_calls": [{"index": 0, **WEATHER_CALL}]}),
        chunk({}, "tool_calls"),
    )
    assistant = _next_assistant(codec, _folded(codec, body))
    assert assistant["reasoning_details"] == [{**piece, "text": " user asks."}]
    assert "reasoning" not in assistant


def test_openrouter_encrypted_detail_goes_back_whole_from_generate_and_stream() -> None:
    codec = openrouter.Codec("google/gemini-3.1-flash-lite-preview")
    detail = {
        "type": "reasoning.encrypted",
        "data": "opaque",
        "format": "google-gemini-v1",
        "index": 0,
        "id": "x",
    }
    whole = codec.parse_response(
        _completion({"role": "assistant", "reasoning_details": [detail], "tool_calls": [WEATHER_CALL]})
    )
    streamed = _folded(
        codec,
        sse(
            chunk(
                {
                    "reasoning": None,
                    "reasoning_details": [detail],
                    "tool_calls": [{"index": 0, **WEATHER_CALL}],
                }
            ),
            chunk({}, "tool_calls"),
        ),
    )
    for content in (whole.content, streamed):
        assistant = _next_assistant(codec, content)
        assert assistant["reasoning_details"] == [detail]
        assert "reasoning" not in assistant
        assert json.dumps(assistant).count("opaque") == 1
    assert any(isinstance(part, ToolCallPart) for part in streamed)


def test_openaicompat_generate_sends_reasoning_content_back() -> None:
    codec = openaicompat.Codec("glm-4.7-flash")
    response = codec.parse_response(
        _completion(
            {
                "role": "assistant",
                "content": "I'll check.",
                "reasoning_content": "Use the weather tool.",
                "tool_calls": [WEATHER_CALL],
            }
        )
    )
    assistant = _next_assistant(codec, response.content)
    assert assistant["reasoning_content"] == "Use the weather tool."
    assert assistant["content"] == "I'll check."
    assert "reasoning_details" not in assistant


def test_openaicompat_stream_reads_details_and_sends_the_whole_text_back() -> None:
    # avian's kimi streams reasoning_content with OpenRouter-style details beside it.
    codec = openaicompat.Codec("moonshotai/kimi-k2.5")
    piece = {"type": "reasoning.text", "format": "unknown", "index": 0}
    body = sse(
        chunk({"role": "assistant"}),
        chunk({"reasoning_content": "The", "reasoning_details": [{**piece, "text": "The"}]}),
        chunk({"reasoning_content": " user asks.", "reasoning_details": [{**piece, "text": " user asks."}]}),
        chunk({"content": " I'll check."}),
        chunk({"content": None, "tool_calls": [{"index": 0, **WEATHER_CALL}]}),
        chunk({"content": " "}),
        chunk({}, "tool_calls"),
    )
    content = _folded(codec, body)
    reasoning = [part for part in content if isinstance(part, ReasoningPart)]
    assert [part.text for part in reasoning] == ["The user asks."]
    assert reasoning[0].provider_metadata == {
        "openaicompat": {"reasoning_details": [{**piece, "text": " user asks."}]}
    }
    assistant = _next_assistant(codec, content)
    assert assistant["reasoning_content"] == "The user asks."
    # Text after a streamed tool call is a part of its own; the last one is the content sent.
    assert [part.text for part in content if isinstance(part, TextPart)] == [" I'll check.", " "]
    assert assistant["content"] == " "
    assert "reasoning_details" not in assistant


def test_openai_sends_no_reasoning_fields() -> None:
    codec = openai.Codec("gpt-4o")
    content: list[ContentPart] = [
        ReasoningPart(text="hidden", provider_metadata={"openai": {"reasoning_details": [{"text": "x"}]}}),
        ToolCallPart(tool_call_id="call_1", tool_name="weather", input="{}"),
    ]
    assert set(_next_assistant(codec, content)) == {"role", "tool_calls"}


def test_vercel_generate_sends_anthropic_details_and_reasoning_back() -> None:
    codec = vercel.Codec("anthropic/claude-sonnet-4")
    response = codec.parse_response(
        _completion(
            {
                "role": "assistant",
                "content": None,
                "reasoning": "Call the weather tool.",
                "reasoning_details": [ANTHROPIC_DETAIL],
                "tool_calls": [WEATHER_CALL],
            }
        )
    )
    reasoning = [part for part in response.content if isinstance(part, ReasoningPart)]
    assert reasoning[0].provider_metadata["anthropic"] == {"signature": "sig-123"}
    assistant = _next_assistant(codec, response.content)
    assert assistant["reasoning_details"] == [ANTHROPIC_DETAIL]
    assert assistant["reasoning"] == "Call the weather tool."


def test_vercel_gemini_text_reasoning_goes_back_with_an_empty_encrypted_detail() -> None:
    codec = vercel.Codec("google/gemini-3-pro-preview")
    text = {"type": "reasoning.text", "text": "Weather, then.", "format": "google-gemini-v1", "index": 0}
    response = codec.parse_response(
        _completion({"role": "assistant", "reasoning_details": [text], "tool_calls": [WEATHER_CALL]})
    )
    assistant = _next_assistant(codec, response.content)
    assert assistant["reasoning_details"] == [
        text,
        {"type": "reasoning.encrypted", "format": "google-gemini-v1", "index": 0},
    ]


def test_vercel_gemini_stream_sends_its_encrypted_detail_back() -> None:
    codec = vercel.Codec("google/gemini-3-pro-preview")
    text = {"type": "reasoning.text", "text": "Weather.", "format": "google-gemini-v1", "index": 0}
    encrypted = {"type": "reasoning.encrypted", "data": "sig", "format": "google-gemini-v1", "index": 0}
    body = sse(
        chunk({"reasoning": "Weather.", "reasoning_details": [text]}),
        chunk({"reasoning_details": [encrypted]}),
        chunk({"tool_calls": [{"index": 0, **WEATHER_CALL}]}),
        chunk({}, "tool_calls"),
    )
    assistant = _next_assistant(codec, _folded(codec, body))
    assert assistant["reasoning_details"] == [encrypted]

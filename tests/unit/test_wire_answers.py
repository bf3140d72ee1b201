"""The shared wire answers of ``tests.wire_answers`` read as what they claim, by each codec."""

from __future__ import annotations

from reverie import TextPart, ToolCallPart
from reverie.providers import anthropic, google, openai, openaicompat
from tests.wire_answers import (
    ANTHROPIC_TEXT_ANSWER,
    GEMINI_TOOL_ANSWER,
    anthropic_message,
    chat_completion,
    gemini_response,
    responses_answer,
)


def test_each_answer_says_its_text_with_its_usage() -> None:
    chat = openaicompat.Codec("m").parse_response(chat_completion("Hello", usage=(3, 2)))
    responses = openai.ResponsesCodec("m").parse_response(responses_answer("Hello", usage=(30, 1)))
    message = anthropic.Codec("m").parse_response(anthropic_message("Hello"))
    gemini = google.Codec("m").parse_response(gemini_response("Hello"))
    for response in (chat, responses, message, gemini):
        assert response.content == [TextPart(text="Hello")]
        assert response.finish_reason == "stop"
    assert (chat.usage.input_tokens, chat.usage.output_tokens, chat.usage.total_tokens) == (3, 2, 5)
    assert (responses.usage.input_tokens, responses.usage.output_tokens) == (30, 1)
    assert (gemini.usage.input_tokens, message.usage.output_tokens) == (1, 1)


def test_each_call_builds_a_fresh_answer() -> None:
    first = chat_completion()
    first["choices"].clear()
    assert chat_completion()["choices"][0]["message"]["content"] == "hi"


def test_the_cross_provider_answers_call_the_tool_then_answer() -> None:
    call = google.Codec("gemini-2.5-flash").parse_response(GEMINI_TOOL_ANSWER)
    tool_calls = [part for part in call.content if isinstance(part, ToolCallPart)]
    assert [(part.tool_name, part.input) for part in tool_calls] == [("weather", '{"location":"Florence"}')]
    answer = anthropic.Codec("claude-sonnet-4-20250514").parse_response(ANTHROPIC_TEXT_ANSWER)
    assert answer.content == [TextPart(text="It is 40 C in Florence.")]

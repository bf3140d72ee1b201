"""The Anthropic Messages codec: request bodies, responses, streams and errors, without I/O."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    Call,
    FilePart,
    FinishPart,
    Message,
    ModelStreamPart,
    ProviderError,
    ReasoningDeltaPart,
    ReasoningPart,
    RetryPart,
    RetryPolicy,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolResultPart,
    Usage,
    UserError,
)
from reverie._errors import MissingAPIKeyError
from reverie._http.sse import SSEDecoder
from reverie.providers import anthropic
from reverie.testing import Cassette
from tests.conftest import CASSETTES

CLAUDE = CASSETTES / "anthropic" / "claude-sonnet-4"
needs_corpus = pytest.mark.skipif(not CLAUDE.exists(), reason="the shared cassette corpus is absent")

WEATHER = ToolDefinition(
    name="weather",
    description="Get weather information for a location",
    parameters={
        "properties": {"location": {"description": "the city", "type": "string"}},
        "required": ["location"],
        "type": "object",
    },
)

THINKING_STREAM = (
    "event: message_start\n"
    'data: {"type":"message_start","message":{"id":"msg_1","model":"claude","content":[],'
    '"usage":{"input_tokens":10,"cache_creation_input_tokens":3,"cache_read_input_tokens":7,"output_tokens":1}}}\n\n'
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":0,'
    '"delta":{"type":"thinking_delta","thinking":"Let me think"}}\n\n'
    "event: ping\n"
    'data: {"type": "ping"}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":" — ok."}}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":0,'
    '"delta":{"type":"signature_delta","signature":"c2lnbmVk"}}\n\n'
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":0}\n\n'
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":1,'
    '"content_block":{"type":"redacted_thinking","data":"b3BhcXVl"}}\n\n'
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":1}\n\n'
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":2,"content_block":{"type":"text","text":""}}\n\n'
    "event: content_block_delta\n"
    'data: {"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"Olá 🎉"}}\n\n'
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":2}\n\n'
    "event: content_block_start\n"
    'data: {"type":"content_block_start","index":3,'
    '"content_block":{"type":"tool_use","id":"toolu_9","name":"now","input":{}}}\n\n'
    "event: content_block_stop\n"
    'data: {"type":"content_block_stop","index":3}\n\n'
    "event: message_delta\n"
    'data: {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":42}}\n\n'
    "event: message_stop\n"
    'data: {"type":"message_stop"}\n\n'
)


def codec() -> anthropic.Codec:
    return anthropic.Codec("claude-sonnet-4-20250514")


def decode(body: bytes, chunks: list[bytes] | None = None) -> list[ModelStreamPart]:
    """Run ``body`` through the SSE decoder and a fresh stream decoder, in the given chunks."""
    events = SSEDecoder()
    decoder = codec().stream_decoder()
    parts: list[ModelStreamPart] = []
    for chunk in chunks if chunks is not None else [body]:
        for event in events.feed(chunk):
            parts.extend(decoder.feed(event))
    events.end()
    parts.extend(decoder.end())
    return parts


def assert_same_parts_at_every_split(body: bytes) -> None:
    whole = decode(body)
    for position in range(1, len(body)):
        assert decode(body, [body[:position], body[position:]]) == whole, f"split at byte {position}"
    assert decode(body, [body[i : i + 1] for i in range(len(body))]) == whole


# --- requests -------------------------------------------------------------------------


def test_thinking_adds_the_budget_to_max_output_tokens_and_drops_sampling() -> None:
    options = {"anthropic": {"thinking": {"budget_tokens": 4000}}}
    request = codec().build_request(Call(prompt=[Message.user("hi")], provider_options=options), stream=False)
    assert request.body["thinking"] == {"type": "enabled", "budget_tokens": 4000}
    # Without max_output_tokens the default holds the budget (TestAnthropicThinking, v0.41.2).
    assert request.body["max_tokens"] == 4096
    large = {"anthropic": {"thinking": {"budget_tokens": 10000}}}
    request = codec().build_request(Call(prompt=[Message.user("hi")], provider_options=large), stream=False)
    assert request.body["max_tokens"] == 4096 + 10000  # max_tokens must exceed the budget

    call = Call(
        prompt=[Message.user("hi")], max_output_tokens=1000, temperature=0.2, provider_options=options
    )
    request = codec().build_request(call, stream=False)
    assert request.body["max_tokens"] == 5000
    assert "temperature" not in request.body
    assert [warning.setting for warning in request.warnings] == ["temperature"]


def test_plain_request_shape() -> None:
    call = Call(
        prompt=[Message.system("be brief"), Message.user("hi")],
        max_output_tokens=4000,
        temperature=0.5,
        top_k=3,
        stop_sequences=["END"],
        seed=1,
    )
    request = codec().build_request(call, stream=True)
    assert request.path == "/messages"
    assert request.body == {
        "model": "claude-sonnet-4-20250514",
        "max_tokens": 4000,
        "system": [{"type": "text", "text": "be brief"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "temperature": 0.5,
        "top_k": 3,
        "stop_sequences": ["END"],
        "stream": True,
    }
    assert [warning.setting for warning in request.warnings] == ["seed"]


@pytest.mark.parametrize(
    ("choice", "disable", "expected"),
    [
        (None, None, {"type": "auto", "disable_parallel_tool_use": False}),
        ("auto", True, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", None, {"type": "any", "disable_parallel_tool_use": False}),
        ("weather", True, {"type": "tool", "name": "weather", "disable_parallel_tool_use": True}),
        ("none", True, {"type": "none"}),
    ],
)
def test_tool_choice(choice: str | None, disable: bool | None, expected: dict[str, Any]) -> None:
    options = {"anthropic": anthropic.Options(disable_parallel_tool_use=disable)}
    call = Call(prompt=[Message.user("hi")], tools=[WEATHER], tool_choice=choice, provider_options=options)
    body = codec().build_request(call, stream=False).body
    assert body["tool_choice"] == expected
    assert body["tools"] == [
        {"name": "weather", "description": WEATHER.description, "input_schema": WEATHER.parameters}
    ]


def test_cache_control_on_system_messages_parts_and_tools() -> None:
    marker = {"anthropic": {"cache_control": {"type": "ephemeral"}}}
    system = Message(role="system", content=[TextPart(text="a"), TextPart(text="b")], provider_options=marker)
    user = Message(role="user", content=[TextPart(text="x", provider_options=marker), TextPart(text="y")])
    tool = ToolDefinition(name="t", description="d", parameters={"type": "object"}, provider_options=marker)
    body = codec().build_request(Call(prompt=[system, user], tools=[tool]), stream=False).body
    assert body["system"] == [
        {"type": "text", "text": "a"},
        {"type": "text", "text": "b", "cache_control": {"type": "ephemeral"}},
    ]
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "y"},
    ]
    assert body["tools"][0]["cache_control"] == {"type": "ephemeral"}


def test_unknown_option_is_a_user_error() -> None:
    with pytest.raises(UserError, match="thinkng"):
        codec().build_request(
            Call(prompt=[Message.user("hi")], provider_options={"anthropic": {"thinkng": {}}}), stream=False
        )
    with pytest.raises(UserError, match="cache: Extra inputs"):
        bad = Message(role="user", content=[TextPart(text="x")], provider_options={"anthropic": {"cache": 1}})
        codec().build_request(Call(prompt=[bad]), stream=False)


def test_reasoning_goes_back_signed_or_redacted_and_tool_turns_alternate() -> None:
    assistant = Message(
        role="assistant",
        content=[
            ReasoningPart(text="hmm", provider_metadata={"anthropic": {"signature": "sig"}}),
            ReasoningPart(text="", provider_metadata={"anthropic": {"redacted_data": "opaque"}}),
            TextPart(text="  "),
            ToolCallPart(tool_call_id="toolu_1", tool_name="weather", input='{"location": "Rome"}'),
        ],
    )
    results = Message(
        role="tool",
        content=[ToolResultPart(tool_call_id="toolu_1", tool_name="weather", output="boom", is_error=True)],
    )
    request = codec().build_request(
        Call(prompt=[Message.user("hi"), assistant, results, Message.user("and?")]), stream=False
    )
    messages = request.body["messages"]
    assert [message["role"] for message in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"location": "Rome"}},
    ]
    assert messages[2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "toolu_1",
            "content": [{"type": "text", "text": "boom"}],
            "is_error": True,
        },
        {"type": "text", "text": "and?"},
    ]
    assert request.warnings == []

    off = {"anthropic": {"send_reasoning": False}}
    body = (
        codec()
        .build_request(Call(prompt=[Message.user("hi"), assistant], provider_options=off), stream=False)
        .body
    )
    assert [block["type"] for block in body["messages"][1]["content"]] == ["tool_use"]


def test_files() -> None:
    message = Message.user("look", FilePart(data=b"\x89PNG", media_type="image/png"))
    content = codec().build_request(Call(prompt=[message]), stream=False).body["messages"][0]["content"]
    assert content[1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw=="},
    }
    with pytest.raises(UserError, match="audio/wav"):
        codec().build_request(
            Call(prompt=[Message.user("x", FilePart(data=b"", media_type="audio/wav"))]), stream=False
        )


# --- responses ------------------------------------------------------------------------


@needs_corpus
def test_thinking_response_keeps_the_signature() -> None:
    interaction = Cassette.load(CLAUDE / "thinking.yaml").interactions[0]
    response = codec().parse_response(json.loads(interaction.response_body))
    reasoning, call = response.content
    assert isinstance(reasoning, ReasoningPart)
    assert reasoning.text.startswith("The user is asking")
    assert reasoning.provider_metadata["anthropic"]["signature"].startswith("Ep8DCkYIBxgCKkAO")
    assert isinstance(call, ToolCallPart)
    assert json.loads(call.input) == {"location": "Florence, Italy"}
    assert response.finish_reason == "tool_calls"
    assert response.usage == Usage(input_tokens=423, output_tokens=111, total_tokens=534)
    assert response.response_id == "msg_014ro9Ta21FzoNNbUnLGNZnd"
    assert response.model_id == "claude-sonnet-4-20250514"


def test_response_names_itself_and_the_model() -> None:
    payload = {
        "id": "msg_7",
        "type": "message",
        "model": "claude-sonnet-4-20250514",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "end_turn",
    }
    response = codec().parse_response(payload)
    assert (response.response_id, response.model_id) == ("msg_7", "claude-sonnet-4-20250514")
    bare = codec().parse_response({"type": "message", "content": [], "stop_reason": "end_turn"})
    assert (bare.response_id, bare.model_id) == (None, None)


def test_usage_counts_cache_reads_and_writes() -> None:
    payload = {
        "type": "message",
        "content": [{"type": "text", "text": "hi"}],
        "stop_reason": "max_tokens",
        "usage": {
            "input_tokens": 5,
            "output_tokens": 2,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 50,
        },
    }
    response = codec().parse_response(payload)
    assert response.usage == Usage(
        input_tokens=5, output_tokens=2, total_tokens=7, cache_creation_tokens=100, cache_read_tokens=50
    )
    assert response.finish_reason == "length"


def test_error_inside_a_200_answer_raises() -> None:
    with pytest.raises(ProviderError, match="overloaded_error: Overloaded") as caught:
        codec().parse_response(
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        )
    assert caught.value.is_retryable


# --- streams --------------------------------------------------------------------------


def test_thinking_stream_parts() -> None:
    parts = decode(THINKING_STREAM.encode())
    signature = [part for part in parts if isinstance(part, ReasoningDeltaPart) and part.provider_metadata]
    assert [part.provider_metadata for part in signature] == [
        {"anthropic": {"signature": "c2lnbmVk"}},
        {"anthropic": {"redacted_data": "b3BhcXVl"}},
    ]
    calls = [part for part in parts if isinstance(part, ToolCallPart)]
    assert calls == [ToolCallPart(tool_call_id="toolu_9", tool_name="now", input="{}")]
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    assert finish.finish_reason == "tool_calls"
    assert finish.usage == Usage(
        input_tokens=10, output_tokens=42, total_tokens=52, cache_creation_tokens=3, cache_read_tokens=7
    )


def test_stream_finish_names_the_message_and_the_model() -> None:
    # Both come once, in message_start: {"message": {"id": "msg_1", "model": "claude", ...}}.
    finish = decode(THINKING_STREAM.encode())[-1]
    assert isinstance(finish, FinishPart)
    assert (finish.response_id, finish.model_id) == ("msg_1", "claude")


def test_stream_without_message_start_identity_leaves_it_unset() -> None:
    body = (
        'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1}}}\n\n'
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n'
        'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    finish = decode(body.encode())[-1]
    assert isinstance(finish, FinishPart)
    assert (finish.response_id, finish.model_id) == (None, None)


@needs_corpus
def test_recorded_stream_finish_names_the_message_and_the_model() -> None:
    interaction = Cassette.load(CLAUDE / "simple_streaming.yaml").interactions[0]
    finish = decode(interaction.response_body.encode())[-1]
    assert isinstance(finish, FinishPart)
    assert finish.response_id == "msg_01RFuVPPnYCFGL9ucejc3Rd4"
    assert finish.model_id == "claude-sonnet-4-20250514"


def test_a_stream_split_at_every_byte_yields_the_same_parts() -> None:
    assert_same_parts_at_every_split(THINKING_STREAM.encode())


@needs_corpus
def test_recorded_stream_split_at_every_byte_yields_the_same_parts() -> None:
    body = Cassette.load(CLAUDE / "tool_streaming.yaml").interactions[0].response_body.encode()
    parts = decode(body)
    assert [part.type for part in parts if part.type in ("text_start", "tool_call", "finish")] == [
        "text_start",
        "tool_call",
        "finish",
    ]
    assert_same_parts_at_every_split(body)


@pytest.mark.parametrize(
    ("kind", "retryable"),
    [
        ("overloaded_error", True),
        ("api_error", True),
        ("rate_limit_error", True),
        ("invalid_request_error", False),
    ],
)
def test_inband_stream_error(kind: str, retryable: bool) -> None:
    body = (
        THINKING_STREAM.split("event: content_block_start")[0]
        + f'event: error\ndata: {{"type":"error","error":{{"type":"{kind}","message":"nope"}}}}\n\n'
    )
    with pytest.raises(ProviderError, match=f"{kind}: nope") as caught:
        decode(body.encode())
    assert caught.value.is_retryable is retryable


def test_stream_without_message_stop_is_retryable() -> None:
    body = THINKING_STREAM.rsplit("event: message_stop", 1)[0]
    with pytest.raises(ProviderError, match="message_stop") as caught:
        decode(body.encode())
    assert caught.value.is_retryable


# --- errors and provider --------------------------------------------------------------


def test_error_body_is_surfaced() -> None:
    message = "prompt is too long: 215432 tokens > 200000 maximum"
    body = json.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": message}})
    error = codec().parse_error(
        400, {"content-type": "application/json"}, body, "https://api.anthropic.com/v1/messages"
    )
    assert error.message == "invalid_request_error: prompt is too long: 215432 tokens > 200000 maximum"
    assert error.response_body == body
    assert error.is_context_too_large
    assert not error.is_retryable
    overloaded = codec().parse_error(
        529, {}, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', "u"
    )
    assert overloaded.is_retryable
    assert "<html>" in codec().parse_error(502, {}, "<html>bad gateway</html>", "u").message


def test_provider_headers_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        anthropic.Provider()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-env")
    model = anthropic.Provider().language_model("claude-sonnet-4-20250514")
    prepared = model.prepare(Call(prompt=[Message.user("hi")]), stream=False)
    assert prepared.url == "https://api.anthropic.com/v1/messages"
    assert prepared.headers["x-api-key"] == "sk-env"
    assert prepared.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in prepared.headers
    assert "sk-env" not in repr(anthropic.Provider())


def test_overloaded_stream_is_retried_by_the_agent() -> None:
    ok = THINKING_STREAM.replace('"stop_reason":"tool_use"', '"stop_reason":"end_turn"')
    ok = ok.replace('"type":"tool_use","id":"toolu_9","name":"now","input":{}', '"type":"text","text":""')
    failing = (
        THINKING_STREAM.split("event: content_block_start")[0]
        + "event: error\n"
        + 'data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'
    )
    bodies = [failing, ok]
    sent: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(json.loads(request.content))
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=bodies.pop(0).encode()
        )

    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        provider = anthropic.Provider(api_key="k", http_client=client)
        agent = Agent(provider.language_model("claude"), retry=RetryPolicy(max_retries=2, initial_delay=0.0))
        stream = agent.stream("hi")
        retries = [part for part in stream if isinstance(part, RetryPart)]
        result = stream.result()
    assert len(retries) == 1
    assert isinstance(retries[0].error, ProviderError)
    assert result.text == "Olá 🎉"
    assert len(sent) == 2
    assert sent[0] == sent[1]

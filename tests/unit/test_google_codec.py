"""The Gemini codec: request bodies, schema conversion, responses, streams and errors, without I/O."""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import pytest

from reverie import (
    Call,
    FinishPart,
    Message,
    ModelStreamPart,
    ProviderError,
    ReasoningDeltaPart,
    ReasoningPart,
    TextDeltaPart,
    TextEndPart,
    TextPart,
    TextStartPart,
    ToolCallPart,
    ToolDefinition,
    ToolResultPart,
    Usage,
    UserError,
)
from reverie._errors import MissingAPIKeyError
from reverie._http.sse import SSEDecoder
from reverie.providers import google
from reverie.testing import Cassette
from tests.conftest import CASSETTES

GEMINI = CASSETTES / "google" / "gemini-2.5-flash"
needs_corpus = pytest.mark.skipif(not GEMINI.exists(), reason="the shared cassette corpus is absent")

WEATHER = ToolDefinition(
    name="weather",
    description="Get weather information for a location",
    parameters={
        "properties": {"location": {"description": "the city", "type": "string"}},
        "required": ["location"],
        "type": "object",
    },
)


def chunk(
    parts: list[dict[str, Any]],
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    **fields: Any,
) -> str:
    """One SSE event of a ``GenerateContentResponse``; ``fields`` are extra top-level keys."""
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    payload: dict[str, Any] = {"candidates": [candidate], **fields}
    if usage:
        payload["usageMetadata"] = usage
    return "data: " + json.dumps(payload, ensure_ascii=False) + "\r\n\r\n"


THINKING_STREAM = (
    chunk([{"text": "**Planning**\n", "thought": True}])
    + chunk([{"text": "Pick the tool.", "thought": True, "thoughtSignature": "c2ln"}])
    + chunk([{"text": "Olá — "}])
    + chunk([{"text": "ünïcödé 🎉"}])
    + chunk(
        [
            {"functionCall": {"name": "add", "args": {"b": 3, "a": 2}}, "thoughtSignature": "Y2FsbA=="},
            {"functionCall": {"name": "add", "args": {"a": 1, "b": 1}}},
        ],
        finish="STOP",
        usage={
            "promptTokenCount": 10,
            "candidatesTokenCount": 5,
            "totalTokenCount": 27,
            "thoughtsTokenCount": 12,
        },
    )
)


def codec() -> google.Codec:
    """A codec whose calls without an id get ``"1"``, ``"2"``, ... (as the recordings' runs did)."""
    numbers = itertools.count(1)
    return google.Codec("gemini-2.5-flash", tool_call_id=lambda: str(next(numbers)))


def decode(body: bytes, chunks: list[bytes] | None = None) -> list[ModelStreamPart]:
    events = SSEDecoder()
    decoder = codec().stream_decoder()
    parts: list[ModelStreamPart] = []
    for piece in chunks if chunks is not None else [body]:
        for event in events.feed(piece):
            parts.extend(decoder.feed(event))
    events.end()
    parts.extend(decoder.end())
    return parts


def assert_same_parts_at_every_split(body: bytes) -> None:
    whole = decode(body)
    for position in range(1, len(body)):
        assert decode(body, [body[:position], body[position:]]) == whole, f"split at byte {position}"
    assert decode(body, [body[i : i + 1] for i in range(len(body))]) == whole


# --- schema conversion ----------------------------------------------------------------


def test_schema_types_are_upper_case_and_optional_becomes_nullable() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "who", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "age": {
                "anyOf": [{"type": "integer"}, {"type": "null"}],
                "default": None,
                "description": "years",
            },
            "score": {"type": ["number", "null"]},
            "kind": {"const": "x"},
            "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "required": ["name"],
    }
    converted, dropped = google.to_gemini_schema(schema)
    assert dropped == []
    assert converted == {
        "type": "OBJECT",
        "properties": {
            "name": {"type": "STRING", "description": "who", "format": "date-time"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}},
            "age": {"type": "INTEGER", "nullable": True, "description": "years"},
            "score": {"type": "NUMBER", "nullable": True},
            "kind": {"type": "STRING", "enum": ["x"]},
            "either": {"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}]},
        },
        "required": ["name"],
    }


def test_schema_refs_are_inlined() -> None:
    schema = {
        "type": "object",
        "properties": {"place": {"$ref": "#/$defs/Place", "description": "where"}},
        "$defs": {
            "Place": {"type": "object", "properties": {"city": {"type": "string"}}, "description": "a place"}
        },
    }
    converted, dropped = google.to_gemini_schema(schema)
    assert dropped == []
    assert converted == {
        "type": "OBJECT",
        "properties": {
            "place": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "description": "where"}
        },
    }


def test_unsupported_schema_features_are_dropped_and_named() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "email": {"type": "string", "format": "email"},
            "level": {"type": "integer", "enum": [1, 2], "exclusiveMinimum": 0},
            "node": {"$ref": "#/$defs/Node"},
        },
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
    }
    converted, dropped = google.to_gemini_schema(schema)
    assert dropped == [
        "additionalProperties at #",
        "format 'email' at #/properties/email",
        "enum with non-string values at #/properties/level",
        "exclusiveMinimum at #/properties/level",
        "$ref '#/$defs/Node' (recursive) at #/properties/node/properties/next",
        "untyped schema at #/properties/node/properties/next",
        "object without properties at #/properties/node",
    ]
    assert converted is not None
    assert converted["properties"]["email"] == {"type": "STRING"}
    assert "node" not in converted["properties"]


def test_untyped_and_free_form_properties_are_dropped_from_properties_and_required() -> None:
    schema = {
        "type": "object",
        "properties": {
            "anything": {"description": "any value"},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "names": {"type": "array", "items": {}},
            "keep": {"type": "string"},
        },
        "required": ["anything", "counts", "keep"],
    }
    converted, dropped = google.to_gemini_schema(schema)
    assert converted == {
        "type": "OBJECT",
        "properties": {"names": {"type": "ARRAY"}, "keep": {"type": "STRING"}},
        "required": ["keep"],
    }
    assert dropped == [
        "untyped schema at #/properties/anything",
        "additionalProperties at #/properties/counts",
        "object without properties at #/properties/counts",
        "untyped schema at #/properties/names/items",
    ]


def test_dropped_features_become_a_call_warning_not_an_error() -> None:
    tool = ToolDefinition(
        name="lookup",
        description="",
        parameters={
            "type": "object",
            "properties": {"q": {"type": "string"}},
            "patternProperties": {"^x": {"type": "string"}},
        },
    )
    request = codec().build_request(Call(prompt=[Message.user("hi")], tools=[tool]), stream=False)
    assert request.body["tools"] == [
        {
            "functionDeclarations": [
                {"name": "lookup", "parameters": {"type": "OBJECT", "properties": {"q": {"type": "STRING"}}}}
            ]
        }
    ]
    [warning] = request.warnings
    assert warning.setting == "tools"
    assert "'lookup'" in warning.message
    assert "patternProperties at #" in warning.message


def test_tool_without_parameters_has_no_parameters_key() -> None:
    tool = ToolDefinition(name="now", description="the time", parameters={"type": "object", "properties": {}})
    request = codec().build_request(Call(prompt=[Message.user("hi")], tools=[tool]), stream=False)
    assert request.body["tools"] == [{"functionDeclarations": [{"name": "now", "description": "the time"}]}]


# --- requests -------------------------------------------------------------------------


def test_recorded_thinking_request_shape() -> None:
    options = {"google": {"thinking_config": {"thinking_budget": 100, "include_thoughts": True}}}
    call = Call(
        prompt=[Message.system("You are a helpful assistant"), Message.user("hi")], provider_options=options
    )
    request = codec().build_request(call, stream=False)
    assert request.path == "/models/gemini-2.5-flash:generateContent"
    assert request.body == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "You are a helpful assistant"}]},
        "generationConfig": {"thinkingConfig": {"includeThoughts": True, "thinkingBudget": 128}},
    }
    assert [warning.setting for warning in request.warnings] == ["thinking_budget"]
    off = {"google": google.Options(thinking_config=google.ThinkingConfig(thinking_budget=0))}
    body = codec().build_request(Call(prompt=[Message.user("hi")], provider_options=off), stream=True).body
    assert body["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 0}}


def test_settings_and_options() -> None:
    options = {
        "google": {
            "safety_settings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}],
            "cached_content": "cachedContents/abc",
            "response_modalities": ["TEXT"],
        }
    }
    call = Call(
        prompt=[Message.user("hi")],
        max_output_tokens=10,
        temperature=0.1,
        top_p=0.9,
        top_k=4,
        stop_sequences=["X"],
        seed=7,
        provider_options=options,
    )
    request = codec().build_request(call, stream=True)
    assert request.path == "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert request.body["generationConfig"] == {
        "maxOutputTokens": 10,
        "temperature": 0.1,
        "topP": 0.9,
        "topK": 4,
        "stopSequences": ["X"],
        "seed": 7,
        "responseModalities": ["TEXT"],
    }
    assert request.body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}
    ]
    assert request.body["cachedContent"] == "cachedContents/abc"
    with pytest.raises(UserError, match="thinkingConfig"):
        codec().build_request(
            Call(prompt=[Message.user("hi")], provider_options={"google": {"thinkingConfig": {}}}),
            stream=False,
        )


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        ("weather", {"mode": "ANY", "allowedFunctionNames": ["weather"]}),
    ],
)
def test_tool_choice(choice: str | None, expected: dict[str, Any]) -> None:
    body = (
        codec()
        .build_request(Call(prompt=[Message.user("hi")], tools=[WEATHER], tool_choice=choice), stream=False)
        .body
    )
    assert body["toolConfig"] == {"functionCallingConfig": expected}


def test_follow_up_sends_signatures_back_but_no_thoughts() -> None:
    assistant = Message(
        role="assistant",
        content=[
            ReasoningPart(text="thinking", provider_metadata={"google": {"thought_signature": "c2ln"}}),
            ToolCallPart(
                tool_call_id="weather",
                tool_name="weather",
                input='{"location":"Rome"}',
                provider_metadata={"google": {"thought_signature": "Y2FsbA=="}},
            ),
        ],
    )
    results = Message(
        role="tool", content=[ToolResultPart(tool_call_id="weather", tool_name="weather", output="40 C")]
    )
    body = codec().build_request(Call(prompt=[Message.user("hi"), assistant, results]), stream=False).body
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "hi"}]},
        {
            "role": "model",
            "parts": [
                {
                    "functionCall": {"id": "weather", "name": "weather", "args": {"location": "Rome"}},
                    # The signature goes back on the part that carried it (v0.41.2 recordings).
                    "thoughtSignature": "Y2FsbA==",
                }
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"id": "weather", "name": "weather", "response": {"result": "40 C"}}}
            ],
        },
    ]


# --- responses ------------------------------------------------------------------------


@needs_corpus
def test_thinking_response() -> None:
    interaction = Cassette.load(GEMINI / "thinking.yaml").interactions[0]
    response = codec().parse_response(json.loads(interaction.response_body))
    reasoning, call = response.content
    assert isinstance(reasoning, ReasoningPart)
    assert reasoning.text.startswith("**My Approach")
    assert isinstance(call, ToolCallPart)
    assert call.tool_call_id == "1"
    assert json.loads(call.input) == {"location": "Florence, Italy"}
    assert call.provider_metadata["google"]["thought_signature"].startswith("CpICAdHtim")
    assert response.finish_reason == "tool_calls"
    assert response.usage == Usage(input_tokens=54, output_tokens=15, total_tokens=125, reasoning_tokens=56)
    assert response.response_id == "scXTaIm8B-m1nsEP4trWkAM"
    assert response.model_id == "gemini-2.5-flash"


def test_response_names_itself_and_the_model() -> None:
    candidates = [{"content": {"parts": [{"text": "Oi"}]}, "finishReason": "STOP"}]
    response = codec().parse_response(
        {"candidates": candidates, "responseId": "r-1", "modelVersion": "gemini-2.5-flash-001"}
    )
    assert (response.response_id, response.model_id) == ("r-1", "gemini-2.5-flash-001")
    blocked = codec().parse_response(
        {"promptFeedback": {"blockReason": "SAFETY"}, "responseId": "r-2", "modelVersion": "m"}
    )
    assert (blocked.response_id, blocked.model_id) == ("r-2", "m")
    bare = codec().parse_response({"candidates": candidates})
    assert (bare.response_id, bare.model_id) == (None, None)


def test_blocked_prompt_and_safety_finish_are_content_filter() -> None:
    blocked = codec().parse_response(
        {
            "promptFeedback": {
                "blockReason": "SAFETY",
                "safetyRatings": [{"category": "X", "probability": "HIGH"}],
            }
        }
    )
    assert blocked.finish_reason == "content_filter"
    assert blocked.content == []
    assert blocked.provider_metadata["google"]["block_reason"] == "SAFETY"
    stopped = codec().parse_response({"candidates": [{"content": {"parts": []}, "finishReason": "SAFETY"}]})
    assert stopped.finish_reason == "content_filter"
    assert stopped.provider_metadata == {"google": {"finish_reason": "SAFETY"}}
    assert codec().parse_response({"candidates": [{"finishReason": "MAX_TOKENS"}]}).finish_reason == "length"


def test_same_tool_twice_gets_distinct_ids() -> None:
    calls = [{"functionCall": {"name": "add", "args": {}}}, {"functionCall": {"name": "add", "args": {}}}]
    response = codec().parse_response({"candidates": [{"content": {"parts": calls}, "finishReason": "STOP"}]})
    assert [part.tool_call_id for part in response.content if isinstance(part, ToolCallPart)] == ["1", "2"]


def test_calls_without_ids_get_random_uuids_by_default_and_keep_the_ones_sent() -> None:
    calls = [
        {"functionCall": {"name": "add", "args": {}}},
        {"functionCall": {"name": "add", "args": {}}},
        {"functionCall": {"name": "add", "args": {}, "id": "wxvlv0tv"}},
    ]
    payload = {"candidates": [{"content": {"parts": calls}, "finishReason": "STOP"}]}
    first, second, named = [
        part.tool_call_id
        for part in google.Codec("gemini-2.5-flash").parse_response(payload).content
        if isinstance(part, ToolCallPart)
    ]
    assert first != second
    assert str(uuid.UUID(first, version=4)) == first
    assert named == "wxvlv0tv"


def test_the_provider_hands_its_call_id_factory_to_each_codec() -> None:
    provider = google.Provider(api_key="k", tool_call_id=lambda: "fixed")
    payload = {
        "candidates": [{"content": {"parts": [{"functionCall": {"name": "now"}}]}, "finishReason": "STOP"}]
    }
    [call] = provider.codec("gemini-2.5-flash").parse_response(payload).content
    assert isinstance(call, ToolCallPart) and call.tool_call_id == "fixed"


# --- streams --------------------------------------------------------------------------


def test_stream_parts() -> None:
    parts = decode(THINKING_STREAM.encode())
    assert [part.type for part in parts] == [
        "reasoning_start",
        "reasoning_delta",
        "reasoning_delta",
        "reasoning_end",
        "text_start",
        "text_delta",
        "text_delta",
        "text_end",
        *["tool_input_start", "tool_input_delta", "tool_input_end", "tool_call"] * 2,
        "finish",
    ]
    signed = [part for part in parts if isinstance(part, ReasoningDeltaPart) and part.provider_metadata]
    assert [part.provider_metadata for part in signed] == [{"google": {"thought_signature": "c2ln"}}]
    assert "".join(part.delta for part in parts if isinstance(part, TextDeltaPart)) == "Olá — ünïcödé 🎉"
    calls = [part for part in parts if isinstance(part, ToolCallPart)]
    assert [(call.tool_call_id, json.loads(call.input)) for call in calls] == [
        ("1", {"a": 2, "b": 3}),
        ("2", {"a": 1, "b": 1}),
    ]
    assert calls[0].provider_metadata == {"google": {"thought_signature": "Y2FsbA=="}}
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    assert finish.finish_reason == "tool_calls"
    assert finish.usage == Usage(input_tokens=10, output_tokens=5, total_tokens=27, reasoning_tokens=12)


def test_stream_finish_names_the_response_and_the_model() -> None:
    # Every chunk repeats "responseId" and "modelVersion"; a chunk without them changes nothing.
    body = (
        chunk([{"text": "Oi"}])
        + chunk([{"text": " there"}], responseId="r-1", modelVersion="gemini-2.5-flash")
        + chunk([{"text": "!"}], finish="STOP", responseId="", modelVersion="gemini-2.5-flash")
    )
    finish = decode(body.encode())[-1]
    assert isinstance(finish, FinishPart)
    assert (finish.response_id, finish.model_id) == ("r-1", "gemini-2.5-flash")
    unnamed = decode(chunk([{"text": "Oi"}], finish="STOP").encode())[-1]
    assert isinstance(unnamed, FinishPart)
    assert (unnamed.response_id, unnamed.model_id) == (None, None)


SIGNED_TEXT_STREAM = (
    # The shape Gemini 3 streams: the text, then an empty text part carrying the signature.
    chunk([{"text": "Oi"}], responseId="r-1", modelVersion="gemini-3-pro-preview")
    + chunk([{"text": " there"}], responseId="r-1", modelVersion="gemini-3-pro-preview")
    + chunk(
        [{"text": "", "thoughtSignature": "c2lnbmVk"}],
        finish="STOP",
        responseId="r-1",
        modelVersion="gemini-3-pro-preview",
    )
)


def test_a_text_blocks_signature_rides_on_its_text_end() -> None:
    parts = decode(SIGNED_TEXT_STREAM.encode())
    assert [part.type for part in parts] == ["text_start", "text_delta", "text_delta", "text_end", "finish"]
    end = parts[3]
    assert isinstance(end, TextEndPart)
    # The same shape generate gives the text part: {"google": {"thought_signature": ...}}.
    assert end.provider_metadata == {"google": {"thought_signature": "c2lnbmVk"}}
    assert_same_parts_at_every_split(SIGNED_TEXT_STREAM.encode())


def test_a_signature_on_a_text_fragment_is_kept_when_the_block_closes() -> None:
    body = chunk([{"text": "Oi", "thoughtSignature": "c2ln"}]) + chunk(
        [{"functionCall": {"name": "now", "args": {}}}], finish="STOP"
    )
    parts = decode(body.encode())
    assert parts[:3] == [
        TextStartPart(id="text-1"),
        TextDeltaPart(id="text-1", delta="Oi"),
        TextEndPart(id="text-1", provider_metadata={"google": {"thought_signature": "c2ln"}}),
    ]


def test_a_signature_without_open_text_is_an_empty_signed_text_block() -> None:
    # Its signature is kept, as generate keeps it on an empty text part, so that it goes
    # back; an unsigned empty part (recorded after calls) still yields nothing.
    body = (
        chunk([{"functionCall": {"name": "now", "args": {}}}])
        + chunk([{"text": ""}])
        + chunk([{"text": "", "thoughtSignature": "c2ln"}], finish="STOP")
    )
    parts = decode(body.encode())
    assert [part.type for part in parts] == [
        "tool_input_start",
        "tool_input_delta",
        "tool_input_end",
        "tool_call",
        "text_start",
        "text_end",
        "finish",
    ]
    assert parts[5] == TextEndPart(id="text-1", provider_metadata={"google": {"thought_signature": "c2ln"}})
    assert_same_parts_at_every_split(body.encode())


def test_unsigned_text_adds_no_metadata() -> None:
    plain = decode(chunk([{"text": "Oi"}], finish="STOP").encode())
    assert [part.provider_metadata for part in plain if isinstance(part, TextEndPart)] == [{}]


def test_generate_keeps_a_signed_empty_text_part_and_drops_an_unsigned_one() -> None:
    payload = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"functionCall": {"name": "now", "args": {}, "id": "c1"}},
                        {"text": ""},
                        {"text": "", "thoughtSignature": "c2ln"},
                    ],
                },
                "finishReason": "STOP",
            }
        ]
    }
    content = codec().parse_response(payload).content
    assert content[1:] == [TextPart(text="", provider_metadata={"google": {"thought_signature": "c2ln"}})]


def test_an_empty_text_part_goes_back_only_when_signed() -> None:
    signed = TextPart(text="", provider_metadata={"google": {"thought_signature": "c2ln"}})
    assistant = Message(role="assistant", content=[TextPart(text=""), signed])
    body = codec().build_request(Call(prompt=[Message.user("hi"), assistant]), stream=False).body
    assert body["contents"][1] == {"role": "model", "parts": [{"text": "", "thoughtSignature": "c2ln"}]}


def test_a_stream_split_at_every_byte_yields_the_same_parts() -> None:
    assert_same_parts_at_every_split(THINKING_STREAM.encode())


@needs_corpus
def test_recorded_streams_split_at_every_byte_yield_the_same_parts() -> None:
    cassette = Cassette.load(GEMINI / "multi_tool_streaming.yaml")
    for interaction in cassette.interactions:
        assert_same_parts_at_every_split(interaction.response_body.encode())
    text = [
        part
        for part in decode(cassette.interactions[1].response_body.encode())
        if isinstance(part, TextDeltaPart)
    ]
    assert "".join(part.delta for part in text) == "The sum of 2 and 3 is 5, and the product of 2 and 3 is 6."


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [(503, "UNAVAILABLE", True), (429, "RESOURCE_EXHAUSTED", True), (400, "INVALID_ARGUMENT", False)],
)
def test_inband_stream_error(code: int, status: str, retryable: bool) -> None:
    body = (
        chunk([{"text": "Hi"}])
        + "data: "
        + json.dumps({"error": {"code": code, "message": "nope", "status": status}})
        + "\r\n\r\n"
    )
    with pytest.raises(ProviderError, match=f"{status}: nope") as caught:
        decode(body.encode())
    assert caught.value.is_retryable is retryable


def test_stream_without_finish_reason_is_retryable() -> None:
    with pytest.raises(ProviderError, match="finishReason") as caught:
        decode(chunk([{"text": "Hi"}]).encode())
    assert caught.value.is_retryable


def test_blocked_prompt_stream_finishes_as_content_filter() -> None:
    body = "data: " + json.dumps({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}) + "\r\n\r\n"
    [finish] = decode(body.encode())
    assert isinstance(finish, FinishPart)
    assert finish.finish_reason == "content_filter"
    assert finish.provider_metadata == {"google": {"block_reason": "PROHIBITED_CONTENT"}}


# --- errors and provider --------------------------------------------------------------


def test_error_body_is_surfaced() -> None:
    message = "The input token count exceeds the maximum number of tokens allowed (1048576)."
    body = json.dumps([{"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}])
    error = codec().parse_error(400, {}, body, "u")
    assert error.message.startswith("INVALID_ARGUMENT: The input token count")
    assert error.is_context_too_large
    assert error.response_body == body
    assert (
        codec()
        .parse_error(503, {}, '{"error": {"code": 503, "message": "x", "status": "UNAVAILABLE"}}', "u")
        .is_retryable
    )


def test_provider_key_travels_in_a_header(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        google.Provider()
    monkeypatch.setenv("GOOGLE_API_KEY", "g-fallback")
    model = google.Provider().language_model("models/gemini-2.5-flash")
    prepared = model.prepare(Call(prompt=[Message.user("hi")]), stream=True)
    assert (
        prepared.url
        == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert prepared.headers["x-goog-api-key"] == "g-fallback"
    assert "g-fallback" not in prepared.url
    monkeypatch.setenv("GEMINI_API_KEY", "g-primary")
    assert (
        google.Provider()
        .language_model("m")
        .prepare(Call(prompt=[Message.user("hi")]), stream=False)
        .headers["x-goog-api-key"]
        == "g-primary"
    )


def test_text_parts_keep_their_signature() -> None:
    part = {"text": "Hi", "thoughtSignature": "c2ln"}
    response = codec().parse_response(
        {"candidates": [{"content": {"parts": [part]}, "finishReason": "STOP"}]}
    )
    assert response.content == [
        TextPart(text="Hi", provider_metadata={"google": {"thought_signature": "c2ln"}})
    ]
    assert response.finish_reason == "stop"


def test_a_signed_text_goes_back_with_its_signature() -> None:
    signed = TextPart(text="Oi", provider_metadata={"google": {"thought_signature": "c2ln"}})
    foreign = TextPart(text="Hi", provider_metadata={"anthropic": {"thought_signature": "x"}})
    prompt = [Message.user("hi"), Message(role="assistant", content=[signed, foreign]), Message.user("again")]
    body = codec().build_request(Call(prompt=prompt), stream=False).body
    assert body["contents"][1] == {
        "role": "model",
        "parts": [{"text": "Oi", "thoughtSignature": "c2ln"}, {"text": "Hi"}],
    }


SIGNED_CALL = {"functionCall": {"name": "weather", "args": {}, "id": "c1"}, "thoughtSignature": "c2ln"}


def test_a_signed_call_without_thought_text_yields_an_empty_signed_reasoning_part() -> None:
    unsigned = {"functionCall": {"name": "add", "args": {}, "id": "c2"}}
    response = codec().parse_response(
        {"candidates": [{"content": {"parts": [SIGNED_CALL, unsigned]}, "finishReason": "STOP"}]}
    )
    reasoning, call, other = response.content
    assert reasoning == ReasoningPart(text="", provider_metadata={"google": {"thought_signature": "c2ln"}})
    assert isinstance(call, ToolCallPart) and call.provider_metadata == reasoning.provider_metadata
    assert isinstance(other, ToolCallPart) and other.provider_metadata == {}


def test_a_signed_call_after_thought_text_adds_no_reasoning_part() -> None:
    thought = {"text": "**Weather**", "thought": True}
    response = codec().parse_response(
        {"candidates": [{"content": {"parts": [thought, SIGNED_CALL]}, "finishReason": "STOP"}]}
    )
    assert [part.type for part in response.content] == ["reasoning", "tool_call"]


def test_a_streamed_signed_call_without_thought_text_yields_an_empty_signed_reasoning_block() -> None:
    body = chunk([SIGNED_CALL]) + chunk([{"text": ""}], finish="STOP")
    parts = decode(body.encode())
    assert [part.type for part in parts] == [
        "reasoning_start",
        "reasoning_delta",
        "reasoning_end",
        "tool_input_start",
        "tool_input_delta",
        "tool_input_end",
        "tool_call",
        "finish",
    ]
    delta = parts[1]
    assert isinstance(delta, ReasoningDeltaPart)
    assert (delta.delta, delta.provider_metadata) == ("", {"google": {"thought_signature": "c2ln"}})
    thought_first = chunk([{"text": "**Weather**", "thought": True}]) + chunk([SIGNED_CALL], finish="STOP")
    assert [part.type for part in decode(thought_first.encode())].count("reasoning_start") == 1
    assert_same_parts_at_every_split(body.encode())


def test_thinking_level_is_sent_upper_cased_as_recorded() -> None:
    options = {"google": {"thinking_config": {"thinking_level": "high", "include_thoughts": True}}}
    body = (
        codec().build_request(Call(prompt=[Message.user("hi")], provider_options=options), stream=False).body
    )
    # TestGoogleThinking/gemini-3-pro-preview (fantasy v0.41.2).
    assert body["generationConfig"] == {"thinkingConfig": {"includeThoughts": True, "thinkingLevel": "HIGH"}}
    with pytest.raises(UserError):
        bad = {"google": {"thinking_config": {"thinking_level": "extreme"}}}
        codec().build_request(Call(prompt=[Message.user("hi")], provider_options=bad), stream=False)

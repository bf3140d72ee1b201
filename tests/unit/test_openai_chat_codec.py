"""The chat-completions codecs (``openai``, ``openaicompat``, ``openrouter``) against the recordings.

Request bodies must equal fantasy's recorded ones as parsed JSON. Each seed cassette in
``tests/fixtures`` is replayed purely: the call is built from its scenario, every recorded
request is compared with the codec's body, and each successful response is decoded (whole or
as a stream) into the assistant and tool messages of the next request. The stream quirks of
upstreams without a seed (DeepInfra, Fireworks, OpenAI) use small hand-made chunk lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reverie import (
    Call,
    CallWarning,
    FilePart,
    FinishPart,
    InvalidResponseError,
    Message,
    ProviderError,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningPart,
    ReasoningStartPart,
    ReverieError,
    TextDeltaPart,
    TextEndPart,
    TextPart,
    TextStartPart,
    ToolCallPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
    ToolResultPart,
    Usage,
    UserError,
)
from reverie._codec import encode_body
from reverie._content import ContentPart
from reverie._http.sse import SSEDecoder
from reverie._parts import ModelStreamPart
from reverie.providers import openai, openaicompat, openrouter
from reverie.providers._openai_chat.codec import OpenAIChatCodec
from reverie.testing.scenarios import SCENARIO_TOOLS, Scenario, load_manifest
from tests.conftest import CASSETTES, FIXTURES

PROVIDERS: dict[str, ModuleType] = {"openai": openai, "openaicompat": openaicompat, "openrouter": openrouter}
OPENROUTER_URL = "https://openrouter.ai/api/v1"
GROQ_URL = "https://api.groq.com/openai/v1"
SYSTEM = "You are a helpful assistant"
SAY_HI = "Say hi in Portuguese"
WEATHER_PROMPT = "What's the weather in Florence,Italy?"
KIMI = "moonshotai/kimi-k2-0905"


def _pinned(upstream: str) -> dict[str, Any]:
    return {"openrouter": {"provider": {"only": [upstream]}}}


def _seed(name: str, **fields: Any) -> tuple[str, Scenario]:
    defaults: dict[str, Any] = {
        "path": f"{name}.yaml",
        "system_prompt": SYSTEM,
        "max_output_tokens": 4000,
        "kind": "openrouter",
        "base_url": OPENROUTER_URL,
        "model": KIMI,
    }
    return name, Scenario(**{**defaults, **fields})


# The agent programs behind the seed cassettes (shared/conformance/SCENARIOS.md).
SEED_PROGRAMS: dict[str, Scenario] = dict(
    [
        _seed(
            "openaicompat-groq-kimi-k2-simple_streaming",
            kind="openaicompat",
            base_url=GROQ_URL,
            model="moonshotai/kimi-k2-instruct-0905",
            scenario="simple_streaming",
            streaming=True,
            prompt=SAY_HI,
        ),
        _seed(
            "openrouter-kimi-k2-groq-simple",
            scenario="simple",
            streaming=False,
            prompt=SAY_HI,
            provider_options=_pinned("groq"),
        ),
        _seed(
            "openrouter-kimi-k2-groq-simple_streaming",
            scenario="simple_streaming",
            streaming=True,
            prompt=SAY_HI,
            provider_options=_pinned("groq"),
        ),
        _seed(
            "openrouter-kimi-k2-wandb-simple_streaming",
            scenario="simple_streaming",
            streaming=True,
            prompt=SAY_HI,
            provider_options=_pinned("wandb"),
        ),
        _seed(
            "openrouter-kimi-k2-siliconflow-tool",
            scenario="tool",
            streaming=False,
            prompt=WEATHER_PROMPT,
            tools=["weather"],
            provider_options=_pinned("siliconflow"),
        ),
    ]
)


def load_interactions(path: Path) -> list[dict[str, Any]]:
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)["interactions"]


def seed_interactions(name: str) -> list[dict[str, Any]]:
    return load_interactions(FIXTURES / f"{name}.yaml")


# --------------------------------------------------------------------------- helpers


def sse(*chunks: dict[str, Any] | str) -> bytes:
    """A chat-completions event stream: one ``data:`` event per chunk, then ``[DONE]``."""
    lines = [chunk if isinstance(chunk, str) else json.dumps(chunk) for chunk in chunks]
    return "".join(f"data: {line}\n\n" for line in [*lines, "[DONE]"]).encode()


def chunk(
    delta: dict[str, Any] | None = None, finish_reason: str | None = None, **extra: Any
) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": 0, "delta": delta or {}, "finish_reason": finish_reason}
    return {"id": "gen-1", "object": "chat.completion.chunk", "choices": [choice], **extra}


def decode_stream(
    codec: OpenAIChatCodec, body: bytes, *, chunk_size: int | None = None
) -> list[ModelStreamPart]:
    """The parts a codec's stream decoder makes of an SSE body (the engine's loop, without I/O)."""
    events = SSEDecoder()
    decoder = codec.stream_decoder()
    parts: list[ModelStreamPart] = []
    size = chunk_size or len(body) or 1
    for start in range(0, len(body), size):
        for event in events.feed(body[start : start + size]):
            parts.extend(decoder.feed(event))
    for event in events.end():
        parts.extend(decoder.feed(event))
    parts.extend(decoder.end())
    return parts


def fold(parts: Sequence[ModelStreamPart]) -> list[ContentPart]:
    """Stream parts as a step's content: reasoning, then text, then the tool calls."""
    reasoning = "".join(part.delta for part in parts if isinstance(part, ReasoningDeltaPart))
    text = "".join(part.delta for part in parts if isinstance(part, TextDeltaPart))
    content: list[ContentPart] = [ReasoningPart(text=reasoning)] if reasoning else []
    if text:
        content.append(TextPart(text=text))
    content.extend(part for part in parts if isinstance(part, ToolCallPart))
    return content


def run_tools(calls: Sequence[ToolCallPart]) -> list[ToolResultPart]:
    results: list[ToolResultPart] = []
    for call in calls:
        found = SCENARIO_TOOLS[call.tool_name]
        output = found.call(found.validate(call.input))
        results.append(
            ToolResultPart(tool_call_id=call.tool_call_id, tool_name=call.tool_name, output=output)
        )
    return results


def scenario_call(scenario: Scenario, messages: list[Message]) -> Call:
    return Call(
        prompt=list(messages),
        tools=[SCENARIO_TOOLS[name].definition() for name in scenario.tools],
        max_output_tokens=scenario.max_output_tokens,
        provider_options=scenario.provider_options or {},
    )


def replay(scenario: Scenario, interactions: list[dict[str, Any]]) -> int:
    """Check every recorded request body of a conversation; return how many were compared."""
    codec: OpenAIChatCodec = PROVIDERS[scenario.kind].Codec(scenario.model)
    messages = [Message.system(scenario.system_prompt), Message.user(scenario.prompt)]
    for number, interaction in enumerate(interactions):
        request, response = interaction["request"], interaction["response"]
        wire = codec.build_request(scenario_call(scenario, messages), stream=scenario.streaming)
        recorded = json.loads(request["body"])
        assert scenario.base_url + wire.path == request["url"]
        assert wire.body == recorded, f"request {number} differs"
        assert json.loads(encode_body(wire.body)) == recorded
        assert wire.warnings == []
        if response["code"] != 200:
            continue
        if scenario.streaming:
            content = fold(decode_stream(codec, response["body"].encode("utf-8"), chunk_size=7))
        else:
            content = codec.parse_response(json.loads(response["body"])).content
        messages.append(Message(role="assistant", content=content))
        calls = [part for part in content if isinstance(part, ToolCallPart)]
        if calls:
            messages.append(Message(role="tool", content=list(run_tools(calls))))
    return len(interactions)


def recorded_text(body: str) -> str:
    """The text of a recorded stream, read straight from its chunks."""
    pieces: list[str] = []
    for line in body.split("\n"):
        if line.startswith("data: {"):
            for choice in json.loads(line[len("data: ") :]).get("choices") or []:
                pieces.append((choice.get("delta") or {}).get("content") or "")
    return "".join(pieces)


def build(
    codec: OpenAIChatCodec, *, stream: bool = False, prompt: list[Message] | None = None, **fields: Any
) -> dict[str, Any]:
    call = Call(prompt=prompt or [Message.system(SYSTEM), Message.user(SAY_HI)], **fields)
    return codec.build_request(call, stream=stream).body


# --------------------------------------------------------------------------- seeds: requests


def test_every_seed_fixture_has_a_program() -> None:
    assert sorted(path.stem for path in FIXTURES.glob("*.yaml")) == sorted(SEED_PROGRAMS)


@pytest.mark.parametrize("name", sorted(SEED_PROGRAMS))
def test_request_bodies_equal_the_seed_recordings(name: str) -> None:
    interactions = seed_interactions(name)
    assert replay(SEED_PROGRAMS[name], interactions) == len(interactions) >= 1


def test_tool_seed_follow_up_echoes_call_and_result() -> None:
    # Spelled out for the one seed with two steps (the replay above checks it too).
    body = json.loads(seed_interactions("openrouter-kimi-k2-siliconflow-tool")[2]["request"]["body"])
    assistant, result = body["messages"][2:]
    assert assistant == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "functions.weather:0",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"location": "Florence,Italy"}'},
            }
        ],
    }
    assert result == {"role": "tool", "tool_call_id": "functions.weather:0", "content": "40 C"}


def _corpus() -> list[Scenario]:
    manifest = CASSETTES / "manifest.json"
    if not manifest.exists():
        return []
    # Entries a later wire superseded are matched leniently (method and URL only), so their
    # bodies are not compared here either.
    return [
        scenario
        for scenario in load_manifest(manifest)
        if scenario.kind in PROVIDERS and scenario.match == "strict"
    ]


CORPUS = _corpus()


@pytest.mark.skipif(not CORPUS, reason=f"the shared cassette corpus is absent ({CASSETTES})")
def test_request_bodies_equal_every_chat_recording_of_the_corpus() -> None:
    # One test for the whole corpus keeps the run short; the message names the cassette.
    compared = 0
    for scenario in CORPUS:
        try:
            compared += replay(scenario, load_interactions(CASSETTES / scenario.path))
        except AssertionError as error:
            raise AssertionError(f"{scenario.path}: {error}") from None
    assert compared > len(CORPUS)


# --------------------------------------------------------------------------- requests: fields


@pytest.mark.parametrize(
    ("module", "model", "key"),
    [
        (openai, "gpt-5", "max_completion_tokens"),
        (openai, "gpt-5-mini", "max_completion_tokens"),
        (openai, "o3", "max_completion_tokens"),
        (openai, "o4-mini", "max_completion_tokens"),
        (openrouter, "openai/gpt-5", "max_completion_tokens"),
        (openai, "gpt-4o", "max_tokens"),
        (openrouter, KIMI, "max_tokens"),
        (openrouter, "z-ai/glm-4.5", "max_tokens"),
        (openaicompat, "moonshotai/kimi-k2-instruct-0905", "max_tokens"),
    ],
)
def test_max_output_tokens_key_follows_the_model_id(module: ModuleType, model: str, key: str) -> None:
    body = build(module.Codec(model), max_output_tokens=4000)
    other = {"max_tokens", "max_completion_tokens"} - {key}
    assert body[key] == 4000
    assert not other & body.keys()


def test_no_max_output_tokens_sends_neither_key() -> None:
    body = build(openai.Codec("gpt-5"))
    assert "max_tokens" not in body and "max_completion_tokens" not in body


def test_minimal_bodies_carry_nothing_else() -> None:
    assert build(openai.Codec("gpt-4o")) == {
        "model": "gpt-4o",
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": SAY_HI}],
    }
    assert build(openrouter.Codec(KIMI), stream=True) == {
        "model": KIMI,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": SAY_HI}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "usage": {"include": True},
    }


def test_sampling_settings_appear_in_the_body() -> None:
    codec = openrouter.Codec(KIMI)
    call = Call(
        prompt=[Message.user("hi")],
        temperature=0.3,
        top_p=0.9,
        top_k=40,
        presence_penalty=0.5,
        frequency_penalty=-0.5,
        stop_sequences=["END"],
        seed=7,
    )
    wire = codec.build_request(call, stream=False)
    assert wire.warnings == []
    assert {key: wire.body[key] for key in ("temperature", "top_p", "top_k", "seed", "stop")} == {
        "temperature": 0.3,
        "top_p": 0.9,
        "top_k": 40,
        "seed": 7,
        "stop": ["END"],
    }
    assert wire.body["presence_penalty"] == 0.5
    assert wire.body["frequency_penalty"] == -0.5


def test_zero_valued_settings_are_sent() -> None:
    body = build(openai.Codec("gpt-4o"), temperature=0.0, seed=0)
    assert body["temperature"] == 0.0
    assert body["seed"] == 0


def test_top_k_is_a_warning_for_openai() -> None:
    wire = openai.Codec("gpt-4o").build_request(Call(prompt=[Message.user("hi")], top_k=5), stream=False)
    assert "top_k" not in wire.body
    assert [warning.setting for warning in wire.warnings] == ["top_k"]


@pytest.mark.parametrize(
    ("module", "model"), [(openai, "gpt-5"), (openai, "o3"), (openrouter, "openai/gpt-5")]
)
def test_reasoning_models_drop_sampling_settings_with_warnings(module: ModuleType, model: str) -> None:
    call = Call(prompt=[Message.user("hi")], temperature=0.5, top_p=0.5, seed=1, max_output_tokens=100)
    wire = module.Codec(model).build_request(call, stream=False)
    assert "temperature" not in wire.body
    assert "top_p" not in wire.body
    assert wire.body["seed"] == 1
    assert wire.body["max_completion_tokens"] == 100
    assert [warning.setting for warning in wire.warnings] == ["temperature", "top_p"]
    assert all(isinstance(warning, CallWarning) and warning.message for warning in wire.warnings)


def test_non_reasoning_model_keeps_temperature() -> None:
    wire = openai.Codec("gpt-4o").build_request(
        Call(prompt=[Message.user("hi")], temperature=0.5), stream=False
    )
    assert wire.body["temperature"] == 0.5
    assert wire.warnings == []


def test_stream_adds_stream_and_stream_options_only_when_streaming() -> None:
    codec = openaicompat.Codec("m")
    streaming = build(codec, stream=True)
    whole = build(codec, stream=False)
    assert streaming["stream"] is True
    assert streaming["stream_options"] == {"include_usage": True}
    assert "stream" not in whole and "stream_options" not in whole


def _weather_call(**fields: Any) -> Call:
    return Call(prompt=[Message.user("hi")], tools=[SCENARIO_TOOLS["weather"].definition()], **fields)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, "auto"),
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("weather", {"type": "function", "function": {"name": "weather"}}),
    ],
)
def test_tool_choice_encodings(choice: str | None, expected: Any) -> None:
    body = openai.Codec("gpt-4o").build_request(_weather_call(tool_choice=choice), stream=False).body
    assert body["tool_choice"] == expected
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Get weather information for a location",
                "parameters": {
                    "properties": {"location": {"description": "the city", "type": "string"}},
                    "required": ["location"],
                    "type": "object",
                },
                "strict": False,
            },
        }
    ]


def test_tool_choice_without_tools_is_not_sent() -> None:
    wire = openai.Codec("gpt-4o").build_request(
        Call(prompt=[Message.user("hi")], tool_choice="required"), stream=False
    )
    assert "tool_choice" not in wire.body and "tools" not in wire.body
    assert [warning.setting for warning in wire.warnings] == ["tool_choice"]


# --------------------------------------------------------------------------- requests: messages


def _assistant_body(*content: ContentPart) -> dict[str, Any]:
    prompt = [Message.user("hi"), Message(role="assistant", content=list(content))]
    return build(openrouter.Codec(KIMI), prompt=prompt)["messages"][1]


CALL = ToolCallPart(tool_call_id="call_1", tool_name="weather", input='{"location":"Florence,Italy"}')


def test_assistant_whitespace_text_is_sent_verbatim() -> None:
    # glm-4.5's "\n\n" before a tool call is echoed as is in the recording.
    assert _assistant_body(TextPart(text="\n\n"), CALL) == {
        "role": "assistant",
        "content": "\n\n",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "weather", "arguments": '{"location":"Florence,Italy"}'},
            }
        ],
    }


def test_assistant_empty_text_has_no_content_key() -> None:
    assert "content" not in _assistant_body(TextPart(text=""), CALL)
    assert "content" not in _assistant_body(CALL)


def test_openai_never_sends_reasoning_back() -> None:
    prompt = [
        Message.user("hi"),
        Message(
            role="assistant",
            content=[
                ReasoningPart(
                    text="thinking hard", provider_metadata={"openrouter": {"reasoning_details": [{}]}}
                ),
                TextPart(text="Sure."),
                CALL,
            ],
        ),
    ]
    body = build(openai.Codec("gpt-4o"), prompt=prompt)["messages"][1]
    assert body["content"] == "Sure."
    assert "thinking hard" not in json.dumps(body)
    assert set(body) == {"role", "content", "tool_calls"}


def test_openrouter_sends_reasoning_without_details_nowhere() -> None:
    # Reasoning that came without details (a plain "reasoning" text) has nothing to send back.
    body = _assistant_body(ReasoningPart(text="thinking hard"), TextPart(text="Sure."), CALL)
    assert set(body) == {"role", "content", "tool_calls"}


def test_assistant_text_only_message() -> None:
    assert _assistant_body(TextPart(text="Olá!")) == {"role": "assistant", "content": "Olá!"}


def test_tool_call_arguments_are_echoed_as_received() -> None:
    spaced = ToolCallPart(tool_call_id="functions.add:0", tool_name="add", input='{"a": 2, "b": 3}')
    compact = ToolCallPart(tool_call_id="0", tool_name="multiply", input='{"b":3,"a":2}')
    calls = _assistant_body(spaced, compact)["tool_calls"]
    assert [call["function"]["arguments"] for call in calls] == ['{"a": 2, "b": 3}', '{"b":3,"a":2}']
    assert [call["id"] for call in calls] == ["functions.add:0", "0"]


def test_tool_results_are_one_message_each_in_call_order() -> None:
    results = [
        ToolResultPart(tool_call_id="0", tool_name="add", output="5"),
        ToolResultPart(tool_call_id="1", tool_name="multiply", output="6"),
    ]
    prompt = [Message.user("hi"), Message(role="tool", content=list(results))]
    assert build(openai.Codec("gpt-4o"), prompt=prompt)["messages"][1:] == [
        {"role": "tool", "tool_call_id": "0", "content": "5"},
        {"role": "tool", "tool_call_id": "1", "content": "6"},
    ]


def test_user_message_with_a_file_becomes_a_content_array() -> None:
    image = FilePart(data=b"\x89PNG", media_type="image/png")
    message = build(openai.Codec("gpt-4o"), prompt=[Message.user("what is this?", image)])["messages"][0]
    assert message == {
        "role": "user",
        "content": [
            {"type": "text", "text": "what is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
        ],
    }


# --------------------------------------------------------------------------- requests: options


def test_typed_openrouter_options_equal_the_dict_form_on_the_wire() -> None:
    codec = openrouter.Codec(KIMI)
    typed = openrouter.Options(provider=openrouter.ProviderRouting(only=["groq"]))
    as_dict = build(codec, provider_options={"openrouter": {"provider": {"only": ["groq"]}}})
    as_typed = build(codec, provider_options={"openrouter": typed})
    assert as_typed == as_dict
    assert as_typed["provider"] == {"only": ["groq"]}
    assert as_typed["usage"] == {"include": True}


def test_openrouter_reasoning_options_are_copied() -> None:
    body = build(
        openrouter.Codec("openai/gpt-5"), provider_options={"openrouter": {"reasoning": {"effort": "medium"}}}
    )
    assert body["reasoning"] == {"effort": "medium"}


def test_openrouter_usage_option_overrides_the_default() -> None:
    body = build(openrouter.Codec(KIMI), provider_options={"openrouter": {"usage": {"include": False}}})
    assert body["usage"] == {"include": False}


def test_options_of_other_providers_are_ignored() -> None:
    options = {"anthropic": {"thinking": {"budget_tokens": 10}}, "openai": {"user": "u"}}
    assert build(openrouter.Codec(KIMI), provider_options=options) == build(openrouter.Codec(KIMI))


def test_openai_options_become_body_fields() -> None:
    body = build(
        openai.Codec("gpt-5"),
        provider_options={"openai": openai.Options(reasoning_effort="low", parallel_tool_calls=False)},
    )
    assert body["reasoning_effort"] == "low"
    assert body["parallel_tool_calls"] is False


def test_openaicompat_extra_body_is_merged() -> None:
    body = build(
        openaicompat.Codec("m"),
        provider_options={"openaicompat": {"reasoning_effort": "high", "extra_body": {"chat_template": "x"}}},
    )
    assert body["reasoning_effort"] == "high"
    assert body["chat_template"] == "x"
    assert "extra_body" not in body


@pytest.mark.parametrize(
    ("module", "options", "field"),
    [
        (openrouter, {"openrouter": {"provder": {}}}, "provder"),
        (openrouter, {"openrouter": {"provider": {"onyl": []}}}, "provider.onyl"),
        (openrouter, {"openrouter": {"reasoning": {"effort": "extreme"}}}, "reasoning.effort"),
        (openai, {"openai": {"reasoning_efort": "low"}}, "reasoning_efort"),
        (openaicompat, {"openaicompat": {"extra": {}}}, "extra"),
    ],
)
def test_unknown_or_invalid_option_is_a_user_error_naming_the_field(
    module: ModuleType, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(UserError) as raised:
        build(module.Codec("gpt-4o"), provider_options=options)
    assert field in str(raised.value)
    assert module.Codec.name in str(raised.value)


# --------------------------------------------------------------------------- responses


def test_parse_padded_openrouter_response() -> None:
    body = seed_interactions("openrouter-kimi-k2-groq-simple")[1]["response"]["body"]
    response = openrouter.Codec(KIMI).parse_response(json.loads(body))
    assert response.content == [TextPart(text="Olá!")]
    assert response.finish_reason == "stop"
    assert response.usage == Usage(input_tokens=20, output_tokens=4, total_tokens=24)
    metadata = response.provider_metadata["openrouter"]
    assert metadata["cost"] == 0.000032
    assert metadata["provider"] == "Groq"
    assert metadata["is_byok"] is False
    assert response.response_id == "gen-1758703127-WCftfHLMV08JpLbeM0z1"
    assert response.model_id == KIMI


def test_parse_tool_call_response_with_whitespace_padding() -> None:
    body = seed_interactions("openrouter-kimi-k2-siliconflow-tool")[0]["response"]["body"]
    assert body.startswith("\n")
    response = openrouter.Codec(KIMI).parse_response(json.loads(body))
    assert response.content == [
        ToolCallPart(
            tool_call_id="functions.weather:0", tool_name="weather", input='{"location": "Florence,Italy"}'
        )
    ]
    assert response.finish_reason == "tool_calls"
    assert response.usage.total_tokens == 124


def test_parse_openrouter_reasoning_details() -> None:
    payload = {
        "choices": [
            {
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": "Hot.",
                    "reasoning": "summary text",
                    "reasoning_details": [
                        {"type": "reasoning.summary", "summary": "summary text"},
                        {"type": "reasoning.encrypted", "data": "opaque"},
                    ],
                },
            }
        ]
    }
    response = openrouter.Codec("openai/gpt-5").parse_response(payload)
    reasoning = [part for part in response.content if isinstance(part, ReasoningPart)]
    assert [part.text for part in reasoning] == ["summary text", ""]
    assert reasoning[1].provider_metadata == {
        "openrouter": {"reasoning_details": [{"type": "reasoning.encrypted", "data": "opaque"}]}
    }
    assert response.content[-1] == TextPart(text="Hot.")


@pytest.mark.parametrize("payload", [[], "x", {"choices": []}, {"choices": None}])
def test_unreadable_response_is_invalid(payload: Any) -> None:
    with pytest.raises(InvalidResponseError):
        openai.Codec("gpt-4o").parse_response(payload)


def test_error_object_in_a_200_response_raises_provider_error() -> None:
    with pytest.raises(ProviderError, match="overloaded"):
        openrouter.Codec(KIMI).parse_response({"error": {"message": "overloaded", "code": 502}})


# --------------------------------------------------------------------------- streams: seeds


STREAM_SEEDS = {
    "openaicompat-groq-kimi-k2-simple_streaming": (
        openaicompat,
        Usage(input_tokens=20, output_tokens=3, total_tokens=23),
    ),
    "openrouter-kimi-k2-groq-simple_streaming": (
        openrouter,
        Usage(input_tokens=20, output_tokens=4, total_tokens=24),
    ),
    "openrouter-kimi-k2-wandb-simple_streaming": (
        openrouter,
        Usage(input_tokens=20, output_tokens=3, total_tokens=23),
    ),
}


def _stream_body(name: str) -> str:
    return [i for i in seed_interactions(name) if i["response"]["code"] == 200][-1]["response"]["body"]


@pytest.mark.parametrize("name", sorted(STREAM_SEEDS))
@pytest.mark.parametrize("chunk_size", [None, 1, 13])
def test_seed_stream_decodes_to_text_usage_and_finish(name: str, chunk_size: int | None) -> None:
    module, usage = STREAM_SEEDS[name]
    body = _stream_body(name)
    parts = decode_stream(
        module.Codec(SEED_PROGRAMS[name].model), body.encode("utf-8"), chunk_size=chunk_size
    )
    deltas = [part.delta for part in parts if isinstance(part, TextDeltaPart)]
    text = recorded_text(body)
    assert text in ("Oi!", "Olá!")
    assert "".join(deltas) == text
    assert all(deltas)  # the empty first-chunk content makes no delta
    assert [type(part) for part in parts] == [
        TextStartPart,
        *[TextDeltaPart] * len(deltas),
        TextEndPart,
        FinishPart,
    ]
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    assert finish.finish_reason == "stop"
    assert finish.usage == usage


def test_openrouter_stream_keeps_multibyte_deltas_and_cost() -> None:
    parts = decode_stream(
        openrouter.Codec(KIMI),
        _stream_body("openrouter-kimi-k2-groq-simple_streaming").encode(),
        chunk_size=1,
    )
    assert [part.delta for part in parts if isinstance(part, TextDeltaPart)] == ["Ol", "á", "!"]
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    assert finish.provider_metadata["openrouter"]["cost"] == 0.000032
    assert finish.provider_metadata["openrouter"]["provider"] == "Groq"


def test_groq_usage_from_the_choiceless_last_chunk() -> None:
    # Groq repeats usage (beside x_groq) on its finish chunk and again on a "choices": [] chunk.
    # Here only the choiceless chunk carries it, as OpenAI sends it.
    body = sse(
        chunk({"role": "assistant", "content": ""}, x_groq={"id": "req_1"}),
        chunk({"content": "Oi"}),
        chunk({}, "stop", x_groq={"id": "req_1", "usage": {"prompt_tokens": 99}}),
        {
            "id": "gen-1",
            "choices": [],
            "usage": {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23},
        },
    )
    finish = decode_stream(openaicompat.Codec("m"), body)[-1]
    assert isinstance(finish, FinishPart)
    assert finish.usage == Usage(input_tokens=20, output_tokens=3, total_tokens=23)
    assert finish.finish_reason == "stop"
    assert finish.provider_metadata == {}


SEED_STREAM_IDENTITY = {
    "openaicompat-groq-kimi-k2-simple_streaming": (
        "chatcmpl-2248ca44-9f78-497c-8610-e131b33a4928",
        "moonshotai/kimi-k2-instruct-0905",
    ),
    "openrouter-kimi-k2-groq-simple_streaming": ("gen-1758703127-HhgBCe5YfgeAGz9bvnU7", KIMI),
    "openrouter-kimi-k2-wandb-simple_streaming": ("gen-1758698629-5CNlN3eN3r4JHgnIsxJp", KIMI),
}


@pytest.mark.parametrize("name", sorted(SEED_STREAM_IDENTITY))
def test_seed_stream_finish_names_the_response_and_the_model(name: str) -> None:
    module, _ = STREAM_SEEDS[name]
    body = _stream_body(name).encode("utf-8")
    finish = decode_stream(module.Codec(SEED_PROGRAMS[name].model), body)[-1]
    assert isinstance(finish, FinishPart)
    assert (finish.response_id, finish.model_id) == SEED_STREAM_IDENTITY[name]


def test_stream_identity_comes_from_the_first_chunk_that_has_it() -> None:
    # The usage-only chunk (OpenAI's "choices": []) may come without them; a missing or
    # empty field on a later chunk does not erase what an earlier chunk said.
    body = sse(
        {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
        chunk({"content": "Oi"}, id="chatcmpl-9", model="gpt-4o-2024-08-06"),
        chunk({}, "stop", id="", model=None),
        {"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}},
    )
    finish = decode_stream(openai.Codec("gpt-4o"), body)[-1]
    assert isinstance(finish, FinishPart)
    assert finish.response_id == "chatcmpl-9"
    assert finish.model_id == "gpt-4o-2024-08-06"


def test_stream_without_identity_leaves_it_unset() -> None:
    body = sse({"choices": [{"index": 0, "delta": {"content": "Oi"}, "finish_reason": "stop"}]})
    finish = decode_stream(openai.Codec("gpt-4o"), body)[-1]
    assert isinstance(finish, FinishPart)
    assert (finish.response_id, finish.model_id) == (None, None)


def test_parse_response_names_the_response_and_the_model() -> None:
    response = openai.Codec("gpt-4o").parse_response(
        {
            "id": "chatcmpl-7",
            "model": "gpt-4o-2024-08-06",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "Oi"}, "finish_reason": "stop"}
            ],
        }
    )
    assert (response.response_id, response.model_id) == ("chatcmpl-7", "gpt-4o-2024-08-06")
    bare = openai.Codec("gpt-4o").parse_response(
        {"choices": [{"message": {"content": "Oi"}, "finish_reason": "stop"}]}
    )
    assert (bare.response_id, bare.model_id) == (None, None)


# --------------------------------------------------------------------------- streams: tool calls


def test_openai_style_argument_fragments_concatenate_exactly() -> None:
    fragments = ['{"a"', ": 2, ", '"b": 3', "}"]
    body = sse(
        chunk({"role": "assistant", "content": None}, obfuscation="x"),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_A",
                        "type": "function",
                        "function": {"name": "add", "arguments": ""},
                    }
                ]
            }
        ),
        *[
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}, obfuscation="y")
            for piece in fragments
        ],
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_M",
                        "type": "function",
                        "function": {"name": "multiply", "arguments": ""},
                    }
                ]
            }
        ),
        *[chunk({"tool_calls": [{"index": 1, "function": {"arguments": piece}}]}) for piece in fragments],
        chunk({}, "tool_calls", usage=None),
        {
            "id": "gen-1",
            "choices": [],
            "usage": {"prompt_tokens": 106, "completion_tokens": 50, "total_tokens": 156},
        },
    )
    parts = decode_stream(openai.Codec("gpt-4o"), body, chunk_size=5)
    assert [part for part in parts if isinstance(part, ToolInputStartPart)] == [
        ToolInputStartPart(id="call_A", tool_name="add"),
        ToolInputStartPart(id="call_M", tool_name="multiply"),
    ]
    assert [
        part.delta for part in parts if isinstance(part, ToolInputDeltaPart) and part.id == "call_A"
    ] == fragments
    calls = [part for part in parts if isinstance(part, ToolCallPart)]
    assert calls == [
        ToolCallPart(tool_call_id="call_A", tool_name="add", input='{"a": 2, "b": 3}'),
        ToolCallPart(tool_call_id="call_M", tool_name="multiply", input='{"a": 2, "b": 3}'),
    ]
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    assert finish.finish_reason == "tool_calls"
    assert finish.usage.total_tokens == 156
    # Each call is announced, then ended, then emitted whole; the finish comes last.
    ends = [index for index, part in enumerate(parts) if isinstance(part, ToolInputEndPart)]
    call_positions = [index for index, part in enumerate(parts) if isinstance(part, ToolCallPart)]
    assert [end + 1 for end in ends] == call_positions


def test_deepinfra_style_finish_reason_on_every_tool_chunk() -> None:
    # Whole calls in one fragment each, finish_reason on each of them, then a usage chunk
    # whose finish_reason is null: the reason must survive, and the bare ids are kept.
    body = sse(
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "0",
                        "function": {"arguments": '{"a": 2, "b": 3}', "name": "add"},
                        "type": "function",
                    }
                ],
            },
            "tool_calls",
        ),
        chunk(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "1",
                        "function": {"arguments": '{"a": 2, "b": 3}', "name": "multiply"},
                        "type": "function",
                    }
                ],
            },
            "tool_calls",
        ),
        chunk(
            {"role": "assistant", "content": ""},
            None,
            usage={"prompt_tokens": 171, "completion_tokens": 12, "total_tokens": 183, "cost": 0.0001095},
        ),
    )
    parts = decode_stream(openrouter.Codec(KIMI), body)
    assert [part for part in parts if isinstance(part, ToolCallPart)] == [
        ToolCallPart(tool_call_id="0", tool_name="add", input='{"a": 2, "b": 3}'),
        ToolCallPart(tool_call_id="1", tool_name="multiply", input='{"a": 2, "b": 3}'),
    ]
    assert not any(isinstance(part, TextStartPart) for part in parts)
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    assert finish.finish_reason == "tool_calls"
    assert finish.usage == Usage(input_tokens=171, output_tokens=12, total_tokens=183)
    assert finish.provider_metadata["openrouter"]["cost"] == 0.0001095


def test_fireworks_style_trailing_empty_fragment_adds_nothing() -> None:
    pieces = ['{"', "a", '":', " ", "2", ",", ' "', "b", '":', " ", "3", "}"]

    def call_chunks(index: int, call_id: str, name: str) -> list[dict[str, Any]]:
        def fragment(extra: dict[str, Any]) -> dict[str, Any]:
            return chunk(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"index": index, "type": "function", **extra}],
                }
            )

        return [
            fragment({"id": call_id, "function": {"name": name}}),
            *[fragment({"id": None, "function": {"arguments": piece}}) for piece in pieces],
            fragment({"id": None, "function": {"arguments": ""}}),  # after the JSON is complete
        ]

    body = sse(
        chunk({"role": "assistant", "content": ""}),
        chunk({"role": "assistant", "content": "I'll add"}),
        chunk({"role": "assistant", "content": " and multiply."}),
        *call_chunks(0, "functions.add:0", "add"),
        *call_chunks(1, "functions.multiply:1", "multiply"),
        chunk({"role": "assistant", "content": ""}, "tool_calls"),
        chunk(
            {"role": "assistant", "content": ""},
            None,
            usage={"prompt_tokens": 210, "completion_tokens": 59, "total_tokens": 269},
        ),
    )
    parts = decode_stream(openrouter.Codec(KIMI), body, chunk_size=64)
    calls = [part for part in parts if isinstance(part, ToolCallPart)]
    assert calls == [
        ToolCallPart(tool_call_id="functions.add:0", tool_name="add", input='{"a": 2, "b": 3}'),
        ToolCallPart(tool_call_id="functions.multiply:1", tool_name="multiply", input='{"a": 2, "b": 3}'),
    ]
    deltas = [part for part in parts if isinstance(part, ToolInputDeltaPart)]
    assert len(deltas) == 2 * len(pieces)  # no empty delta
    assert sum(isinstance(part, ToolInputStartPart) for part in parts) == 2
    assert (
        "".join(part.delta for part in parts if isinstance(part, TextDeltaPart)) == "I'll add and multiply."
    )
    # The text block closes before the calls are emitted at the end.
    positions = {type(part): index for index, part in enumerate(parts)}
    assert positions[TextEndPart] < parts.index(calls[0])
    finish = parts[-1]
    assert isinstance(finish, FinishPart) and finish.finish_reason == "tool_calls"


def test_openrouter_stream_reasoning_deltas() -> None:
    detail = {"type": "reasoning.text", "text": "The", "format": "unknown", "index": 0}
    body = sse(
        chunk({"role": "assistant", "content": "", "reasoning": None, "reasoning_details": []}),
        chunk({"role": "assistant", "content": "", "reasoning": "The", "reasoning_details": [detail]}),
        chunk({"role": "assistant", "content": "", "reasoning": " user"}),
        chunk({"role": "assistant", "content": "\n\n"}),
        chunk({}, "stop"),
    )
    parts = decode_stream(openrouter.Codec("z-ai/glm-4.5"), body)
    assert [type(part) for part in parts] == [
        ReasoningStartPart,
        ReasoningDeltaPart,
        ReasoningDeltaPart,
        TextStartPart,
        TextDeltaPart,
        ReasoningEndPart,
        TextEndPart,
        FinishPart,
    ]
    reasoning = [part for part in parts if isinstance(part, ReasoningDeltaPart)]
    assert [part.delta for part in reasoning] == ["The", " user"]
    # The details are whole only when the block ends, so they come with its end part.
    assert all(not part.provider_metadata for part in reasoning)
    end = next(part for part in parts if isinstance(part, ReasoningEndPart))
    assert end.provider_metadata == {"openrouter": {"reasoning_details": [detail]}}
    assert [part.delta for part in parts if isinstance(part, TextDeltaPart)] == ["\n\n"]


def test_text_deltas_of_an_open_block_alone_or_beside_other_fields() -> None:
    # A delta with only "content" takes the per-token path; with more fields, the general one.
    body = sse(
        chunk({"role": "assistant", "content": "a"}),
        chunk({"content": "b"}),
        chunk({"content": ""}),
        chunk({"content": "c", "refusal": "no"}),
        chunk({"content": "d"}),
        chunk({"content": "e", "reasoning": "hm"}),
        chunk({"content": "f"}, "stop"),
    )
    parts = decode_stream(openrouter.Codec(KIMI), body)
    text = "".join(part.delta for part in parts if isinstance(part, TextDeltaPart) and part.id == "text")
    refusal = [part.delta for part in parts if isinstance(part, TextDeltaPart) and part.id == "refusal"]
    reasoning = [part.delta for part in parts if isinstance(part, ReasoningDeltaPart)]
    assert (text, refusal, reasoning) == ("abcdef", ["no"], ["hm"])
    assert [part.type for part in parts].count("text_start") == 2  # the text block and the refusal's


def test_stream_without_finish_reason_is_a_retryable_error() -> None:
    body = sse(chunk({"role": "assistant", "content": "Ol"}))
    with pytest.raises(ProviderError) as raised:
        decode_stream(openrouter.Codec(KIMI), body)
    assert raised.value.is_retryable


def test_stream_cut_inside_the_finish_event_is_a_retryable_error() -> None:
    body = sse(chunk({"content": "Oi"}), chunk({}, "stop"))
    truncated = body[: body.index(b'"stop"') + 3]
    with pytest.raises(ProviderError) as raised:
        decode_stream(openrouter.Codec(KIMI), truncated)
    assert raised.value.is_retryable


def test_in_band_stream_error_raises() -> None:
    body = sse(chunk({"content": "Oi"}), {"error": {"message": "upstream overloaded", "code": 502}})
    with pytest.raises(ProviderError, match="upstream overloaded") as raised:
        decode_stream(openrouter.Codec(KIMI), body)
    assert raised.value.is_retryable


def test_malformed_chunk_is_invalid_response() -> None:
    with pytest.raises(InvalidResponseError):
        decode_stream(openrouter.Codec(KIMI), b'data: {"choices": [\n\n')
    with pytest.raises(InvalidResponseError):
        decode_stream(openrouter.Codec(KIMI), b"data: [1, 2]\n\n")


# Arbitrary JSON in the places the decoder reads: it may reject a chunk, but only with a
# reverie error, and whatever it accepts yields well-typed parts.
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_fragment = st.fixed_dictionaries(
    {},
    optional={
        "index": st.integers(0, 2) | _json,
        "id": st.text(max_size=3) | _json,
        "function": st.fixed_dictionaries(
            {}, optional={"name": st.text(max_size=3) | _json, "arguments": st.text(max_size=5) | _json}
        )
        | _json,
    },
)
_delta = st.fixed_dictionaries(
    {},
    optional={
        "content": st.text(max_size=5) | _json,
        "reasoning": st.text(max_size=5) | _json,
        "reasoning_content": st.text(max_size=5) | _json,
        "reasoning_details": st.lists(st.dictionaries(st.sampled_from(["type", "text", "summary"]), _json))
        | _json,
        "tool_calls": st.lists(_fragment, max_size=2) | _json,
    },
)
_chunk = st.fixed_dictionaries(
    {},
    optional={
        "choices": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "delta": _delta | _json,
                    "finish_reason": st.sampled_from(["stop", "tool_calls", None]) | _json,
                },
            ),
            max_size=2,
        )
        | _json,
        "usage": st.fixed_dictionaries(
            {},
            optional={"prompt_tokens": st.integers(0, 9) | _json, "completion_tokens": _json, "cost": _json},
        )
        | _json,
        "provider": _json,
    },
)


@settings(max_examples=80, deadline=None)
@given(chunks=st.lists(_chunk, max_size=4), module=st.sampled_from([openai, openaicompat, openrouter]))
def test_wrongly_shaped_chunks_raise_only_reverie_errors(
    chunks: list[dict[str, Any]], module: ModuleType
) -> None:
    body = sse(*chunks, chunk({}, "stop"))
    try:
        parts = decode_stream(module.Codec("m"), body)
    except ReverieError:
        return
    for part in parts:
        if isinstance(part, TextDeltaPart | ReasoningDeltaPart | ToolInputDeltaPart):
            assert isinstance(part.delta, str)
        elif isinstance(part, ToolCallPart):
            assert isinstance(part.input, str) and isinstance(part.tool_name, str)
            assert isinstance(part.tool_call_id, str)


@settings(max_examples=100, deadline=None)
@given(
    message=st.fixed_dictionaries(
        {},
        optional={
            "content": st.text(max_size=5) | _json,
            "reasoning": st.text(max_size=5) | _json,
            "reasoning_details": _json,
            "tool_calls": st.lists(_fragment, max_size=2) | _json,
        },
    )
    | _json,
    usage=_json,
    module=st.sampled_from([openai, openaicompat, openrouter]),
)
def test_wrongly_shaped_responses_raise_only_reverie_errors(
    message: Any, usage: Any, module: ModuleType
) -> None:
    payload = {"choices": [{"message": message, "finish_reason": "stop"}], "usage": usage}
    try:
        response = module.Codec("m").parse_response(payload)
    except ReverieError:
        return
    for part in response.content:
        if isinstance(part, TextPart | ReasoningPart):
            assert isinstance(part.text, str)
        elif isinstance(part, ToolCallPart):
            assert isinstance(part.input, str) and isinstance(part.tool_name, str)

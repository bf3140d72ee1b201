"""Protocol variants that real chat-completions servers send, decoded by the chat codecs.

Hand-made bodies and streams, one behaviour per test: the ``[DONE]`` marker as the end of a
complete stream, choices other than the first, refusals, content as typed parts,
``reasoning_details`` on OpenAI-compatible servers, usage rules, reasoning-model rules and
logprobs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reverie import (
    Call,
    FinishPart,
    Message,
    ProviderError,
    ReasoningDeltaPart,
    ReasoningPart,
    TextDeltaPart,
    TextEndPart,
    TextPart,
    TextStartPart,
    Usage,
)
from reverie._http.framing import SSE_WITH_DONE
from reverie._http.sse import SSEDecoder
from reverie._parts import ModelStreamPart
from reverie._run.step import StepBuilder
from reverie.providers import openai, openaicompat, openrouter, vercel
from reverie.providers._openai_chat.codec import OpenAIChatCodec

CODECS: list[OpenAIChatCodec] = [
    openai.Codec("gpt-4o"),
    openaicompat.Codec("some-model"),
    openrouter.Codec("moonshotai/kimi-k2-0905"),
    vercel.Codec("anthropic/claude-sonnet-4"),
]
CODEC_IDS = [codec.name for codec in CODECS]


def chunk(delta: dict[str, Any] | None = None, finish_reason: str | None = None, index: int = 0) -> str:
    choice = {"index": index, "delta": delta or {}, "finish_reason": finish_reason}
    return json.dumps({"id": "gen-1", "model": "m", "choices": [choice]})


def body(*chunks: str, done: bool = True) -> bytes:
    events = [*chunks, "[DONE]"] if done else list(chunks)
    return "".join(f"data: {event}\n\n" for event in events).encode()


def decode(codec: OpenAIChatCodec, stream: bytes) -> list[ModelStreamPart]:
    """The engine's loop without I/O, through the codec's own framing."""
    events = codec.framing.decoder(max_bytes=1 << 20)
    decoder = codec.stream_decoder()
    parts: list[ModelStreamPart] = []
    for event in [*events.feed(stream), *events.end()]:
        parts.extend(decoder.feed(event))
    parts.extend(decoder.end())
    return parts


def text_of(parts: list[ModelStreamPart]) -> str:
    return "".join(part.delta for part in parts if isinstance(part, TextDeltaPart))


# --- the [DONE] marker ------------------------------------------------------------------


def test_sse_decoder_keeps_done_when_asked() -> None:
    decoder = SSEDecoder(keep_done=True)
    events = decoder.feed(b"data: {}\n\ndata: [DONE]\n\n")
    assert [event.data for event in events] == ["{}", "[DONE]"]
    assert [event.data for event in SSEDecoder().feed(b"data: [DONE]\n\n")] == []


def test_chat_codecs_read_streams_with_the_done_marker() -> None:
    for codec in CODECS:
        assert codec.framing is SSE_WITH_DONE


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_stream_ended_by_done_without_finish_reason_is_complete(codec: OpenAIChatCodec) -> None:
    parts = decode(codec, body(chunk({"content": "Olá"}), chunk({"content": "!"})))
    assert text_of(parts) == "Olá!"
    finish = parts[-1]
    assert isinstance(finish, FinishPart)
    assert finish.finish_reason == "unknown"


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_stream_cut_before_done_stays_incomplete(codec: OpenAIChatCodec) -> None:
    with pytest.raises(ProviderError, match="before the model finished") as info:
        decode(codec, body(chunk({"content": "Olá"}), done=False))
    assert info.value.is_retryable


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_finish_reason_without_done_is_still_complete(codec: OpenAIChatCodec) -> None:
    parts = decode(codec, body(chunk({"content": "Olá"}), chunk(finish_reason="stop"), done=False))
    finish = parts[-1]
    assert isinstance(finish, FinishPart) and finish.finish_reason == "stop"


# --- whole responses ----------------------------------------------------------------------


def completion(*choices: dict[str, Any], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {"id": "gen-1", "model": "m", "choices": list(choices)}
    if usage is not None:
        payload["usage"] = usage
    return payload


def message_choice(message: dict[str, Any], finish_reason: str = "stop", index: int = 0) -> dict[str, Any]:
    return {"index": index, "message": {"role": "assistant", **message}, "finish_reason": finish_reason}


# --- choices other than the first ------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_stream_ignores_choices_other_than_index_0(codec: OpenAIChatCodec) -> None:
    stream = body(
        chunk({"content": "Olá"}),
        chunk({"content": "Hello"}, index=1),
        chunk({"content": "!"}),
        chunk(finish_reason="length", index=1),
        chunk(finish_reason="stop"),
    )
    parts = decode(codec, stream)
    assert text_of(parts) == "Olá!"
    finish = parts[-1]
    assert isinstance(finish, FinishPart) and finish.finish_reason == "stop"


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_stream_reads_choice_0_listed_after_another(codec: OpenAIChatCodec) -> None:
    payload = {
        "id": "gen-1",
        "choices": [
            {"index": 1, "delta": {"content": "Hello"}, "finish_reason": None},
            {"index": 0, "delta": {"content": "Olá"}, "finish_reason": "stop"},
        ],
    }
    parts = decode(codec, body(json.dumps(payload)))
    assert text_of(parts) == "Olá"


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_response_ignores_choices_other_than_index_0(codec: OpenAIChatCodec) -> None:
    response = codec.parse_response(
        completion(
            message_choice({"content": "Hello"}, finish_reason="length", index=1),
            message_choice({"content": "Olá"}),
        )
    )
    assert response.content == [TextPart(text="Olá")]
    assert response.finish_reason == "stop"


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_response_refusal_is_text_marked_as_a_refusal(codec: OpenAIChatCodec) -> None:
    refusal = "I can't help with that."
    response = codec.parse_response(completion(message_choice({"content": None, "refusal": refusal})))
    assert response.content == [TextPart(text=refusal, provider_metadata={codec.name: {"refusal": True}})]
    assert response.finish_reason == "stop"


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_streamed_refusal_is_text_marked_as_a_refusal(codec: OpenAIChatCodec) -> None:
    stream = body(
        chunk({"role": "assistant", "content": None, "refusal": ""}),
        chunk({"refusal": "I can't "}),
        chunk({"refusal": "help with that."}),
        chunk(finish_reason="content_filter"),
    )
    parts = decode(codec, stream)
    assert text_of(parts) == "I can't help with that."
    marked = {codec.name: {"refusal": True}}
    starts = [part for part in parts if isinstance(part, TextStartPart)]
    assert [start.provider_metadata for start in starts] == [marked]
    assert [part.id for part in parts if isinstance(part, TextEndPart)] == [starts[0].id]
    finish = parts[-1]
    assert isinstance(finish, FinishPart) and finish.finish_reason == "content_filter"
    builder = StepBuilder()
    for part in parts:
        builder.add(part)
    assert builder.content() == [TextPart(text="I can't help with that.", provider_metadata=marked)]


# --- content as typed parts (Mistral, Magistral) ------------------------------------------------

MAGISTRAL_CONTENT: list[dict[str, Any]] = [
    {
        "type": "thinking",
        "thinking": [{"type": "text", "text": "The user greets; "}, {"type": "text", "text": "answer."}],
    },
    {"type": "text", "text": "Olá!"},
]


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_response_content_as_typed_parts(codec: OpenAIChatCodec) -> None:
    response = codec.parse_response(completion(message_choice({"content": MAGISTRAL_CONTENT})))
    assert response.content == [ReasoningPart(text="The user greets; answer."), TextPart(text="Olá!")]


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_response_content_as_text_parts_only(codec: OpenAIChatCodec) -> None:
    content = [{"type": "text", "text": "Olá"}, {"type": "text", "text": "!"}]
    response = codec.parse_response(completion(message_choice({"content": content})))
    assert response.content == [TextPart(text="Olá!")]


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_streamed_content_as_typed_parts(codec: OpenAIChatCodec) -> None:
    stream = body(
        chunk(
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Greet"}]}],
            }
        ),
        chunk({"content": [{"type": "thinking", "thinking": "ing."}]}),
        chunk({"content": [{"type": "text", "text": "Olá"}]}),
        chunk({"content": "!"}),
        chunk(finish_reason="stop"),
    )
    parts = decode(codec, stream)
    assert text_of(parts) == "Olá!"
    assert "".join(part.delta for part in parts if isinstance(part, ReasoningDeltaPart)) == "Greeting."
    builder = StepBuilder()
    for part in parts:
        builder.add(part)
    assert builder.content() == [ReasoningPart(text="Greeting."), TextPart(text="Olá!")]


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_unknown_typed_parts_are_skipped(codec: OpenAIChatCodec) -> None:
    content = [{"type": "reference", "reference_ids": [1]}, {"type": "text", "text": "Olá"}]
    response = codec.parse_response(completion(message_choice({"content": content})))
    assert response.content == [TextPart(text="Olá")]


# --- reasoning_details on OpenAI-compatible servers ----------------------------------------------

DETAILS: list[dict[str, Any]] = [
    {"type": "reasoning.text", "text": "Think.", "format": "unknown", "index": 0},
]


def test_openaicompat_reads_reasoning_details_like_openrouter() -> None:
    message = {"content": "Olá", "reasoning": "Think.", "reasoning_details": DETAILS}
    compat = openaicompat.Codec("m").parse_response(completion(message_choice(message)))
    router = openrouter.Codec("m").parse_response(completion(message_choice(message)))
    assert compat.content == [
        ReasoningPart(text="Think.", provider_metadata={"openaicompat": {"reasoning_details": DETAILS}}),
        TextPart(text="Olá"),
    ]
    assert [part.text for part in compat.content] == [part.text for part in router.content]


def test_openaicompat_streams_reasoning_details_like_openrouter() -> None:
    stream = body(
        chunk({"reasoning": "Thi", "reasoning_details": [{**DETAILS[0], "text": "Thi"}]}),
        chunk({"reasoning": "nk.", "reasoning_details": [{**DETAILS[0], "text": "nk."}]}),
        chunk({"content": "Olá"}),
        chunk(finish_reason="stop"),
    )
    contents: dict[str, list[Any]] = {}
    for codec in (openaicompat.Codec("m"), openrouter.Codec("m")):
        builder = StepBuilder()
        for part in decode(codec, stream):
            builder.add(part)
        contents[codec.name] = builder.content()
    reasoning = contents["openaicompat"][0]
    assert isinstance(reasoning, ReasoningPart) and reasoning.text == "Think."
    assert (
        reasoning.provider_metadata["openaicompat"]
        == contents["openrouter"][0].provider_metadata["openrouter"]
    )


# --- usage ---------------------------------------------------------------------------------------

# Recorded usage blocks (shared cassettes-v041), one per provider.
OPENAI_USAGE = {  # TestOpenAICommon/openai-gpt-5/simple
    "prompt_tokens": 19,
    "completion_tokens": 75,
    "total_tokens": 94,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 64,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
COMPAT_USAGE = {  # TestOpenAICompatibleThinking (xAI grok)
    "prompt_tokens": 331,
    "completion_tokens": 11,
    "total_tokens": 674,
    "prompt_tokens_details": {"text_tokens": 331, "audio_tokens": 0, "image_tokens": 0, "cached_tokens": 283},
    "completion_tokens_details": {
        "reasoning_tokens": 332,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
    "num_sources_used": 0,
    "cost_in_usd_ticks": 2071250,
}
OPENROUTER_USAGE = {  # TestOpenRouterCommon
    "prompt_tokens": 125,
    "completion_tokens": 97,
    "total_tokens": 222,
    "cost": 0.00023492,
    "is_byok": False,
    "prompt_tokens_details": {
        "cached_tokens": 64,
        "cache_write_tokens": 0,
        "audio_tokens": 0,
        "video_tokens": 0,
    },
    "cost_details": {
        "upstream_inference_cost": 0.00023492,
        "upstream_inference_prompt_cost": 0.00004092,
        "upstream_inference_completions_cost": 0.000194,
    },
    "completion_tokens_details": {"reasoning_tokens": 56, "image_tokens": 0, "audio_tokens": 0},
}
VERCEL_USAGE = {  # TestVercelThinking
    "prompt_tokens": 109,
    "completion_tokens": 368,
    "total_tokens": 477,
    "cost": 0.00637625,
    "is_byok": False,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0, "video_tokens": 0},
    "cost_details": {
        "upstream_inference_cost": None,
        "upstream_inference_prompt_cost": 0,
        "upstream_inference_completions_cost": 0,
    },
    "completion_tokens_details": {"reasoning_tokens": 256, "image_tokens": 0},
}
USAGE_CASES = [
    (
        openai.Codec("gpt-5"),
        OPENAI_USAGE,
        Usage(input_tokens=19, output_tokens=75, total_tokens=94, reasoning_tokens=64),
    ),
    (
        openaicompat.Codec("grok-4"),
        COMPAT_USAGE,
        Usage(
            input_tokens=48, output_tokens=11, total_tokens=674, reasoning_tokens=332, cache_read_tokens=283
        ),
    ),
    (
        openrouter.Codec("m"),
        OPENROUTER_USAGE,
        Usage(input_tokens=61, output_tokens=97, total_tokens=222, reasoning_tokens=56, cache_read_tokens=64),
    ),
    (
        vercel.Codec("m"),
        VERCEL_USAGE,
        Usage(input_tokens=109, output_tokens=368, total_tokens=477, reasoning_tokens=256),
    ),
]


@pytest.mark.parametrize(("codec", "usage", "expected"), USAGE_CASES, ids=CODEC_IDS)
def test_recorded_usage_means_the_same_everywhere(
    codec: OpenAIChatCodec, usage: dict[str, Any], expected: Usage
) -> None:
    response = codec.parse_response(completion(message_choice({"content": "Olá"}), usage=usage))
    assert response.usage == expected
    stream = body(
        chunk({"content": "Olá"}), chunk(finish_reason="stop"), json.dumps({"choices": [], "usage": usage})
    )
    finish = decode(codec, stream)[-1]
    assert isinstance(finish, FinishPart) and finish.usage == expected


@pytest.mark.parametrize("codec", CODECS, ids=CODEC_IDS)
def test_cached_input_is_subtracted_and_cache_writes_are_separate(codec: OpenAIChatCodec) -> None:
    usage = {
        "prompt_tokens": 1000,
        "completion_tokens": 10,
        "prompt_tokens_details": {"cached_tokens": 900, "cache_write_tokens": 50},
    }
    response = codec.parse_response(completion(message_choice({"content": "Olá"}), usage=usage))
    assert response.usage == Usage(
        input_tokens=100, output_tokens=10, total_tokens=1010, cache_read_tokens=900, cache_creation_tokens=50
    )


# --- OpenAI reasoning-model rules ---------------------------------------------------------------


def reasoning_rules_applied(codec: OpenAIChatCodec) -> bool:
    """Whether the body takes ``max_completion_tokens`` and drops ``temperature`` (with a warning)."""
    call = Call(
        prompt=[Message.system("Be brief."), Message.user("hi")], temperature=0.5, max_output_tokens=100
    )
    wire = codec.build_request(call, stream=False)
    applied = "max_completion_tokens" in wire.body
    assert applied == ("max_tokens" not in wire.body)
    assert applied == ("temperature" not in wire.body)
    assert applied == bool(wire.warnings)
    # fantasy v0.41.2 sends the system prompt as "system" to reasoning models too (openai-gpt-5).
    assert wire.body["messages"][0]["role"] == "system"
    return applied


@pytest.mark.parametrize(
    "model",
    ["o1", "o1-mini", "o3", "o3-mini", "o4-mini", "o4-mini-2025-04-16", "gpt-5", "gpt-5-mini", "gpt-5-nano"],
)
def test_openai_reasoning_models_follow_the_rules(model: str) -> None:
    assert reasoning_rules_applied(openai.Codec(model))


@pytest.mark.parametrize(
    "model", ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-5-chat-latest", "omni-moderation-latest"]
)
def test_other_openai_models_keep_their_settings(model: str) -> None:
    assert not reasoning_rules_applied(openai.Codec(model))


@pytest.mark.parametrize(
    "codec",
    [
        openrouter.Codec("openai/gpt-4o"),
        openrouter.Codec("openai/gpt-oss-120b"),
        vercel.Codec("openai/gpt-4o"),
        openaicompat.Codec("openhermes"),
        openaicompat.Codec("o3-mini"),
        openaicompat.Codec("openai/gpt-oss-20b"),
    ],
    ids=lambda codec: f"{codec.name}:{codec.model_id}",
)
def test_ids_starting_with_o_are_not_reasoning_models(codec: OpenAIChatCodec) -> None:
    assert not reasoning_rules_applied(codec)


@pytest.mark.parametrize(
    "codec", [openrouter.Codec("openai/gpt-5"), vercel.Codec("openai/gpt-5")], ids=["openrouter", "vercel"]
)
def test_gateways_apply_the_rules_to_openai_reasoning_models(codec: OpenAIChatCodec) -> None:
    # Recorded: openrouter/gpt-5 (older set) and TestVercelCommon/gpt-5 send max_completion_tokens.
    assert reasoning_rules_applied(codec)


# --- logprobs -------------------------------------------------------------------------------------

TOKENS: list[dict[str, Any]] = [
    {"token": "Ol", "logprob": -0.1, "bytes": [79, 108], "top_logprobs": [{"token": "Ol", "logprob": -0.1}]},
    {"token": "á", "logprob": -0.2, "bytes": [195, 161], "top_logprobs": [{"token": "á", "logprob": -0.2}]},
]


def test_response_logprobs_land_in_provider_metadata() -> None:
    choice = message_choice({"content": "Olá"})
    choice["logprobs"] = {"content": TOKENS, "refusal": None}
    response = openai.Codec("gpt-4o").parse_response(completion(choice))
    assert response.provider_metadata["openai"]["logprobs"] == TOKENS


def test_streamed_logprobs_land_in_the_finish_metadata() -> None:
    def with_logprobs(text: str, tokens: list[dict[str, Any]]) -> str:
        payload = json.loads(chunk({"content": text}))
        payload["choices"][0]["logprobs"] = {"content": tokens}
        return json.dumps(payload)

    stream = body(
        with_logprobs("Ol", TOKENS[:1]), with_logprobs("á", TOKENS[1:]), chunk(finish_reason="stop")
    )
    finish = decode(openai.Codec("gpt-4o"), stream)[-1]
    assert isinstance(finish, FinishPart)
    assert finish.provider_metadata["openai"]["logprobs"] == TOKENS


def test_no_logprobs_no_metadata() -> None:
    response = openai.Codec("gpt-4o").parse_response(completion(message_choice({"content": "Olá"})))
    assert "logprobs" not in response.provider_metadata.get("openai", {})

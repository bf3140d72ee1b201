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

from reverie import FinishPart, ProviderError, TextDeltaPart
from reverie._http.framing import SSE_WITH_DONE
from reverie._http.sse import SSEDecoder
from reverie._parts import ModelStreamPart
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

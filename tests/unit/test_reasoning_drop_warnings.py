"""Every codec warns when it drops reasoning bound to another provider, and only then.

A history may hold reasoning another provider produced (a fallback model, a model switched
by ``prepare_step``). Each codec sends back what its API can read; reasoning bound to
another provider (a signature, encrypted content, reasoning details) that it cannot read
is dropped with a ``reasoning`` warning. Reasoning it sends back, and its own reasoning
that its API takes no part of by design (Gemini's thoughts, Responses reasoning items),
give no warning.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from reverie import Call, Message, ReasoningPart, TextPart, ToolCallPart, ToolResultPart
from reverie._codec import WireRequest, reasoning_drop_warning
from reverie._wire_cache import WireCache, WireStore, message_state
from reverie.providers import anthropic, google, openai, openaicompat, openrouter, vercel
from reverie.providers.azure import Provider as AzureProvider
from reverie.providers.bedrock.codec import BedrockCodec
from reverie.providers.vertex.codec import VertexAnthropicCodec, VertexGeminiCodec

# Reasoning as each provider leaves it on a step; each carries a marker to look for in bodies.
ANTHROPIC = ReasoningPart(text="claude-thinks", provider_metadata={"anthropic": {"signature": "claude-sig"}})
ANTHROPIC_REDACTED = ReasoningPart(
    text="", provider_metadata={"anthropic": {"redacted_data": "claude-redacted"}}
)
RESPONSES = ReasoningPart(
    text="", provider_metadata={"openai": {"item_id": "rs_1", "encrypted_content": "openai-encrypted"}}
)
GEMINI = ReasoningPart(
    text="gemini-thinks", provider_metadata={"google": {"thought_signature": "gemini-sig"}}
)
OPENROUTER = ReasoningPart(
    text="router-thinks",
    provider_metadata={
        "openrouter": {"reasoning_details": [{"type": "reasoning.text", "text": "router-thinks", "index": 0}]}
    },
)
VERCEL = ReasoningPart(
    text="vercel-thinks",
    provider_metadata={
        "vercel": {"reasoning_details": [{"type": "reasoning.text", "text": "vercel-thinks", "index": 0}]}
    },
)
COMPAT_ENCRYPTED = ReasoningPart(
    text="",
    provider_metadata={
        "openaicompat": {"reasoning_details": [{"type": "reasoning.encrypted", "data": "compat-encrypted"}]}
    },
)
PLAIN = ReasoningPart(text="plain-thinks")
EMPTY = ReasoningPart(text="")

MARKERS = {
    id(ANTHROPIC): "claude-sig",
    id(ANTHROPIC_REDACTED): "claude-redacted",
    id(RESPONSES): "openai-encrypted",
    id(GEMINI): "gemini-sig",
    id(OPENROUTER): "router-thinks",
    id(VERCEL): "vercel-thinks",
    id(COMPAT_ENCRYPTED): "compat-encrypted",
    id(PLAIN): "plain-thinks",
}

CodecFactory = Callable[[], Any]
CODECS: dict[str, CodecFactory] = {
    "openai": lambda: openai.Codec("gpt-4o"),
    "azure": lambda: AzureProvider(base_url="https://r.openai.azure.com", api_key="k").codec("gpt-4o"),
    "openrouter": lambda: openrouter.Codec("anthropic/claude-sonnet-4"),
    "vercel": lambda: vercel.Codec("anthropic/claude-sonnet-4"),
    "openaicompat": lambda: openaicompat.Codec("llama3"),
    "responses": lambda: openai.ResponsesCodec("gpt-5"),
    "azure-responses": lambda: AzureProvider(
        base_url="https://r.openai.azure.com", api_key="k", api="responses"
    ).codec("gpt-5"),
    "google": lambda: google.Codec("gemini-2.5-flash"),
    "vertex-gemini": lambda: VertexGeminiCodec("gemini-2.5-flash", project="p", location="us-central1"),
    "anthropic": lambda: anthropic.Codec("claude-sonnet-4-20250514"),
    "bedrock": lambda: BedrockCodec("anthropic.claude-sonnet-4-20250514-v1:0"),
    "vertex-anthropic": lambda: VertexAnthropicCodec("claude-sonnet-4", project="p", location="us-east5"),
}

# (codec, reasoning part, whether the part goes back, whether a warning is expected)
SENT, DROPPED = True, False
WARNS, SILENT = True, False
CASES: list[tuple[str, ReasoningPart, bool, bool]] = [
    # Plain chat completions take no reasoning back and give none: any reasoning is another's.
    *[
        (codec, part, DROPPED, WARNS)
        for codec in ("openai", "azure")
        for part in (ANTHROPIC, ANTHROPIC_REDACTED, RESPONSES, GEMINI, OPENROUTER, PLAIN)
    ],
    # The gateways send back their own reasoning details; their text-only reasoning has none.
    *[
        (codec, part, DROPPED, WARNS)
        for codec in ("openrouter", "vercel")
        for part in (ANTHROPIC, ANTHROPIC_REDACTED, RESPONSES, GEMINI)
    ],
    ("openrouter", OPENROUTER, SENT, SILENT),
    ("openrouter", VERCEL, DROPPED, WARNS),
    ("openrouter", PLAIN, DROPPED, SILENT),
    ("vercel", VERCEL, SENT, SILENT),
    ("vercel", OPENROUTER, DROPPED, WARNS),
    ("vercel", PLAIN, DROPPED, SILENT),
    # OpenAI-compatible servers get any reasoning text back; state without text is lost.
    ("openaicompat", ANTHROPIC, DROPPED, SILENT),  # its text goes back (checked below)
    ("openaicompat", PLAIN, SENT, SILENT),
    ("openaicompat", OPENROUTER, SENT, SILENT),
    ("openaicompat", ANTHROPIC_REDACTED, DROPPED, WARNS),
    ("openaicompat", RESPONSES, DROPPED, WARNS),
    ("openaicompat", COMPAT_ENCRYPTED, DROPPED, SILENT),
    # The Responses API takes no reasoning items back, its own included.
    *[
        (codec, part, DROPPED, WARNS)
        for codec in ("responses", "azure-responses")
        for part in (ANTHROPIC, ANTHROPIC_REDACTED, GEMINI, OPENROUTER, PLAIN)
    ],
    ("responses", RESPONSES, DROPPED, SILENT),
    ("azure-responses", RESPONSES, DROPPED, SILENT),
    # Gemini takes no thoughts back, its own (signed or not) included.
    *[
        (codec, part, DROPPED, WARNS)
        for codec in ("google", "vertex-gemini")
        for part in (ANTHROPIC, ANTHROPIC_REDACTED, RESPONSES, OPENROUTER)
    ],
    *[(codec, part, DROPPED, SILENT) for codec in ("google", "vertex-gemini") for part in (GEMINI, PLAIN)],
    # Anthropic (also on Bedrock and Vertex) sends back signed and redacted thinking only.
    *[
        (codec, part, SENT, SILENT)
        for codec in ("anthropic", "bedrock", "vertex-anthropic")
        for part in (ANTHROPIC, ANTHROPIC_REDACTED)
    ],
    *[
        (codec, part, DROPPED, WARNS)
        for codec in ("anthropic", "bedrock", "vertex-anthropic")
        for part in (RESPONSES, GEMINI, OPENROUTER, PLAIN)
    ],
]


def history(*reasoning: ReasoningPart) -> list[Message]:
    """A tool step whose assistant message starts with ``reasoning``, then its tool result."""
    call = ToolCallPart(tool_call_id="call_1", tool_name="weather", input='{"location":"Rome"}')
    return [
        Message.user("What's the weather in Rome?"),
        Message(role="assistant", content=[*reasoning, TextPart(text="Checking."), call]),
        Message(
            role="tool", content=[ToolResultPart(tool_call_id="call_1", tool_name="weather", output="30 C")]
        ),
    ]


def reasoning_warnings(request: WireRequest) -> list[str]:
    return [warning.message for warning in request.warnings if warning.setting == "reasoning"]


@pytest.mark.parametrize(
    ("codec_name", "part", "sent", "warns"),
    [
        pytest.param(codec, part, sent, warns, id=f"{codec}-{MARKERS[id(part)]}")
        for codec, part, sent, warns in CASES
    ],
)
def test_dropped_reasoning_warns_only_when_bound_elsewhere(
    codec_name: str, part: ReasoningPart, sent: bool, warns: bool
) -> None:
    request = CODECS[codec_name]().build_request(Call(prompt=history(part)), stream=False)
    body = json.dumps(request.body)
    assert (MARKERS[id(part)] in body) is sent
    warnings = reasoning_warnings(request)
    assert len(warnings) == (1 if warns else 0)


@pytest.mark.parametrize("codec_name", sorted(CODECS))
def test_no_reasoning_no_warning(codec_name: str) -> None:
    for prompt in (history(), history(EMPTY)):
        request = CODECS[codec_name]().build_request(Call(prompt=prompt), stream=True)
        assert reasoning_warnings(request) == []


def test_openaicompat_sends_another_providers_reasoning_text() -> None:
    body = openaicompat.Codec("llama3").build_request(Call(prompt=history(ANTHROPIC)), stream=False).body
    assert body["messages"][1]["reasoning_content"] == "claude-thinks"
    assert "claude-sig" not in json.dumps(body)


@pytest.mark.parametrize(
    ("codec_name", "message"),
    [
        (
            "openai",
            "reasoning bound to anthropic, google is not sent back: openai chat completions cannot read it",
        ),
        ("openrouter", "reasoning bound to anthropic, google is not sent back: openrouter cannot read it"),
        ("vercel", "reasoning bound to anthropic, google is not sent back: vercel cannot read it"),
        ("openaicompat", "reasoning bound to anthropic is not sent back: openaicompat cannot read it"),
        (
            "responses",
            "reasoning bound to anthropic, google is not sent back: the Responses API cannot read it",
        ),
        ("google", "reasoning bound to anthropic is not sent back: google cannot read it"),
        ("vertex-gemini", "reasoning bound to anthropic is not sent back: google cannot read it"),
    ],
)
def test_one_warning_per_message_names_the_providers(codec_name: str, message: str) -> None:
    prompt = history(ANTHROPIC, ANTHROPIC_REDACTED, GEMINI)
    request = CODECS[codec_name]().build_request(Call(prompt=prompt), stream=False)
    assert reasoning_warnings(request) == [message]


@pytest.mark.parametrize("codec_name", ["openai", "responses"])
def test_plain_reasoning_text_warning(codec_name: str) -> None:
    request = CODECS[codec_name]().build_request(Call(prompt=history(PLAIN)), stream=False)
    [message] = reasoning_warnings(request)
    assert message.startswith("reasoning text is not sent back: ")


@pytest.mark.parametrize("codec_name", ["openai", "openrouter", "openaicompat", "responses", "google"])
def test_the_warning_is_given_again_when_a_run_reuses_the_encoded_message(codec_name: str) -> None:
    codec = CODECS[codec_name]()
    cache = WireCache(messages=WireStore(message_state), tools=WireStore())
    prompt = history(ANTHROPIC_REDACTED)
    first = codec.build_request(Call(prompt=prompt, wire_cache=cache), stream=False)
    second = codec.build_request(Call(prompt=prompt, wire_cache=cache), stream=False)
    assert reasoning_warnings(first) == reasoning_warnings(second)
    assert len(reasoning_warnings(second)) == 1


def test_the_anthropic_codec_warns_of_state_without_text() -> None:
    request = anthropic.Codec("claude").build_request(Call(prompt=history(RESPONSES)), stream=False)
    assert reasoning_warnings(request) == ["reasoning without an Anthropic signature is not sent back"]


def test_reasoning_drop_warning_rules() -> None:
    parts: list[Any] = [GEMINI, TextPart(text="x")]
    assert reasoning_drop_warning(parts, reader="r", own=("google",)) is None
    assert reasoning_drop_warning([PLAIN], reader="r", plain_is_own=True) is None
    assert reasoning_drop_warning([EMPTY], reader="r") is None
    assert reasoning_drop_warning([ANTHROPIC], reader="r", sent=lambda part: True) is None
    warning = reasoning_drop_warning([ANTHROPIC, PLAIN], reader="r", plain_is_own=False)
    assert warning is not None
    assert warning.message == "reasoning bound to anthropic is not sent back: r cannot read it"
    plain = reasoning_drop_warning([PLAIN], reader="r")
    assert plain is not None
    assert plain.message == "reasoning text is not sent back: r takes none"

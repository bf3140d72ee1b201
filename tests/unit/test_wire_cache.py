"""The encode caches: tool sets resolved once, and wire forms reused only while they are right.

Every codec must send the same body whether it encodes a conversation afresh or reuses the
wire forms of a run's ``WireCache``, including where turns are merged (Anthropic, Gemini)
and after earlier bodies were built from the same kept forms. ``message_state`` must see
each kind of edit; ``check_tools`` must stay one pass over thousands of tools.
"""

from __future__ import annotations

import copy
import json
import operator
from collections.abc import Callable
from typing import Any, cast

import pytest

from reverie import (
    Agent,
    Call,
    FilePart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolResultPart,
    UserError,
    _json,
    tool,
)
from reverie._codec import Codec
from reverie._content import CallWarning
from reverie._tools.toolset import ToolSet, check_tools
from reverie._wire_cache import WireCache, WireForm, WireStore, encode_body, message_state
from reverie.providers import openai, openaicompat, openrouter, vercel
from reverie.providers.anthropic import web_search
from reverie.providers.anthropic.codec import AnthropicCodec
from reverie.providers.bedrock.codec import BedrockCodec
from reverie.providers.google.codec import GeminiCodec
from reverie.providers.vertex.codec import VertexAnthropicCodec, VertexGeminiCodec
from reverie.testing import MockModel


def cache_marker() -> dict[str, dict[str, Any]]:
    return {"anthropic": {"cache_control": {"type": "ephemeral"}}}


IMAGE = FilePart(data=b"\x89PNG", media_type="image/png", filename="shot.png")
WEATHER = ToolDefinition(
    name="weather",
    description="The weather in a city.",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    provider_options=cache_marker(),
)
CLOCK = ToolDefinition(name="clock", description="The time.", parameters={"type": "object", "properties": {}})


def conversation() -> list[list[Message]]:
    """The prompts of a five-step run: each step's prompt extends the one before."""
    first = [
        Message.system("Be brief."),
        Message(role="user", content=[TextPart(text="Weather in Rome?")], provider_options=cache_marker()),
    ]
    call = ToolCallPart(
        tool_call_id="call_1",
        tool_name="weather",
        input='{"city": "Rome"}',
        provider_metadata={"google": {"thought_signature": "c2ln"}},
    )
    step_one = [
        Message(
            role="assistant",
            content=[
                ReasoningPart(text="Look it up.", provider_metadata={"anthropic": {"signature": "sig"}}),
                TextPart(text="Checking."),
                call,
            ],
        ),
        Message(
            role="tool",
            content=[ToolResultPart(tool_call_id="call_1", tool_name="weather", output="sunny", media=IMAGE)],
        ),
    ]
    # Consecutive user-side turns: Anthropic and Gemini merge them into one.
    step_two = [
        Message(
            role="tool",
            content=[ToolResultPart(tool_call_id="call_2", tool_name="clock", output="noon", is_error=True)],
        ),
        Message.user("And tomorrow?"),
        Message(role="user", content=[TextPart(text="In Celsius.")], provider_options=cache_marker()),
    ]
    step_three = [Message.assistant("Warm."), Message.assistant("Very warm.")]
    step_four = [Message.user("Thanks.")]
    prompts = [first]
    for new in (step_one, step_two, step_three, step_four):
        prompts.append([*prompts[-1], *new])
    return prompts


CODECS: dict[str, Callable[[], Codec]] = {
    "openai": lambda: openai.Codec("gpt-4o"),
    "openai-reasoning": lambda: openai.Codec("o3-mini"),
    "openai-responses": lambda: openai.ResponsesCodec("gpt-4o"),
    "openaicompat": lambda: openaicompat.Codec("m"),
    "openrouter": lambda: openrouter.Codec("anthropic/claude-sonnet-4"),
    "vercel": lambda: vercel.Codec("google/gemini-2.5-flash"),
    "anthropic": lambda: AnthropicCodec("claude-sonnet-4"),
    "bedrock": lambda: BedrockCodec("anthropic.claude-sonnet-4"),
    "vertex-anthropic": lambda: VertexAnthropicCodec("claude-sonnet-4", project="p", location="l"),
    "google": lambda: GeminiCodec("gemini-2.5-flash"),
    "vertex-gemini": lambda: VertexGeminiCodec("gemini-2.5-flash", project="p", location="l"),
}


def new_cache() -> WireCache:
    return WireCache(messages=WireStore(message_state), tools=WireStore())


def request(codec: Codec, prompt: list[Message], cache: WireCache | None) -> tuple[Any, list[CallWarning]]:
    call = Call(prompt=list(prompt), tools=[WEATHER, CLOCK], wire_cache=cache)
    wire = codec.build_request(call, stream=False)
    return json.loads(json.dumps(wire.body)), wire.warnings


@pytest.mark.parametrize("name", sorted(CODECS))
def test_cached_bodies_equal_fresh_ones_and_kept_forms_stay_unchanged(name: str) -> None:
    codec = CODECS[name]()
    cache = new_cache()
    sent: list[tuple[Any, dict[str, Any]]] = []  # each cached body, and its JSON when it was built
    for prompt in conversation():
        fresh, fresh_warnings = request(codec, prompt, None)
        call = Call(prompt=list(prompt), tools=[WEATHER, CLOCK], wire_cache=cache)
        wire = codec.build_request(call, stream=False)
        assert json.loads(json.dumps(wire.body)) == fresh
        assert wire.warnings == fresh_warnings
        sent.append((wire.body, copy.deepcopy(wire.body)))
    # Later requests merged turns from kept wire forms: no earlier body changed under them.
    for body, as_built in sent:
        assert body == as_built


@pytest.mark.parametrize("name", sorted(CODECS))
def test_bodies_from_kept_texts_are_the_bytes_of_fresh_ones(name: str) -> None:
    codec = CODECS[name]()
    cache = new_cache()
    for prompt in conversation():
        fresh = codec.build_request(Call(prompt=list(prompt), tools=[WEATHER, CLOCK]), stream=False)
        call = Call(prompt=list(prompt), tools=[WEATHER, CLOCK], wire_cache=cache)
        cached = codec.build_request(call, stream=False)
        expected = _json.encode(fresh.body)
        assert encode_body(cached.body) == expected
        assert encode_body(cached.body) == expected  # the second time from the kept texts
        assert encode_body(fresh.body) == expected


def test_a_kept_form_is_a_dict_whose_text_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    store = WireStore()

    def encode(name: str, warnings: list[CallWarning]) -> dict[str, Any]:
        return {"name": name, "parameters": {"type": "object", "note": "é \ud800"}}

    kept = cast(list[WireForm], store.encode_each("tools", ["a", "b"], encode, []))
    assert all(type(form) is WireForm and not hasattr(form, "text") for form in kept)
    assert kept == [encode("a", []), encode("b", [])]
    body = {"model": "m", "tools": [*kept, {"plain": [1, None, 2.5]}], "tool_choice": "auto", "n": 0}
    expected = _json.encode(json.loads(json.dumps(body)))
    encoded: list[Any] = []
    encode_text = _json.encode_text

    def counting(value: Any) -> str:
        encoded.append(value)
        return encode_text(value)

    monkeypatch.setattr(_json, "encode_text", counting)
    assert encode_body(body) == expected
    assert kept[0].text == _json.encode_text(encode("a", []))
    encoded.clear()
    assert encode_body(body) == expected
    assert not any(type(value) is WireForm for value in encoded)  # written from their texts
    # Keys JSON converts, an empty list, a list of kept forms alone: the same bytes as ever.
    others: list[dict[Any, Any]] = [{1: kept, "x": []}, {"tools": kept}, {"tools": []}, {}]
    for other in others:
        assert encode_body(other) == _json.encode(other)


def test_a_kept_form_that_cannot_be_encoded_is_a_user_error() -> None:
    [form] = WireStore().encode_each("tools", ["a"], lambda name, warnings: {"value": object()}, [])
    with pytest.raises(UserError, match="cannot be encoded as JSON"):
        encode_body({"tools": [form]})


@pytest.mark.parametrize("name", ["anthropic", "google", "openai"])
def test_an_edited_message_is_encoded_again(name: str) -> None:
    codec = CODECS[name]()
    cache = new_cache()
    prompt = conversation()[2]
    request(codec, prompt, cache)
    user = prompt[1]
    edits: list[Callable[[], None]] = [
        lambda: setattr(user.content[0], "text", "Weather in Paris?"),
        lambda: user.content.append(TextPart(text="Quickly.")),
        lambda: user.provider_options.clear(),  # a dict edited in place
        lambda: setattr(prompt[3].content[0], "output", "rainy"),
        lambda: setattr(prompt[2].content[2], "input", '{"city": "Paris"}'),
    ]
    for edit in edits:
        edit()
        assert request(codec, prompt, cache) == request(codec, prompt, None)


def test_an_anthropic_provider_tool_is_cached_like_a_function_tool() -> None:
    codec = AnthropicCodec("claude-sonnet-4")
    cache = new_cache()
    search = web_search(max_uses=2)
    call = Call(prompt=[Message.user("hi")], tools=[WEATHER, search], wire_cache=cache)
    first = codec.build_request(call, stream=False).body["tools"]
    second = codec.build_request(call, stream=False).body["tools"]
    fresh = codec.build_request(Call(prompt=call.prompt, tools=call.tools), stream=False).body["tools"]
    assert second == first == fresh
    assert all(map(operator.is_, first, second))  # reused, not rebuilt


def test_message_state_sees_every_kind_of_edit() -> None:
    media = FilePart(data=b"a", media_type="image/png")
    result = ToolResultPart(tool_call_id="1", tool_name="t", output="x", media=media)
    message = Message(role="tool", content=[result], provider_options={"anthropic": {"k": [1]}})
    store = WireStore(message_state)
    encoded: list[int] = []

    def encode(item: Message, warnings: list[CallWarning]) -> int:
        encoded.append(1)
        return len(encoded)

    def send() -> int:
        return store.encode_each("ns", [message], encode, [])[0]

    assert send() == send() == 1
    edits: list[Callable[[], None]] = [
        lambda: setattr(result, "output", "y"),
        lambda: setattr(media, "data", b"b"),  # a part inside a part
        lambda: message.provider_options["anthropic"]["k"].append(2),  # a list inside a dict
        lambda: setattr(message, "role", "user"),
        lambda: message.content.append(TextPart(text="more")),
        lambda: message.content.__setitem__(1, ReasoningPart(text="more")),  # same fields, other type
    ]
    for number, edit in enumerate(edits, start=2):
        edit()
        assert send() == number
        assert send() == number  # and kept again


def test_a_store_without_a_check_trusts_identity_and_replays_warnings() -> None:
    store = WireStore()
    message = Message.user("hi")
    calls: list[Message] = []

    def encode(item: Message, warnings: list[CallWarning]) -> str:
        calls.append(item)
        warnings.append(CallWarning(setting="s", message=item.text))
        return item.text

    for _ in range(3):
        warnings: list[CallWarning] = []
        assert store.encode_each("ns", [message], encode, warnings) == ["hi"]
        assert warnings == [CallWarning(setting="s", message="hi")]
    assert calls == [message]
    store.encode_each("other", [message], encode, [])  # another namespace encodes on its own
    assert calls == [message, message]


def test_a_store_lets_go_of_items_no_request_sends_any_more() -> None:
    store = WireStore()
    kept = Message.user("kept")
    encoded: list[str] = []

    def encode(item: Message, warnings: list[CallWarning]) -> str:
        encoded.append(item.text)
        return item.text

    for number in range(200):
        store.encode_each("ns", [kept, Message.user(str(number))], encode, [])
    assert encoded.count("kept") == 1
    entries = store._namespaces["ns"]  # pyright: ignore[reportPrivateUsage]
    assert len(entries) <= 2 * 2 + 64 + 1


def make_tool(name: str) -> Any:
    def function(x: int) -> int:
        return x

    return tool(name=name)(function)


def renamed(base: Any, name: str) -> Any:
    """A copy of a ``@tool`` under another name (making thousands afresh would build as many schemas)."""
    twin = copy.copy(base)
    twin.name = name
    return twin


def test_five_thousand_tools_are_checked_and_a_duplicate_is_named() -> None:
    base = make_tool("base")
    tools = [renamed(base, f"tool_{number}") for number in range(5000)]
    assert len(check_tools(tools)) == 5000
    tools.insert(1234, renamed(base, "tool_4321"))
    with pytest.raises(UserError, match=r"share the name\(s\) tool_4321$"):
        Agent(MockModel("hi"), tools=tools)


class Counted:
    """A ``Tool`` that counts how often its definition is asked for."""

    parallel = False

    def __init__(self, name: str, asked: list[str]) -> None:
        self.name = name
        self.asked = asked

    def definition(self) -> ToolDefinition:
        self.asked.append(self.name)
        return ToolDefinition(name=self.name, description="", parameters={"type": "object"})

    def validate(self, input_json: str) -> Any:
        return {}

    def call(self, arguments: Any) -> Any:
        return ""

    async def call_async(self, arguments: Any) -> Any:
        return ""


def test_a_tool_set_asks_for_definitions_once_and_knows_its_tools() -> None:
    asked: list[str] = []
    tools = [Counted("a", asked), Counted("b", asked)]
    tool_set = ToolSet(tools)
    assert asked == []  # not before first use
    assert [definition.name for definition in tool_set.definitions] == ["a", "b"]
    assert tool_set.definitions is tool_set.definitions
    assert asked == ["a", "b"]
    assert tool_set.made_from(list(tools))
    assert not tool_set.made_from([tools[0]])
    assert not tool_set.made_from([tools[1], tools[0]])
    assert not tool_set.made_from([tools[0], Counted("b", asked)])
    assert check_tools(tools) == tuple(tools)  # not made here, yet a Tool

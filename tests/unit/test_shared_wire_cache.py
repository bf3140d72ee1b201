"""Wire forms kept across an agent's runs, and request bodies spliced from kept JSON.

A conversation continued run after run sends its history again: each message is encoded
once while it lives and is unchanged (``SharedWireStore``), and its JSON is written once
(``reverie._wire_cache.WireForm``). Bodies must stay byte-for-byte what encoding them afresh
gives, an edit between runs must be sent, a message holding a file must not be kept past its
run, and an entry must go with its message.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from typing import Any

import httpx2
import pytest

from reverie import Agent, Call, FilePart, Message, TextPart, ToolDefinition, UserError
from reverie._content import CallWarning
from reverie._wire_cache import (
    RunMessages,
    SharedWireStore,
    WireCache,
    WireStore,
    _kept,  # pyright: ignore[reportPrivateUsage]
    encode_body,
    message_state,
)
from reverie.providers import openaicompat
from reverie.providers._openai_chat import encode as chat_encode


def plain(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def kept(*items: Any) -> list[Any]:
    """Items as a store keeps them (dicts become wire forms that keep their text)."""
    return [_kept(item) for item in items]


def test_a_spliced_body_is_the_plain_encoding_first_and_when_kept() -> None:
    items = [{"role": "user", "content": "é \U0001f600"}, {"a": 1}, {"b": [2]}, {"c": None}]
    messages = kept(*items)
    body = {"model": "m", "messages": messages, "temperature": 0.5, "tools": kept({"t": 1}), "end": True}
    expected = plain(body)
    assert encode_body(body) == expected  # the kept forms' JSON is made and kept now
    assert encode_body(body) == expected  # and spliced
    assert encode_body({"messages": kept()}) == b'{"messages":[]}'


def test_lone_surrogates_in_kept_forms_are_replaced() -> None:
    messages = kept({"text": "a \ud800 b"}, {"text": "c"})
    for _ in range(2):
        assert (
            encode_body({"messages": messages})
            == '{"messages":[{"text":"a \ufffd b"},{"text":"c"}]}'.encode()
        )


def test_an_unencodable_kept_form_is_a_user_error() -> None:
    with pytest.raises(UserError, match="cannot be encoded as JSON"):
        encode_body({"messages": kept({"when": object()})})


CODEC = openaicompat.Codec("m")
COUNTING = [True]


def request(
    store: SharedWireStore, token: object, prompt: list[Message], local: WireStore | None = None
) -> bytes:
    """A request of the run (or step) ``token``, whose own store is ``local`` (default: a new one)."""
    messages = RunMessages(store, WireStore() if local is None else local, token)
    cache = WireCache(messages=messages, tools=WireStore())
    call = Call(
        prompt=prompt, tools=[ToolDefinition(name="t", description="", parameters={})], wire_cache=cache
    )
    return encode_body(CODEC.build_request(call, stream=False).body)


def fresh(prompt: list[Message]) -> bytes:
    call = Call(prompt=prompt, tools=[ToolDefinition(name="t", description="", parameters={})])
    COUNTING[0] = False  # encoded afresh, to compare: not counted
    try:
        return encode_body(CODEC.build_request(call, stream=False).body)
    finally:
        COUNTING[0] = True


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    counts: Counter[int] = Counter()
    original = chat_encode._encode_message  # pyright: ignore[reportPrivateUsage]

    def encode_message(message: Message, *args: Any) -> Any:
        if COUNTING[0]:
            counts[id(message)] += 1
        return original(message, *args)

    monkeypatch.setattr(chat_encode, "_encode_message", encode_message)
    return counts


def test_runs_share_messages_and_check_each_once_per_run(counted: Counter[int]) -> None:
    store = SharedWireStore()
    history = [Message.user("one"), Message.assistant("two"), Message(role="user", content=[])]
    for run in range(3):
        token = object()
        prompt = [*history, Message.user(f"run {run}")]
        for _ in range(2):  # two steps of the run
            assert request(store, token, prompt) == fresh(prompt)
    assert [counted[id(message)] for message in history] == [1, 1, 1]


def test_a_message_edited_between_runs_is_sent_edited(counted: Counter[int]) -> None:
    store = SharedWireStore()
    history = [Message.user("one"), Message.assistant("two")]
    edits = [
        lambda: setattr(history[0].content[0], "text", "edited"),
        lambda: history[0].provider_options.update({"openaicompat": {"x": 1}}),
        lambda: history[1].content.append(TextPart(text="more")),
        lambda: setattr(history[1], "role", "user"),
    ]
    request(store, object(), history)
    for edit in edits:
        edit()
        assert request(store, object(), history) == fresh(history)
    assert counted[id(history[0])] == 3
    assert counted[id(history[1])] == 3


def test_a_message_holding_a_file_is_kept_for_its_run_only(counted: Counter[int]) -> None:
    store = SharedWireStore()
    image = FilePart(data=b"\x89PNG", media_type="image/png")
    history = [Message.user("look", image), Message.assistant("a cat")]
    token, local = object(), WireStore()
    for _ in range(2):  # two steps of one run
        assert request(store, token, history, local) == fresh(history)
    for _ in range(2):  # two runs
        assert request(store, object(), history) == fresh(history)
    assert counted[id(history[0])] == 3
    assert counted[id(history[1])] == 1
    history[1].content.append(image)  # edited to carry a file: no longer shared
    assert request(store, object(), history) == fresh(history)
    table = store._namespaces  # pyright: ignore[reportPrivateUsage]
    assert all(id(history[1]) not in entries for entries, _ in table.values())


def test_an_entry_goes_with_its_message() -> None:
    store = SharedWireStore()
    encoded: list[str] = []

    def encode_text(message: Message, warnings: list[CallWarning]) -> list[str]:
        encoded.append(message.text)
        warnings.append(CallWarning(setting="s", message=message.text))
        return [message.text]

    kept = Message.user("kept")
    local = WireStore(message_state)
    for number in range(100):
        warnings: list[CallWarning] = []
        found = store.encode_each(
            "ns", [kept, Message.user(str(number))], encode_text, warnings, token=number, local=local
        )
        assert found == [["kept"], [str(number)]]
        assert warnings == [
            CallWarning(setting="s", message="kept"),
            CallWarning(setting="s", message=str(number)),
        ]
    gc.collect()
    assert encoded.count("kept") == 1
    entries, _ = store._namespaces["ns"]  # pyright: ignore[reportPrivateUsage]
    assert list(entries) == [id(kept)]


def completion(text: str) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return {
        "id": "1",
        "model": "m",
        "choices": [choice],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
    }


def test_an_agent_continuing_a_conversation_encodes_each_message_once(counted: Counter[int]) -> None:
    bodies: list[bytes] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        bodies.append(request.content)
        return httpx2.Response(200, json=completion(f"answer {len(bodies)}"))

    client = httpx2.Client(transport=httpx2.MockTransport(answer))
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k", http_client=client)
    agent = Agent(provider.language_model("m"), system_prompt="Be brief.")
    messages: list[Message] = []
    for turn in range(4):
        result = agent.generate(f"question {turn}", messages=messages)
        messages = result.messages
    sent = json.loads(bodies[-1])["messages"]
    assert [entry["content"] for entry in sent] == [
        "Be brief.",
        *[text for turn in range(3) for text in (f"question {turn}", f"answer {turn + 1}")],
        "question 3",
    ]
    assert [counted[id(message)] for message in messages] == [1] * 7 + [0]  # the last answer: not sent yet
    messages[0].content[0] = TextPart(text="question zero")  # edited between runs: sent edited
    agent.generate("again", messages=messages)
    assert json.loads(bodies[-1])["messages"][1]["content"] == "question zero"


def test_a_copied_or_pickled_kept_form_encodes_as_the_original() -> None:
    import copy
    import pickle

    messages = kept({"a": 1}, {"b": 2})
    expected = encode_body({"messages": messages})
    encode_body({"messages": messages})
    for twin in (copy.copy(messages), copy.deepcopy(messages), pickle.loads(pickle.dumps(messages))):
        assert twin == [{"a": 1}, {"b": 2}]
        assert encode_body({"messages": twin}) == expected


def test_members_beside_kept_forms_are_written_as_their_own_values() -> None:
    bodies: list[dict[str, Any]] = [
        {"model": "m", "messages": kept({"a": 1}), "seed": 1},
        {"model": "m", "messages": kept({"a": 1}), "seed": True},
        {"model": "m", "messages": kept({"a": 1}), "temperature": 0.0},
        {"model": "m", "messages": kept({"a": 1}), "temperature": -0.0},
        {"model": "m", "messages": kept({"a": 1}), "stop": ["x"], "n": None},
    ]
    for _ in range(2):
        for body in bodies:
            assert encode_body(body) == plain(body)

"""``reverie.providers._turns``: a conversation as turns of alternating roles (Anthropic, Gemini)."""

from __future__ import annotations

from typing import Any

from reverie import CallWarning, Message
from reverie._wire_cache import WireCache, WireStore
from reverie.providers._turns import encode_turns, merge_turns


def test_turns_hoist_the_system_items_and_merge_neighbours_of_one_role() -> None:
    encoded = [
        ("system", [{"text": "Be brief."}]),
        ("user", [{"text": "hi"}]),
        ("user", [{"text": "there"}]),
        ("assistant", []),
        ("system", [{"text": "Be kind."}]),
        ("assistant", [{"text": "Hello."}]),
        ("user", [{"text": "bye"}]),
    ]
    system, turns = merge_turns(encoded, "parts")
    assert system == [{"text": "Be brief."}, {"text": "Be kind."}]
    assert turns == [
        {"role": "user", "parts": [{"text": "hi"}, {"text": "there"}]},
        {"role": "assistant", "parts": [{"text": "Hello."}]},
        {"role": "user", "parts": [{"text": "bye"}]},
    ]


def test_merging_turns_never_changes_the_encoded_items() -> None:
    first, second, third = [{"type": "text"}], [{"type": "tool_result"}], [{"type": "image"}]
    _, turns = merge_turns([("user", first), ("user", second), ("user", third)], "content")
    assert turns == [{"role": "user", "content": [*first, *second, *third]}]
    assert (first, second, third) == ([{"type": "text"}], [{"type": "tool_result"}], [{"type": "image"}])
    _, [alone] = merge_turns([("user", first)], "content")
    assert alone["content"] is first  # a turn of one message keeps its items as they are


def test_no_messages_are_no_turns() -> None:
    assert merge_turns([], "content") == ([], [])
    assert merge_turns([("user", []), ("assistant", [])], "content") == ([], [])


def test_encoded_turns_reuse_each_message_s_form_per_setting() -> None:
    encoded: list[tuple[str, bool]] = []

    def encode(message: Message, loud: bool, warnings: list[CallWarning]) -> tuple[str, list[dict[str, Any]]]:
        encoded.append((message.text, loud))
        warnings.append(CallWarning(setting="loud", message=message.text))
        text = message.text.upper() if loud else message.text
        return message.role, [{"text": text}]

    cache = WireCache(messages=WireStore(), tools=WireStore())
    prompt = [Message.system("Be brief."), Message.user("hi"), Message.user("there")]
    for _ in range(2):
        warnings: list[CallWarning] = []
        system, turns = encode_turns(prompt, encode, False, "parts", warnings, cache)
        assert system == [{"text": "Be brief."}]
        assert turns == [{"role": "user", "parts": [{"text": "hi"}, {"text": "there"}]}]
        assert [warning.message for warning in warnings] == ["Be brief.", "hi", "there"]
    assert encoded == [("Be brief.", False), ("hi", False), ("there", False)]  # the second time: reused
    _, turns = encode_turns(prompt, encode, True, "parts", [], cache)
    assert turns == [{"role": "user", "parts": [{"text": "HI"}, {"text": "THERE"}]}]
    _, turns = encode_turns(prompt, encode, True, "parts", [], None)
    assert len(encoded) == 9  # another setting, then no cache: encoded again each time

"""The one decoder of untrusted JSON and the encoder of request bodies."""

from __future__ import annotations

import json

import pytest

from reverie import _json


@pytest.mark.parametrize(
    "text",
    ["{", "", "[" * 100_000 + "]" * 100_000, '{"a": ' * 50_000 + "1" + "}" * 50_000, b"\xff\xfe{}", "NaN]"],
)
def test_every_unreadable_payload_is_a_value_error(text: str | bytes) -> None:
    with pytest.raises(_json.UnreadableJSONError):
        _json.loads(text)


def test_a_leading_byte_order_mark_is_accepted_as_text_and_as_bytes() -> None:
    assert _json.loads('\ufeff{"a": 1}') == {"a": 1}
    assert _json.loads(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_lone_surrogates_are_replaced_when_encoding_and_pairs_are_kept() -> None:
    value = {"text": "a \ud800 b \udfff c \U0001f600"}
    assert json.loads(_json.encode(value)) == {"text": "a \ufffd b \ufffd c \U0001f600"}
    assert _json.dumps(value) == '{"text":"a \ufffd b \ufffd c \U0001f600"}'
    assert _json.encode({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()


def test_a_request_that_cannot_be_encoded_is_a_user_error() -> None:
    from reverie import UserError

    with pytest.raises(UserError, match="cannot be encoded as JSON"):
        _json.encode({"options": {"when": object()}})
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(UserError, match="nested too deep"):
        _json.encode({"value": deep})
    itself: dict[str, object] = {"a": [1]}
    itself["b"] = itself
    with pytest.raises(UserError, match="contains itself"):
        _json.encode({"value": itself})


@pytest.mark.parametrize(
    "text",
    ['{"a": [1, 2.5, "x", null, true]}', ' {"a": 1} ', '{"a": 1}\n', "\t[]", '"text"', "1e3", "NaN"],
)
def test_payloads_read_with_or_without_surrounding_whitespace_decode_as_json_loads_does(text: str) -> None:
    expected = json.loads(text)
    value = _json.loads(text)
    assert value == expected or (value != value and expected != expected)  # NaN equals nothing


@pytest.mark.parametrize("text", ['{"a": 1} x', '{"a": 1}{"b": 2}', "[1] ]", "1 2"])
def test_extra_data_after_a_payload_is_unreadable(text: str) -> None:
    with pytest.raises(_json.UnreadableJSONError, match="Extra data"):
        _json.loads(text)


@pytest.mark.parametrize(
    "value",
    [
        "é \ud800 \n",
        [1, 1.5, -0.0, 1e100, 10**30, True, None, float("inf"), -float("inf")],
        {"a": [{"b": (1, 2)}, {}], "c": []},
        {3: "a", 2.5: "b", True: "c", None: "d"},
    ],
)
def test_request_text_is_what_json_dumps_writes(value: object) -> None:
    expected = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    assert _json.encode_text(value) == expected
    assert _json.encode(value) == _json.replace_lone_surrogates(expected).encode()

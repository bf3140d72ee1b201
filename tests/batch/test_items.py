"""Reading batch input: JSON lines and Python items, every error naming its line or position."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reverie import BatchItem, Message, UserError, to_json
from reverie._batch.items import BatchInputError, item_key, parse_item, read_input_file, read_items


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_lines_become_items_in_order(tmp_path: Path) -> None:
    history = [Message.user("Hi"), Message.assistant("Hello!")]
    path = write(
        tmp_path,
        json.dumps({"id": "a", "prompt": "one"}),
        "",
        json.dumps({"id": 2, "prompt": "two", "system": "Be brief.", "extra": [1, 2]}),
        json.dumps({"id": "c", "messages": json.loads(to_json(history))}),
        json.dumps({"id": "d", "prompt": "and?", "messages": json.loads(to_json(history))["data"]}),
    )
    items = read_input_file(path)
    assert [item.id for item in items] == ["a", 2, "c", "d"]
    assert items[1] == BatchItem(id=2, prompt="two", system="Be brief.")
    assert items[2].messages == history and items[2].prompt is None
    assert items[3].messages == history and items[3].prompt == "and?"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "line 2: not JSON"),
        ("[1, 2]", "line 2: an item is a JSON object, not a list"),
        ('{"prompt": "x"}', "line 2: no id"),
        ('{"id": 1}', "line 2: no prompt or messages"),
        ('{"id": 1, "prompt": ""}', "line 2: no prompt or messages"),
        ('{"id": true, "prompt": "x"}', "line 2: id must be a string or an integer, not a boolean"),
        ('{"id": 1.5, "prompt": "x"}', "line 2: id must be a string or an integer, not a number"),
        ('{"id": "x", "prompt": 3}', "line 2: prompt must be a string, not a number"),
        ('{"id": "x", "prompt": "p", "system": ["s"]}', "line 2: system must be a string, not a list"),
        ('{"id": "x", "messages": "hi"}', "line 2: messages must be a list of messages"),
        ('{"id": "x", "messages": [{"role": "nobody"}]}', "line 2: messages:"),
        ('{"id": "first", "prompt": "again"}', "line 2: duplicate id 'first'"),
    ],
)
def test_a_bad_line_is_named_by_its_number(tmp_path: Path, line: str, message: str) -> None:
    path = write(
        tmp_path, json.dumps({"id": "first", "prompt": "ok"}), line, json.dumps({"id": "z", "prompt": "z"})
    )
    with pytest.raises(BatchInputError) as raised:
        read_input_file(path)
    assert f"{path}, {message}" in str(raised.value)
    assert isinstance(raised.value, UserError)


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="cannot read"):
        read_input_file(tmp_path / "missing.jsonl")


def test_python_items_mix_dicts_and_batch_items() -> None:
    items = read_items([{"id": 1, "prompt": "a"}, BatchItem(id="1", prompt="b")])
    assert [item.prompt for item in items] == ["a", "b"]  # 1 and "1" are two ids
    with pytest.raises(BatchInputError, match="item 3: duplicate id 1"):
        read_items([{"id": 1, "prompt": "a"}, BatchItem(id=2, prompt="b"), BatchItem(id=1, prompt="c")])
    with pytest.raises(BatchInputError, match="item 1: no prompt or messages"):
        read_items([BatchItem(id=1)])


def test_keys_tell_integers_from_strings() -> None:
    assert item_key(1) != item_key("1")


def test_the_conversation_puts_the_system_prompt_first() -> None:
    history = [Message.user("Hi"), Message.assistant("Hello!")]
    item = parse_item(
        {"id": 1, "prompt": "again", "system": "Be brief.", "messages": json.loads(to_json(history))}, "x"
    )
    prompt, messages = item.conversation()
    assert prompt == "again"
    assert messages == [Message.system("Be brief."), *history]
    assert BatchItem(id=1, prompt="p").conversation() == ("p", None)

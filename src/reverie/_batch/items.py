"""``BatchItem`` and the reading of batch input: dicts, ``BatchItem`` objects or JSON lines.

An input line is a JSON object ``{"id": ..., "prompt": "..."}`` with an optional ``"system"``
and ``"messages"`` (reverie's message JSON: a document ``reverie.to_json`` wrote for a list of
messages, or the list of message objects it holds). Other keys are ignored, so a line may
carry data of its own. Every item is checked before any request is sent: a bad one raises
``BatchInputError`` naming its line (or its position, for Python items).

``content_digest`` names what an item sends, so that a resumed batch can tell it changed.

Does not: send anything or decide what is resumed (``work``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from reverie._errors import UserError

if TYPE_CHECKING:
    from reverie._content import Message

ItemId = str | int
"""An item's id: a string or an integer, unique in its batch."""


class BatchInputError(UserError):
    """A batch item that cannot be run: not JSON, no id, a duplicate id, no prompt or messages."""


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One prompt of a batch.

    Args:
        id: Unique in the batch (a string or an integer); output lines and results carry it.
        prompt: The user's message.
        system: A system prompt for this item (sent after the agent's own, if it has one).
        messages: Earlier conversation to continue; ``prompt`` (if any) is appended to it.
    """

    id: ItemId
    prompt: str | None = None
    system: str | None = None
    messages: Sequence[Message] | None = None

    def conversation(self) -> tuple[str | None, list[Message] | None]:
        """What the agent is called with: the prompt and the messages before it (``None``: none)."""
        history: list[Message] = []
        if self.system is not None:
            from reverie._content import Message

            history.append(Message.system(self.system))
        history.extend(self.messages or ())
        return self.prompt, history or None


def item_key(item_id: ItemId) -> str:
    """The id as stored and compared: JSON, so that ``1`` and ``"1"`` stay two items."""
    return json.dumps(item_id)


def content_digest(item: BatchItem) -> str:
    """A digest of what ``item`` sends (its prompt, system prompt and messages), not of its id.

    A resumed batch compares it with the one recorded, to tell an item changed under its id.
    """
    messages: str | None = None
    if item.messages:
        from reverie._serialisation import to_json

        messages = to_json(list(item.messages))
    text = json.dumps([item.prompt, item.system, messages], ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_items(items: Iterable[BatchItem | Mapping[str, Any]]) -> list[BatchItem]:
    """Every item checked, in order; ``BatchInputError`` names the first bad one (``item N``, from 1)."""
    checked: list[BatchItem] = []
    seen: set[str] = set()
    for number, value in enumerate(items, start=1):
        where = f"item {number}"
        item = value if isinstance(value, BatchItem) else parse_item(value, where)
        _check_item(item, where)
        _claim(item, seen, where)
        checked.append(item)
    return checked


def read_input_file(path: str | Path) -> list[BatchItem]:
    """The items of a JSON-lines file, checked; ``BatchInputError`` names the first bad line.

    Blank lines are skipped (their numbers still count).

    Raises:
        BatchInputError: A bad line, or a file that cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BatchInputError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    checked: list[BatchItem] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise BatchInputError(f"{where}: not JSON ({error.msg} at column {error.colno})") from None
        item = parse_item(value, where)
        _claim(item, seen, where)
        checked.append(item)
    return checked


def parse_item(value: object, where: str) -> BatchItem:
    """``value`` (one decoded input line, or a dict) as a ``BatchItem``; ``where`` names it in errors."""
    if not isinstance(value, Mapping):
        raise BatchInputError(f"{where}: an item is a JSON object, not {_kind(value)}")
    fields = cast(Mapping[str, Any], value)
    if "id" not in fields:
        raise BatchInputError(f"{where}: no id")
    system = fields.get("system")
    if system is not None and not isinstance(system, str):
        raise BatchInputError(f"{where}: system must be a string, not {_kind(system)}")
    prompt = fields.get("prompt")
    if prompt is not None and not isinstance(prompt, str):
        raise BatchInputError(f"{where}: prompt must be a string, not {_kind(prompt)}")
    raw_messages = fields.get("messages")
    messages = None if raw_messages is None else _messages(raw_messages, where)
    item = BatchItem(id=fields["id"], prompt=prompt, system=system, messages=messages)
    _check_item(item, where)
    return item


def _check_item(item: BatchItem, where: str) -> None:
    if isinstance(item.id, bool) or not isinstance(item.id, str | int):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        raise BatchInputError(f"{where}: id must be a string or an integer, not {_kind(item.id)}")
    if not item.prompt and not item.messages:
        raise BatchInputError(f"{where}: no prompt or messages (id {item.id!r})")


def _claim(item: BatchItem, seen: set[str], where: str) -> None:
    key = item_key(item.id)
    if key in seen:
        raise BatchInputError(f"{where}: duplicate id {item.id!r}")
    seen.add(key)


def _messages(value: Any, where: str) -> list[Message]:
    from reverie._content import Message
    from reverie._serialisation import FORMAT_VERSION, from_json

    document: object = value
    if isinstance(value, list):  # the data of a document: wrap it as to_json would
        document = {"format_version": FORMAT_VERSION, "type": "list[Message]", "data": cast(list[Any], value)}
    if not isinstance(document, dict):
        raise BatchInputError(f"{where}: messages must be a list of messages or a reverie.to_json document")
    try:
        messages: list[Message] = from_json(json.dumps(document), list[Message])
    except UserError as error:
        raise BatchInputError(f"{where}: messages: {error}") from None
    return messages


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names: dict[type, str] = {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    return names.get(type(value), type(value).__name__)

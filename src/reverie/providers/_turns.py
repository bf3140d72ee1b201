"""A conversation as turns of alternating roles, for the APIs that want them so.

Anthropic and Gemini take the system prompt apart from the conversation and reject two
consecutive turns of one role. Their codecs encode each message on its own (a form a
``WireCache`` can keep, see ``reverie._wire_cache``) through ``encode_turns``, which then
hoists the system items and merges neighbours of one role (``merge_turns``). This module
knows no provider's item format and never mutates what it is given: kept wire forms are
shared between requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from reverie._content import CallWarning, Message
from reverie._wire_cache import WireCache, each_message

SettingT = TypeVar("SettingT")

MessageEncoder = Callable[[Message, SettingT, list[CallWarning]], tuple[str, list[dict[str, Any]]]]
"""Encodes one message under a codec setting: its role (``"system"`` for the system prompt)
and its items, appending any warning to the list it is given."""


def encode_turns(
    prompt: Sequence[Message],
    encode_message: MessageEncoder[SettingT],
    setting: SettingT,
    key: str,
    warnings: list[CallWarning],
    cache: WireCache | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The system items and the turns of ``prompt``, each message encoded once per ``cache``.

    Args:
        prompt: The conversation.
        encode_message: The codec's encoder of one message.
        setting: Everything besides the message that ``encode_message`` reads; with the
            encoder, it names the cache's namespace, so it must be hashable.
        key: The name of a turn's item list (see ``merge_turns``).
        warnings: Where each message's warnings go (again on every reuse).
        cache: A run's ``WireCache``, or ``None`` to encode every message.
    """

    def encode(message: Message, produced: list[CallWarning]) -> tuple[str, list[dict[str, Any]]]:
        return encode_message(message, setting, produced)

    return merge_turns(each_message(cache, (encode_message, setting), prompt, encode, warnings), key)


def merge_turns(
    encoded: Iterable[tuple[str, list[dict[str, Any]]]], key: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The system items and the turns ``{"role": role, key: items}`` of encoded messages.

    Args:
        encoded: Each message's role (``"system"`` for the system prompt) and its items, in order.
        key: The name of a turn's item list (``"content"`` for Anthropic, ``"parts"`` for Gemini).

    Returns:
        Every system item in order, and the turns: a message without items is left out (the
        APIs reject empty turns), and consecutive messages of one role share one turn.
    """
    system: list[dict[str, Any]] = []
    turns: list[dict[str, Any]] = []
    merged = False  # whether the last turn's items are a list of this request's own
    for role, items in encoded:
        if role == "system":
            system.extend(items)
        elif not items:
            continue
        elif turns and turns[-1]["role"] == role:
            last = turns[-1]
            if not merged:  # the items may be a kept wire form: extend a copy
                last[key] = list(last[key])
                merged = True
            last[key].extend(items)
        else:
            turns.append({"role": role, key: items})
            merged = False
    return system, turns

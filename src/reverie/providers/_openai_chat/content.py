"""Reading a chat message's ``content`` and ``refusal``, in every shape servers send.

``content`` is a string for most servers, but Mistral and Magistral send a list of typed
parts: ``{"type": "text", "text": ...}`` and ``{"type": "thinking", "thinking": [...]}``
(the thinking itself a list of text parts, or a string). ``split_content`` turns either
shape into reasoning text and answer text; parts of other types (references, images) carry
no text and are skipped. ``refusal`` (OpenAI) is the model's refusal, given instead of
``content``; it is read as text whose provider metadata marks it (``refusal_metadata``).
This module reads values only; it builds no parts and no requests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from reverie._codec import expect_string
from reverie._content import ProviderMetadata

_THINKING_TYPES = ("thinking", "reasoning")


def split_content(value: Any, what: str) -> tuple[str, str]:
    """The ``(reasoning, text)`` of a ``content`` value: a string, null or a list of typed parts.

    Raises:
        InvalidResponseError: The value is neither (e.g. a number), naming ``what``.
    """
    if not isinstance(value, list):
        return "", expect_string(value, what)
    reasoning: list[str] = []
    text: list[str] = []
    for part in cast(list[Any], value):
        if not isinstance(part, dict):
            continue
        entry = cast(dict[str, Any], part)
        kind = entry.get("type")
        if kind == "text":
            text.append(expect_string(entry.get("text"), f"{what}[].text"))
        elif kind in _THINKING_TYPES:
            reasoning.append(_thinking_text(entry.get(kind), f"{what}[].{kind}"))
    return "".join(reasoning), "".join(text)


def _thinking_text(value: Any, what: str) -> str:
    if isinstance(value, list):
        return "".join(_texts(cast(list[Any], value), what))
    return expect_string(value, what)


def _texts(parts: Iterable[Any], what: str) -> Iterable[str]:
    for part in parts:
        if isinstance(part, str):
            yield part
        elif isinstance(part, dict) and cast(dict[str, Any], part).get("type") == "text":
            yield expect_string(cast(dict[str, Any], part).get("text"), f"{what}[].text")


def refusal_metadata(provider: str) -> ProviderMetadata:
    """The provider metadata that marks a text part as the model's refusal.

    Shape: ``{provider: {"refusal": True}}``, e.g. ``{"openai": {"refusal": True}}``.
    """
    return {provider: {"refusal": True}}

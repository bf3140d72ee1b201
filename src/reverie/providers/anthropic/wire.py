"""The Anthropic Messages API wire shapes we read, as minimal ``TypedDict`` views.

Only the fields reverie reads are listed; everything else is tolerated and ignored
(read with ``.get``). Request bodies are built as plain dicts in ``encode.py``.
"""

from __future__ import annotations

from typing import Any, TypedDict

PROVIDER = "anthropic"
"""The provider's name: the key of its ``provider_options`` and ``provider_metadata``."""


class UsagePayload(TypedDict, total=False):
    input_tokens: int | None
    output_tokens: int | None
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None


class ContentBlockPayload(TypedDict, total=False):
    type: str
    text: str
    thinking: str
    signature: str
    data: str
    """The opaque payload of a ``redacted_thinking`` block."""
    id: str
    name: str
    input: Any
    tool_use_id: str
    """The call a server-side tool's result (``web_search_tool_result``, ...) answers."""
    content: Any
    citations: list[Any]


class MessagePayload(TypedDict, total=False):
    id: str
    type: str
    role: str
    model: str
    content: list[ContentBlockPayload]
    stop_reason: str | None
    stop_sequence: str | None
    usage: UsagePayload
    error: dict[str, Any]


class DeltaPayload(TypedDict, total=False):
    type: str
    text: str
    thinking: str
    signature: str
    partial_json: str
    citation: dict[str, Any]
    stop_reason: str | None
    stop_sequence: str | None


class EventPayload(TypedDict, total=False):
    """One streamed event's data (``message_*``, ``content_block_*``, ``ping`` or ``error``)."""

    type: str
    index: int
    message: MessagePayload
    content_block: ContentBlockPayload
    delta: DeltaPayload
    usage: UsagePayload
    error: dict[str, Any]

"""Anthropic prompt-cache markers on chat-completions requests (OpenRouter, Vercel).

Gateways that forward to Anthropic take its ``cache_control`` markers on chat messages.
A marker is set as ``provider_options={"anthropic": {"cache_control": {"type": "ephemeral"}}}``
on a message, a content part or a tool, and lands where the recorded v0.41.2 requests put it:

- on a system or user message: on the message object (string content stays a string);
- on a user message's part, when the content is an array: on that part;
- on an assistant message with tool calls: on its last tool call (a marked tool call: on it);
- on a tool definition: on the tool;
- never on tool-result messages.

This module only reads markers and attaches them; it builds no messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from reverie._content import ProviderMetadata


def cache_marker(options: ProviderMetadata | Mapping[str, Any]) -> dict[str, Any] | None:
    """The ``cache_control`` object of an Anthropic marker in ``options``, or ``None``."""
    anthropic = options.get("anthropic")
    if not isinstance(anthropic, Mapping):
        return None
    marker = cast(Mapping[str, Any], anthropic).get("cache_control")
    return dict(cast(Mapping[str, Any], marker)) if isinstance(marker, Mapping) else None


def mark(target: dict[str, Any], options: ProviderMetadata | Mapping[str, Any]) -> None:
    """Set ``cache_control`` on ``target`` when ``options`` carry a marker."""
    marker = cache_marker(options)
    if marker is not None:
        target["cache_control"] = marker

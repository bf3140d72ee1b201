"""``GatewayCodec``: chat completions as the model gateways speak them (OpenRouter, Vercel).

A gateway routes one OpenAI-style API to many upstreams, so it shares more than the wire:
reasoning arrives in ``reasoning`` and ``reasoning_details`` and goes back on the next
request (``assistant_reasoning_fields``; reasoning bound to another provider is dropped
with a warning), Anthropic cache markers are placed on the
messages, ``openai/<reasoning model>`` follows OpenAI's rules, and objects are asked for
through a forced tool (``response_format`` support depends on the route). Each gateway
subclasses this with its name, its options (``prepare_body``) and what it adds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reverie._codec import expect_string, reasoning_drop_warning
from reverie._content import CallWarning, ContentPart, ProviderMetadata, ReasoningPart
from reverie.providers._openai_chat.codec import OpenAIChatCodec
from reverie.providers._openai_chat.encode import is_openai_reasoning_model
from reverie.providers._openai_chat.reasoning import (
    assistant_reasoning_fields,
    detail_text,
    details_metadata,
    details_of,
    own_details,
    parts_from_details,
)
from reverie.providers._openai_chat.wire import MessagePayload


class GatewayCodec(OpenAIChatCodec):
    """The chat-completions codec of a model gateway; see the module docstring."""

    cache_markers = True
    # No object recordings exist for the gateways; a forced tool works on every routed model.
    object_mode = "tool"
    reasoning_keys = frozenset({"reasoning", "reasoning_details"})

    def is_reasoning_model(self) -> bool:
        """``openai/<reasoning model>`` follows OpenAI's rules, as the recorded requests show."""
        return is_openai_reasoning_model(self.model_id)

    def extract_reasoning(self, message: MessagePayload) -> list[ReasoningPart]:
        """One reasoning part per ``reasoning_details`` entry (fantasy), else the ``reasoning`` text."""
        details = details_of(message.get("reasoning_details"))
        if details:
            return parts_from_details(self.name, details)
        text = expect_string(message.get("reasoning"), "message.reasoning")
        return [ReasoningPart(text=text)] if text else []

    def extract_reasoning_delta(self, delta: MessagePayload) -> tuple[str, ProviderMetadata]:
        """The delta's ``reasoning`` text (or its details' text when only those came).

        The details themselves are gathered by the stream decoder (``reasoning_metadata``).
        """
        text = expect_string(delta.get("reasoning"), "delta.reasoning")
        if text:
            return text, {}
        return "".join(detail_text(detail) for detail in details_of(delta.get("reasoning_details"))), {}

    def reasoning_metadata(self, details: list[dict[str, Any]]) -> ProviderMetadata:
        """The block's details (and an Anthropic signature among them)."""
        return details_metadata(self.name, details)

    def assistant_fields(self, parts: Sequence[ContentPart]) -> dict[str, Any]:
        """The previous step's ``reasoning_details`` (and Anthropic ``reasoning`` text) go back."""
        return assistant_reasoning_fields(self.name, parts)

    def reasoning_warning(self, parts: Sequence[ContentPart]) -> CallWarning | None:
        """Reasoning without this gateway's details is dropped; a warning when another provider's.

        The gateway's own reasoning that came as text only (no details) has nothing the
        API takes back, and is dropped in silence.
        """
        return reasoning_drop_warning(
            parts,
            reader=self.name,
            sent=lambda part: bool(own_details(self.name, part)),
            own=(self.name,),
            plain_is_own=True,
        )

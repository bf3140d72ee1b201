"""The typed options of the ``google`` provider, loaded on first use (see ``providers._lazy``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from reverie._codec import OPTIONS_CONFIG

__all__ = ["Options", "SafetySetting", "ThinkingConfig"]

_STRICT = OPTIONS_CONFIG


class ThinkingConfig(BaseModel):
    """Thinking settings, sent as ``generationConfig.thinkingConfig``."""

    model_config = _STRICT

    thinking_budget: int | None = None
    """Tokens the model may think; positive budgets below 128 are raised to 128, 0 turns thinking off."""
    include_thoughts: bool | None = None
    """Return thought summaries (they become reasoning parts)."""
    thinking_level: Literal["minimal", "low", "medium", "high"] | None = None
    """How hard Gemini 3 models think; sent upper-cased as ``thinkingLevel`` (e.g. ``"HIGH"``)."""


class SafetySetting(BaseModel):
    """One ``safetySettings`` entry, e.g. ``HARM_CATEGORY_HARASSMENT`` / ``BLOCK_ONLY_HIGH``."""

    model_config = _STRICT

    category: str
    threshold: str


class Options(BaseModel):
    """Gemini options; pass as ``provider_options={"google": Options(...)}`` or a snake_case dict."""

    model_config = _STRICT

    thinking_config: ThinkingConfig | None = None
    safety_settings: list[SafetySetting] | None = None
    cached_content: str | None = None
    """A ``cachedContents/...`` name to answer from."""
    response_modalities: list[Literal["TEXT", "IMAGE", "AUDIO"]] | None = None

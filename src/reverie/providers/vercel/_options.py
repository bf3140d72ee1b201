"""The typed options of the ``vercel`` provider, loaded on first use (see ``providers._lazy``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from reverie._codec import OPTIONS_CONFIG

__all__ = ["Gateway", "Options", "Reasoning"]


class Reasoning(BaseModel):
    """Reasoning ("thinking") settings, sent as the ``reasoning`` body field."""

    model_config = OPTIONS_CONFIG

    enabled: bool | None = None
    effort: Literal["none", "minimal", "low", "medium", "high"] | None = None
    max_tokens: int | None = None
    exclude: bool | None = None


class Gateway(BaseModel):
    """Routing of the AI Gateway, sent as ``providerOptions.gateway``."""

    model_config = OPTIONS_CONFIG

    order: list[str] | None = None
    """Upstream providers to try, in order (e.g. ``["bedrock", "anthropic"]``)."""
    models: list[str] | None = None
    """Fallback models, tried in order when the requested one fails."""
    zero_data_retention: bool | None = None
    """Route only to upstreams that retain no data."""


class Options(BaseModel):
    """Vercel AI Gateway request options; pass as ``provider_options={"vercel": Options(...)}`` or a dict.

    ``byok`` (your own upstream credentials, e.g. ``{"anthropic": [{"apiKey": "..."}]}``) is sent
    beside the routing in ``providerOptions.gateway``; ``extra_body`` is merged into the body as is.
    """

    model_config = OPTIONS_CONFIG

    reasoning: Reasoning | None = None
    gateway: Gateway | None = None
    byok: dict[str, list[dict[str, Any]]] | None = None
    user: str | None = None
    logit_bias: dict[str, int] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    parallel_tool_calls: bool | None = None
    extra_body: dict[str, Any] | None = None

"""The typed options of the ``openrouter`` provider, loaded on first use (see ``providers._lazy``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from reverie._codec import OPTIONS_CONFIG

__all__ = ["Options", "ProviderRouting", "Reasoning", "UsageAccounting"]

_STRICT = OPTIONS_CONFIG


class ProviderRouting(BaseModel):
    """Which upstream providers may serve the request, and how to choose among them."""

    model_config = _STRICT

    order: list[str] | None = None
    only: list[str] | None = None
    ignore: list[str] | None = None
    allow_fallbacks: bool | None = None
    require_parameters: bool | None = None
    data_collection: Literal["allow", "deny"] | None = None
    zdr: bool | None = None
    quantizations: list[str] | None = None
    sort: Literal["price", "throughput", "latency"] | None = None
    max_price: dict[str, float] | None = None


class Reasoning(BaseModel):
    """Reasoning ("thinking") settings; set ``effort`` or ``max_tokens``."""

    model_config = _STRICT

    effort: Literal["minimal", "low", "medium", "high"] | None = None
    max_tokens: int | None = None
    exclude: bool | None = None
    enabled: bool | None = None


class UsageAccounting(BaseModel):
    """Whether OpenRouter reports token usage and cost (always on unless set to false)."""

    model_config = _STRICT

    include: bool | None = None


class Options(BaseModel):
    """OpenRouter request options; pass as ``provider_options={"openrouter": Options(...)}`` or a dict."""

    model_config = _STRICT

    provider: ProviderRouting | None = None
    reasoning: Reasoning | None = None
    usage: UsageAccounting | None = None
    models: list[str] | None = None
    transforms: list[str] | None = None
    user: str | None = None
    parallel_tool_calls: bool | None = None

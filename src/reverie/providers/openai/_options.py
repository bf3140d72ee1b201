"""The typed options of the ``openai`` provider, loaded on first use (see ``providers._lazy``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from reverie._codec import OPTIONS_CONFIG
from reverie.providers._openai_responses.options import ResponsesOptions

__all__ = ["Options", "ResponsesOptions"]


class Options(BaseModel):
    """OpenAI request options, sent as the body fields of the same names.

    Pass as ``provider_options={"openai": Options(...)}`` or the equivalent dict.
    """

    model_config = OPTIONS_CONFIG

    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None
    user: str | None = None
    parallel_tool_calls: bool | None = None
    service_tier: Literal["auto", "default", "flex", "priority"] | None = None
    store: bool | None = None
    metadata: dict[str, str] | None = None
    logit_bias: dict[str, int] | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    prediction: dict[str, Any] | None = None
    verbosity: Literal["low", "medium", "high"] | None = None

"""The typed options of the ``anthropic`` provider, loaded on first use (see ``providers._lazy``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from reverie._codec import OPTIONS_CONFIG

__all__ = ["CacheControl", "Options", "Thinking"]

_STRICT = OPTIONS_CONFIG


class Thinking(BaseModel):
    """Extended thinking: how many tokens the model may spend reasoning."""

    model_config = _STRICT

    budget_tokens: int
    """Sent as ``thinking.budget_tokens``; ``max_tokens`` grows by the same amount."""


class CacheControl(BaseModel):
    """A prompt-caching breakpoint (``cache_control``) on a block, message or tool."""

    model_config = _STRICT

    type: Literal["ephemeral"] = "ephemeral"
    ttl: Literal["5m", "1h"] | None = None


class Options(BaseModel):
    """Anthropic options; pass as ``provider_options={"anthropic": Options(...)}`` or a dict.

    On a call: ``thinking``, ``send_reasoning`` and ``disable_parallel_tool_use``. On a
    ``Message``, a content part or a ``ToolDefinition`` (their ``provider_options``):
    ``cache_control``, which marks that block (a message's last block) as a cache breakpoint.
    """

    model_config = _STRICT

    thinking: Thinking | None = None
    send_reasoning: bool | None = None
    """Whether signed reasoning goes back on later steps (default ``True``, as fantasy)."""
    disable_parallel_tool_use: bool | None = None
    """At most one tool call per step (sent in ``tool_choice``); default ``False``."""
    cache_control: CacheControl | None = None

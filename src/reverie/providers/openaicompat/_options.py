"""The typed options of the ``openaicompat`` provider, loaded on first use (see ``providers._lazy``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from reverie._codec import OPTIONS_CONFIG

__all__ = ["Options"]


class Options(BaseModel):
    """Options for OpenAI-compatible servers.

    ``extra_body`` is merged into the request body as is, for server-specific fields.
    """

    model_config = OPTIONS_CONFIG

    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "default"] | None = None
    user: str | None = None
    parallel_tool_calls: bool | None = None
    extra_body: dict[str, Any] | None = None

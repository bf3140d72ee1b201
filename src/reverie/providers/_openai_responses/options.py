"""``ResponsesOptions``: the typed ``openai`` provider options of the Responses API.

A pydantic model, so this module is imported only when options are used (``openai``
exports it lazily, and the encoder imports it on a call with options). It validates; it
does not encode (``encode.py`` maps the fields onto the body).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from reverie._codec import OPTIONS_CONFIG

__all__ = ["ResponsesOptions"]


class ResponsesOptions(BaseModel):
    """OpenAI Responses API options (``openai.Provider(api="responses")``).

    Pass as ``provider_options={"openai": ResponsesOptions(...)}`` or the equivalent dict.
    Most are sent as the body fields of the same names; ``reasoning_effort`` and
    ``reasoning_summary`` become ``reasoning: {"effort", "summary"}``, ``text_verbosity``
    becomes ``text.verbosity`` and ``strict_json_schema`` the ``strict`` flag of a structured
    output's ``text.format``. ``store`` defaults to ``False``: nothing is kept on OpenAI's
    side unless asked, so the whole conversation is sent with every request.
    """

    model_config = OPTIONS_CONFIG

    include: list[str] | None = None
    """Extra output to return, e.g. ``["reasoning.encrypted_content"]``."""
    instructions: str | None = None
    max_tool_calls: int | None = None
    metadata: dict[str, str] | None = None
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    prompt_cache_key: str | None = None
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    reasoning_summary: Literal["auto", "concise", "detailed"] | None = None
    safety_identifier: str | None = None
    service_tier: Literal["auto", "default", "flex", "priority", "scale"] | None = None
    store: bool = False
    strict_json_schema: bool | None = None
    text_verbosity: Literal["low", "medium", "high"] | None = None
    user: str | None = None

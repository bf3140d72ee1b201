"""OpenAI, over the chat-completions API.

from reverie.providers import openai
model = openai.Provider().language_model("gpt-4o")   # key from OPENAI_API_KEY
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from reverie._codec import dump_options, provider_options
from reverie._content import CallWarning
from reverie._model import Call
from reverie._provider import Provider as _BaseProvider
from reverie.providers._openai_chat.codec import OpenAIChatCodec

__all__ = ["Codec", "Options", "Provider"]


class Options(BaseModel):
    """OpenAI request options, sent as the body fields of the same names.

    Pass as ``provider_options={"openai": Options(...)}`` or the equivalent dict.
    """

    model_config = ConfigDict(extra="forbid")

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


class Codec(OpenAIChatCodec):
    """OpenAI's chat-completions codec."""

    name = "openai"
    options_type: ClassVar[type[BaseModel] | None] = Options

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Copy the typed ``openai`` options into the body."""
        options = provider_options(call, self.name, Options)
        if options is not None:
            body.update(dump_options(options))


class Provider(_BaseProvider):
    """OpenAI (``https://api.openai.com/v1``); the key defaults to ``OPENAI_API_KEY``."""

    name = "openai"
    api_key_env = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com/v1"

    def codec(self, model_id: str) -> Codec:
        """The chat-completions codec for ``model_id``."""
        return Codec(model_id)

"""OpenAI, over the chat-completions API.

from reverie.providers import openai
model = openai.Provider().language_model("gpt-4o")   # key from OPENAI_API_KEY
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reverie._codec import dump_options, provider_options
from reverie._content import CallWarning
from reverie._model import Call
from reverie._provider import Provider as _BaseProvider
from reverie.providers._lazy import lazy_exports
from reverie.providers._openai_chat.codec import OpenAIChatCodec
from reverie.providers._openai_chat.encode import is_reasoning_model

if TYPE_CHECKING:
    from reverie.providers.openai._options import Options

__all__ = ["Codec", "Options", "Provider"]


class Codec(OpenAIChatCodec):
    """OpenAI's chat-completions codec."""

    name = "openai"

    def is_reasoning_model(self) -> bool:
        """OpenAI's reasoning models (o1, o3, o4, gpt-5 but not gpt-5-chat) follow their rules."""
        return is_reasoning_model(self.model_id)

    def prepare_body(
        self, body: dict[str, Any], call: Call, *, stream: bool, warnings: list[CallWarning]
    ) -> None:
        """Copy the typed ``openai`` options into the body."""
        from reverie.providers.openai._options import Options

        options = provider_options(call, self.name, Options)
        if options is not None:
            body.update(dump_options(options))


class Provider(_BaseProvider):
    """OpenAI (``https://api.openai.com/v1``); the key defaults to ``OPENAI_API_KEY``."""

    name = "openai"
    api_key_env = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com/v1"
    codec_type = Codec


__getattr__ = lazy_exports(__name__, "reverie.providers.openai._options", ["Options"])

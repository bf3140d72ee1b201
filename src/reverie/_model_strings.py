"""Model strings: ``"PROVIDER:MODEL_ID"`` turned into a language model.

The grammar, the same for every provider::

    spec      = provider ":" model_id [ "@" base_url ]    ; "@" base_url only for openaicompat
    provider  = one of KNOWN_PROVIDERS
    model_id  = everything after the first ":" (it may hold ":" and "/" and "@")
    base_url  = an http:// or https:// URL

The string is split at its first colon, so model ids that contain colons
(``"openaicompat:llama3:8b@http://localhost:11434/v1"``) keep them. Only ``openaicompat`` reads a
``@BASE_URL`` suffix, split at the last ``@`` that starts a URL: other providers' model ids may
contain ``@`` (Vertex's ``"claude-sonnet-4@20250514"``). Keys and settings come from each
provider's usual environment variables unless given.

This module parses and builds; it imports a provider package only when its model is asked for,
and shares one provider (so one connection pool) per provider and base URL among the models it
builds from the environment.
"""

from __future__ import annotations

import importlib
import os
import re
import threading
from dataclasses import dataclass
from typing import Any

from reverie._errors import UserError
from reverie._model import LanguageModel
from reverie._provider import Provider

KNOWN_PROVIDERS: tuple[str, ...] = (
    "anthropic",
    "azure",
    "bedrock",
    "google",
    "openai",
    "openaicompat",
    "openrouter",
    "vercel",
    "vertex",
)
"""The providers a model string may name."""

# Settings each provider needs besides the key, read from the environment when not given.
_AZURE_ENDPOINT_ENV = "AZURE_OPENAI_ENDPOINT"
_URL_START = re.compile(r"https?://", re.IGNORECASE)

_shared: dict[tuple[str, str | None], Provider] = {}
_shared_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A parsed model string."""

    provider: str
    model_id: str
    base_url: str | None = None


def parse_model_string(spec: str) -> ModelSpec:
    """Split ``"PROVIDER:MODEL_ID[@BASE_URL]"`` into its parts.

    Raises:
        UserError: If the string has no provider, names an unknown one (the error lists the
            known ones), or has no model id.
    """
    if not isinstance(spec, str):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        raise UserError(f"a model string must be a str, not {type(spec).__name__}")
    provider, colon, rest = spec.partition(":")
    provider = provider.strip()
    if not colon or not provider:
        raise UserError(
            f"model string {spec!r} has no provider: write PROVIDER:MODEL_ID, e.g. 'openai:gpt-4o' "
            f"(providers: {', '.join(KNOWN_PROVIDERS)})"
        )
    if provider not in KNOWN_PROVIDERS:
        import difflib  # only on this error path

        close = difflib.get_close_matches(provider, KNOWN_PROVIDERS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UserError(
            f"model string {spec!r} names the unknown provider {provider!r}{hint} "
            f"(known: {', '.join(KNOWN_PROVIDERS)})"
        )
    model_id, base_url = rest, None
    if provider == "openaicompat":
        model_id, base_url = _split_base_url(rest)
    if not model_id.strip():
        raise UserError(f"model string {spec!r} has no model id after {provider + ':'!r}")
    return ModelSpec(provider=provider, model_id=model_id, base_url=base_url)


def _split_base_url(rest: str) -> tuple[str, str | None]:
    at = len(rest)
    while (at := rest.rfind("@", 0, at)) != -1:
        if _URL_START.match(rest, at + 1):
            return rest[:at], rest[at + 1 :]
    return rest, None


def model(
    spec: str,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    **provider_settings: Any,
) -> LanguageModel:
    """The language model a model string names.

        reverie.model("openai:gpt-4o")
        reverie.model("anthropic:claude-sonnet-4-20250514")
        reverie.model("openrouter:moonshotai/kimi-k2-0905")
        reverie.model("openaicompat:llama3@http://localhost:11434/v1")

    Args:
        spec: ``"PROVIDER:MODEL_ID"``; ``openaicompat`` also takes ``"@BASE_URL"`` at the end.
        api_key: The key; by default the provider's environment variable
            (``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``GEMINI_API_KEY``, ...).
        base_url: Where to send requests; wins over a URL in the string. Azure reads
            ``AZURE_OPENAI_ENDPOINT`` when not given.
        **provider_settings: More keyword arguments for the provider's constructor
            (``timeout=``, ``headers=``, Bedrock's ``region=``, Vertex's ``project=``, ...).

    Raises:
        UserError: If the string is malformed, names an unknown provider, or a needed setting
            (a base URL) is missing.
        MissingAPIKeyError: If the provider needs a key and none is given or set.
    """
    parsed = parse_model_string(spec)
    url = base_url or parsed.base_url
    return provider_for(parsed.provider, api_key=api_key, base_url=url, **provider_settings).language_model(
        parsed.model_id
    )


def provider_for(
    name: str, *, api_key: str | None = None, base_url: str | None = None, **provider_settings: Any
) -> Provider:
    """The provider ``name`` with these settings; one shared instance when built from the environment."""
    if name == "openaicompat" and not base_url:
        raise UserError(
            "openaicompat needs a base URL: write 'openaicompat:MODEL@http://host/v1' or pass base_url="
        )
    if name == "azure" and not base_url:
        base_url = os.environ.get(_AZURE_ENDPOINT_ENV) or None
        if base_url is None:
            raise UserError(f"azure needs the resource URL: set {_AZURE_ENDPOINT_ENV} or pass base_url=")
    if api_key is not None or provider_settings:
        return _build(name, api_key=api_key, base_url=base_url, **provider_settings)
    key = (name, base_url)
    with _shared_lock:
        found = _shared.get(key)
        if found is None:
            found = _shared[key] = _build(name, api_key=None, base_url=base_url)
        return found


def _build(name: str, *, api_key: str | None, base_url: str | None, **settings: Any) -> Provider:
    module = importlib.import_module(f"reverie.providers.{name}")
    if api_key is not None:
        settings["api_key"] = api_key
    if base_url is not None:
        settings["base_url"] = base_url
    provider: Provider = module.Provider(**settings)
    return provider

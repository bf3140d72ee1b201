"""``reverie models``: every provider, its key variables, and whether a key is set (never the key)."""

from __future__ import annotations

import importlib

from reverie._cli.models import PROVIDERS
from reverie._model_strings import KNOWN_PROVIDERS, parse_model_string
from tests.cli.conftest import clean_environment, reverie


def test_lists_every_provider_and_which_keys_are_set() -> None:
    secret = "sk-do-not-print-me"
    environment = clean_environment(OPENAI_API_KEY=secret, GOOGLE_API_KEY="also-secret")
    completed = reverie("models", env=environment)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[0].split() == ["provider", "key", "variable", "key", "model", "string", "note"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert sorted(rows) == sorted(KNOWN_PROVIDERS)
    assert "set (OPENAI_API_KEY)" in rows["openai"]
    assert "set (GOOGLE_API_KEY)" in rows["google"]
    assert "not set" in rows["anthropic"]
    assert "not needed" in rows["openaicompat"]
    assert secret not in completed.stdout + completed.stderr
    assert "also-secret" not in completed.stdout + completed.stderr


def test_the_table_matches_the_providers() -> None:
    assert tuple(info.name for info in PROVIDERS) == KNOWN_PROVIDERS
    for info in PROVIDERS:
        assert parse_model_string(info.example).provider == info.name
        provider = importlib.import_module(f"reverie.providers.{info.name}").Provider
        if provider.api_key_env is not None:
            assert info.key_variables[0] == provider.api_key_env, info.name
    bedrock = importlib.import_module("reverie.providers.bedrock")
    assert PROVIDERS[KNOWN_PROVIDERS.index("bedrock")].key_variables == (bedrock.BEARER_TOKEN_ENV,)

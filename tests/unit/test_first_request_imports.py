"""A plain first request imports neither pydantic nor any provider options module.

Options are pydantic models, imported only when a call has provider options (pydantic took
more than half of a first call's time). ``tests/first_request.py`` runs, in a fresh
interpreter, a first plain call to every provider in both modes and both colours, and records
the imports after each; a call with options at the end must import them (the check sees it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import ROOT

PROVIDERS = {
    "openai",
    "openai-responses",
    "anthropic",
    "google",
    "openrouter",
    "openaicompat",
    "vercel",
    "azure",
    "bedrock",
    "vertex-gemini",
    "vertex-claude",
}


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.first_request"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_provider_was_called_in_every_way(report: dict[str, Any]) -> None:
    calls = {(result["provider"], result["call"]) for result in report["results"]}
    assert calls == {
        (provider, call)
        for provider in PROVIDERS
        for call in ("generate", "stream", "generate_async", "stream_async")
    }
    assert {result["text"] for result in report["results"]} == {"hi"}


def test_no_plain_first_request_imports_pydantic_or_an_options_module(report: dict[str, Any]) -> None:
    # Checked after each call, in order: the first one that imported something is named.
    for result in report["results"]:
        assert result["imported"] == [], (
            f"{result['provider']} {result['call']} imported {result['imported']}"
        )


def test_a_call_with_options_imports_them(report: dict[str, Any]) -> None:
    assert "pydantic" in report["after_options"]
    assert "reverie.providers.openai._options" in report["after_options"]

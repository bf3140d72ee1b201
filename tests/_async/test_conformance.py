"""Strict replay of the recorded conversations in ../shared/cassettes through the public API.

Each manifest entry runs its scenario's agent program (``generate`` or ``stream``) against
a ``Cassette`` transport: every request must match a recorded one (JSON-equal body, or only
method and URL for the entries the manifest marks ``lenient``: those a newer recorded wire
superseded), the scenario's assertions must hold, and every recorded interaction must be used.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import httpx2
import pytest

from reverie.testing import Cassette
from reverie.testing.scenarios import Scenario, build_agent, check_scenario, run_scenario_async
from tests.conftest import CASSETTES

SUPPORTED_KINDS = {"openrouter", "openai", "openaicompat", "anthropic", "google"}


def _entries() -> list[dict[str, Any]]:
    manifest = CASSETTES / "manifest.json"
    if not manifest.exists():
        return []
    entries: list[dict[str, Any]] = json.loads(manifest.read_text())["entries"]
    return [entry for entry in entries if entry["kind"] in SUPPORTED_KINDS]


ENTRIES = _entries()
SCENARIOS = [Scenario.from_entry(entry) for entry in ENTRIES]
MATCH_MODES: dict[str, Literal["strict", "lenient"]] = {
    entry["path"]: entry.get("match") or "strict" for entry in ENTRIES
}
pytestmark = pytest.mark.skipif(
    not SCENARIOS, reason=f"the shared cassette corpus is absent ({CASSETTES}); conformance needs it"
)


@pytest.mark.anyio
@pytest.mark.parametrize("scenario", SCENARIOS or [None], ids=lambda s: s.name if s else "absent")
async def test_replays_recorded_conversation(scenario: Scenario) -> None:
    cassette = Cassette.load(CASSETTES / scenario.path, match=MATCH_MODES[scenario.path])
    async with httpx2.AsyncClient(transport=cassette) as client:
        agent = build_agent(scenario, async_http_client=client)
        result = await run_scenario_async(scenario, agent)
        assert check_scenario(scenario, result) == []
        cassette.assert_all_used()
    assert len(cassette.used) == len(cassette.interactions)

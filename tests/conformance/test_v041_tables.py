"""The v0.41.2 tables stay in step with the manifest: no stale keys, nothing silently dropped."""

from __future__ import annotations

import pytest

from reverie.testing.scenarios import Scenario, load_manifest
from tests.conformance.v041 import KNOWN_FAILURES, NOT_COLLECTED, not_collected_reason
from tests.conftest import CASSETTES_V041

MANIFEST = CASSETTES_V041 / "manifest.json"
pytestmark = pytest.mark.skipif(
    not MANIFEST.exists(), reason=f"the v0.41.2 recordings are absent ({CASSETTES_V041})"
)


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    return load_manifest(MANIFEST)


def test_every_known_failure_is_a_collected_entry(scenarios: list[Scenario]) -> None:
    collected = {scenario.path for scenario in scenarios if not_collected_reason(scenario) is None}
    assert sorted(set(KNOWN_FAILURES) - collected) == []


def test_every_left_out_suite_exists(scenarios: list[Scenario]) -> None:
    names = {scenario.suite for scenario in scenarios}
    names |= {f"{scenario.suite}/{scenario.model_dir}" for scenario in scenarios}
    assert sorted(set(NOT_COLLECTED) - names) == []


def test_only_known_programs_are_collected(scenarios: list[Scenario]) -> None:
    collected = [scenario for scenario in scenarios if not_collected_reason(scenario) is None]
    assert {scenario.program for scenario in collected} == {"agent", "object", "model_calls"}
    assert all(scenario.match == "strict" for scenario in collected)

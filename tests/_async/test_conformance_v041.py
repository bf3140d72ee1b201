"""Strict replay of fantasy v0.41.2's recordings (../shared/cassettes-v041) through the public API.

Each collected manifest entry builds its program the way ``conformance/SCENARIOS-v041.md``
says (``reverie.providers.<kind>.Provider(**provider_args, <auth>)``, an ``Agent`` with the
scenario's tools, ``prepare_step`` hook and files) and runs it, first turn then any
``followup``, against a strict ``Cassette``: every request must match a recorded one
(method, URL and JSON-equal body), every assertion of the entry must hold and every recorded
interaction must be used; credential assertions (``request_header``) check the requests sent.
Which suites are collected, and which entries are known to fail
today (strict xfails), is decided by the tables in ``tests/conformance/v041.py``.
"""

from __future__ import annotations

import httpx2
import pytest

from reverie.testing import Cassette
from reverie.testing.scenarios import (
    Scenario,
    build_agent,
    check_scenario,
    run_scenario_async,
)
from tests.conformance.v041 import collected, failure_marks
from tests.conftest import CASSETTES_V041


def _parameter(scenario: Scenario) -> object:
    return pytest.param(scenario, id=scenario.name, marks=failure_marks(scenario))


SCENARIOS = collected("agent")
pytestmark = pytest.mark.skipif(
    not SCENARIOS, reason=f"the v0.41.2 recordings are absent ({CASSETTES_V041}); conformance needs them"
)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "scenario", [_parameter(scenario) for scenario in SCENARIOS] or [pytest.param(None, id="absent")]
)
async def test_replays_v041_recording(scenario: Scenario) -> None:
    assert scenario.match == "strict"
    cassette = Cassette.load(scenario.recording, match="strict")
    async with httpx2.AsyncClient(transport=cassette) as client:
        agent = build_agent(scenario, async_http_client=client)
        turns = [await run_scenario_async(scenario, agent)]
        if scenario.followup is not None:
            turns.append(await run_scenario_async(scenario, agent, first_turn=turns[0]))
        assert check_scenario(scenario, turns, requests=cassette.requests) == []
        cassette.assert_all_used()
    assert len(cassette.used) == len(cassette.interactions)

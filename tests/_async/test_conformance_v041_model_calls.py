"""Strict replay of fantasy v0.41.2's ``model_calls`` recordings (computer use) through direct calls.

Each entry makes the two calls of ``conformance/SCENARIOS-v041.md`` ("computer_use"): a
screenshot asked for with ``anthropic.computer_use(...)``, then the model's call answered
with a tool result whose ``media`` is the entry's screenshot. The requests must match the
recording (``/messages?beta=true``, the image block inside ``tool_result``), the entry's
assertions must hold and every recorded interaction must be used.
"""

from __future__ import annotations

import httpx2
import pytest

from reverie.testing import Cassette
from reverie.testing.model_call_programs import check_model_calls, run_model_calls_async
from reverie.testing.scenarios import Scenario, build_provider
from tests.conformance.v041 import collected, failure_marks
from tests.conftest import CASSETTES_V041


def _parameter(scenario: Scenario) -> object:
    return pytest.param(scenario, id=scenario.name, marks=failure_marks(scenario))


SCENARIOS = collected("model_calls")
pytestmark = pytest.mark.skipif(
    not SCENARIOS, reason=f"the v0.41.2 recordings are absent ({CASSETTES_V041}); conformance needs them"
)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "scenario", [_parameter(scenario) for scenario in SCENARIOS] or [pytest.param(None, id="absent")]
)
async def test_replays_v041_model_calls_recording(scenario: Scenario) -> None:
    assert scenario.match == "strict"
    assert scenario.computer_use is not None
    cassette = Cassette.load(scenario.recording, match="strict")
    async with httpx2.AsyncClient(transport=cassette) as client:
        model = build_provider(scenario, async_http_client=client).language_model(scenario.model)
        outcomes = await run_model_calls_async(
            model,
            kind=scenario.kind,
            system_prompt=scenario.system_prompt,
            prompt=scenario.prompt,
            computer_use=scenario.computer_use,
            streaming=scenario.streaming,
        )
        assert check_model_calls(scenario.assertions, outcomes) == []
        cassette.assert_all_used()
    assert len(cassette.used) == len(cassette.interactions)

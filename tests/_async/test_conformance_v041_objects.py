"""Strict replay of fantasy v0.41.2's object recordings through ``generate_object`` / ``stream_object``.

Every ``*ObjectGeneration`` entry of the providers reverie has (OpenAI chat and Responses,
OpenAI-compatible, Anthropic, Gemini; the tables in ``tests/conformance/v041.py`` leave the
others out) runs with the schema in both forms, the manifest's dict and the equivalent
pydantic model, which must send the same request body. The program is the one of
``conformance/SCENARIOS-v041.md``: the provider of ``build_provider``, the entry's prompt,
schema, name, description and ``max_output_tokens``, ``mode="auto"``; then the entry's
assertions hold and every recorded interaction was used.
"""

from __future__ import annotations

import httpx2
import pytest

from reverie.testing import Cassette
from reverie.testing.object_programs import (
    check_object_program,
    object_arguments,
    run_object_program_async,
)
from reverie.testing.scenarios import Scenario, build_provider, check_requests
from tests.conformance.v041 import collected, failure_marks
from tests.conftest import CASSETTES_V041

FORMS = ("dict", "pydantic")


def _parameters(scenarios: list[Scenario]) -> list[object]:
    return [
        pytest.param(scenario, form, id=f"{scenario.name}-{form}", marks=failure_marks(scenario))
        for scenario in scenarios
        for form in FORMS
    ]


SCENARIOS = collected("object")
pytestmark = pytest.mark.skipif(
    not SCENARIOS, reason=f"the v0.41.2 recordings are absent ({CASSETTES_V041}); conformance needs them"
)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("scenario", "form"), _parameters(SCENARIOS) or [pytest.param(None, "dict", id="absent")]
)
async def test_replays_v041_object_recording(scenario: Scenario, form: str) -> None:
    assert scenario.match == "strict"
    assert scenario.object is not None
    cassette = Cassette.load(scenario.recording, match="strict")
    async with httpx2.AsyncClient(transport=cassette) as client:
        model = build_provider(scenario, async_http_client=client).language_model(scenario.model)
        arguments = object_arguments(
            scenario.prompt, scenario.object, max_output_tokens=scenario.max_output_tokens, form=form
        )
        run = await run_object_program_async(model, arguments, streaming=scenario.streaming)
        assert check_object_program(scenario.assertions, run) == []
        assert check_requests(scenario.assertions, cassette.requests) == []
        cassette.assert_all_used()
    assert len(cassette.used) == len(cassette.interactions)

"""The ``model_calls`` conformance program's checks, and provider tools in scenarios, without replay."""

from __future__ import annotations

import pytest

from reverie import ProviderTool, ToolCallPart
from reverie.testing.model_call_programs import CallOutcome, check_model_calls
from reverie.testing.scenarios import Scenario, provider_tools

ASSERTIONS = [
    {"check": "call_finish_reason", "call": 0, "value": "tool_calls"},
    {
        "check": "call_tool_calls",
        "call": 0,
        "count": 1,
        "names": ["computer"],
        "input_contains": "screenshot",
    },
    {"check": "call_text_contains", "call": 1, "values": ["desktop"]},
    {"check": "all_interactions_used"},
]


def outcomes(action: str, text: str) -> list[CallOutcome]:
    call = ToolCallPart(tool_call_id="t", tool_name="computer", input=f'{{"action":"{action}"}}')
    return [
        CallOutcome(finish_reason="tool_calls", tool_calls=[call]),
        CallOutcome(finish_reason="stop", text=text),
    ]


def test_the_checks_hold_for_a_matching_run() -> None:
    assert check_model_calls(ASSERTIONS, outcomes("screenshot", "a plain desktop")) == []


def test_the_checks_say_what_failed() -> None:
    failures = check_model_calls(ASSERTIONS, outcomes("left_click", "nothing"))
    assert failures == [
        "call_tool_calls (call 0): no tool call input contains 'screenshot'",
        "call_text_contains (call 1): ['desktop'] missing from 'nothing'",
    ]
    assert check_model_calls(ASSERTIONS[2:3], outcomes("screenshot", "desktop")[:1]) == [
        "call_text_contains: no call 1 (made 1)"
    ]


def scenario(factory: str) -> Scenario:
    return Scenario(
        path="x.yaml",
        kind="anthropic",
        base_url="",
        model="m",
        scenario="web_search",
        streaming=False,
        system_prompt=None,
        prompt="p",
        provider_tools=[{"factory": factory, "args": {"max_uses": 2}}],
    )


def test_provider_tools_are_made_by_their_factories() -> None:
    assert provider_tools(scenario("anthropic.web_search")) == [
        ProviderTool(id="anthropic.web_search_20250305", name="web_search", args={"max_uses": 2})
    ]
    with pytest.raises(ValueError, match="unknown provider tool factory"):
        provider_tools(scenario("anthropic.nothing"))

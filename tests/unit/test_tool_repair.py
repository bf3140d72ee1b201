"""Tool-call arguments that are almost JSON are repaired (json-repair) before they are judged invalid."""

from __future__ import annotations

import json

import pytest

from reverie import ToolCallPart, tool
from reverie._run.tools import check_tool_call, repair_json_arguments


@tool
def book_flight(city: str, nonstop: bool, seat: str | None = None, passengers: int = 1) -> str:
    """Book a flight."""
    return f"{city} {nonstop} {seat} {passengers}"


TOOLS = {"book_flight": book_flight}


def _call(arguments: str, name: str = "book_flight") -> ToolCallPart:
    return ToolCallPart(tool_call_id="c1", tool_name=name, input=arguments)


# Mistakes seen in real model output, each with the arguments it must come out as.
MALFORMED = [
    pytest.param(
        '{"city": "Rome", "nonstop": true,}', {"city": "Rome", "nonstop": True}, id="trailing comma"
    ),
    pytest.param(
        "{'city': 'Rome', 'nonstop': false}", {"city": "Rome", "nonstop": False}, id="single quotes"
    ),
    pytest.param('{city: "Rome", nonstop: true}', {"city": "Rome", "nonstop": True}, id="unquoted keys"),
    pytest.param('{"nonstop": true, "city": "Flor', {"city": "Flor", "nonstop": True}, id="cut string"),
    pytest.param(
        '{"city": "Rome", "nonstop": True, "seat": None}',
        {"city": "Rome", "nonstop": True, "seat": None},
        id="python True and None",
    ),
    pytest.param(
        '```json\n{"city": "Oslo", "nonstop": false, "passengers": 2}\n```',
        {"city": "Oslo", "nonstop": False, "passengers": 2},
        id="markdown fence",
    ),
]


@pytest.mark.parametrize(("arguments", "expected"), MALFORMED)
def test_malformed_arguments_are_repaired_and_validated(arguments: str, expected: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        json.loads(arguments)
    checked, prepared = check_tool_call(_call(arguments), TOOLS, None)
    assert checked.invalid is False and checked.error is None
    assert prepared is not None
    assert json.loads(checked.input) == expected  # the repaired input is what the history keeps
    assert {key: prepared.arguments[key] for key in expected} == expected


def test_valid_json_that_fails_validation_is_not_repaired() -> None:
    assert repair_json_arguments('{"city": 3}') is None
    checked, prepared = check_tool_call(_call('{"city": "Rome"}'), TOOLS, None)
    assert checked.invalid is True and prepared is None
    assert "nonstop" in (checked.error or "")


@pytest.mark.parametrize("arguments", ["not json at all", "", "   "])
def test_prose_is_beyond_repair_and_stays_invalid(arguments: str) -> None:
    assert repair_json_arguments(arguments or "x") is None
    checked, prepared = check_tool_call(_call(arguments), TOOLS, None)
    assert checked.invalid is True and prepared is None
    assert checked.input == arguments


def test_still_invalid_after_repair_reports_the_original_input() -> None:
    checked, prepared = check_tool_call(_call("{'city': 'Rome'"), TOOLS, None)
    assert prepared is None and checked.invalid is True
    assert checked.input == "{'city': 'Rome'"
    assert "not valid JSON" in (checked.error or "")


def test_a_repair_hook_replaces_json_repair() -> None:
    seen: list[str] = []

    def hook(call: ToolCallPart, error: str) -> ToolCallPart | None:
        seen.append(call.input)
        return None

    checked, prepared = check_tool_call(_call('{"city": "Rome", "nonstop": true,}'), TOOLS, hook)
    assert seen == ['{"city": "Rome", "nonstop": true,}']
    assert checked.invalid is True and prepared is None


def test_an_unknown_tool_is_not_repaired() -> None:
    checked, prepared = check_tool_call(_call("{'a': 1}", name="fly"), TOOLS, None)
    assert prepared is None and "unknown tool 'fly'" in (checked.error or "")

"""The assertions of the conformance programs, checked on an agent's result or on the requests sent.

Each check takes one manifest assertion and returns why it fails (``None`` when it holds);
``reverie.testing.scenarios.check_scenario`` applies them. The checks are described in the
conformance documents beside the recordings (``SCENARIOS.md``, ``SCENARIOS-v041.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx2

from reverie._content import ReasoningPart, SourcePart, ToolCallPart, ToolResultPart
from reverie._results import AgentResult, StepResult


def request_header_problem(
    assertion: Mapping[str, Any], requests: Sequence[httpx2.Request] | None
) -> str | None:
    """Why a ``request_header`` assertion fails (``None`` when every request carried the header).

    The assertion names the header (``name``) and one of ``equals``, ``prefix`` or
    ``contains`` for its value.
    """
    if not requests:
        return "no sent requests to check"
    name: str = assertion["name"]
    for index, request in enumerate(requests):
        value = request.headers.get(name)
        if value is None:
            return f"request {index} has no {name!r} header"
        if "equals" in assertion and value != assertion["equals"]:
            return f"request {index}: {name!r} is not the expected value"
        if "prefix" in assertion and not value.startswith(assertion["prefix"]):
            return f"request {index}: {name!r} does not start with {assertion['prefix']!r}"
        if "contains" in assertion and assertion["contains"] not in value:
            return f"request {index}: {name!r} does not contain {assertion['contains']!r}"
    return None


def _final_text_contains_any(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    values: Sequence[str] = assertion["values"]
    return None if any(value in result.text for value in values) else f"none of {values} in {result.text!r}"


def _final_text_contains_all(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    missing = [value for value in assertion["values"] if value not in result.text]
    return f"{missing} missing from {result.text!r}" if missing else None


def _final_text_nonempty(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    return None if result.text.strip() else "the final text is empty"


def _min_steps(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    return None if len(result.steps) >= assertion["value"] else f"only {len(result.steps)} steps"


def _exact_steps(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    return None if len(result.steps) == assertion["value"] else f"{len(result.steps)} steps"


def _step_tool_calls(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    index: int = assertion["step"]
    if index >= len(result.steps):
        return f"no step {index}"
    step = result.steps[index]
    from_content = [part for part in step.content if part.type == "tool_call"]
    if from_content != step.tool_calls:
        return "step.tool_calls differs from the tool_call parts of step.content"
    if len(from_content) != assertion["count"]:
        return f"{len(from_content)} tool calls, expected {assertion['count']}"
    names = assertion.get("names")
    actual = [call.tool_name for call in step.tool_calls]
    if names is not None and actual != names:
        return f"tool calls {actual}, expected {names}"
    return None


def _no_invalid_tool_calls(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    index: int = assertion["step"]
    if index >= len(result.steps):
        return f"no step {index}"
    invalid = [call.tool_name for call in result.steps[index].tool_calls if call.invalid]
    return f"invalid calls: {invalid}" if invalid else None


def _message_reasoning(result: AgentResult) -> list[ReasoningPart]:
    return [
        part
        for step in result.steps
        for message in step.messages
        for part in message.content
        if isinstance(part, ReasoningPart)
    ]


def _min_reasoning_parts(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    count = len(_message_reasoning(result))
    return None if count >= assertion["value"] else f"{count} reasoning parts in the step messages"


def _anthropic_reasoning_signatures(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    with_text = [part for part in _message_reasoning(result) if part.text]
    if not with_text:
        return "no reasoning part with text"
    unsigned = [
        part for part in with_text if not part.provider_metadata.get("anthropic", {}).get("signature")
    ]
    return f"{len(unsigned)} reasoning parts without a signature" if unsigned else None


def _reasoning_metadata(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    key: str = assertion["key"]
    name: str = assertion["field"]
    parts = _message_reasoning(result)
    if not parts:
        return "no reasoning part in the step messages"
    unmarked = sum(1 for part in parts if not part.provider_metadata.get(key, {}).get(name))
    if unmarked:
        return f"{unmarked} of {len(parts)} reasoning parts lack provider_metadata[{key!r}][{name!r}]"
    if assertion.get("require_text"):
        empty = sum(1 for part in parts if not part.text)
        if empty:
            return f"{empty} of {len(parts)} reasoning parts have no text"
    return None


def _final_step(result: AgentResult) -> StepResult | None:
    """The step that wrote the final text (as ``AgentResult.text`` picks it)."""
    for step in reversed(result.steps):
        if step.text.strip():
            return step
    return None


def _final_step_reasoning_tokens(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    step = _final_step(result)
    if step is None:
        return "no step wrote text"
    tokens, least = step.usage.reasoning_tokens, assertion["min"]
    return None if tokens >= least else f"{tokens} reasoning tokens in the final step, expected >= {least}"


def _provider_tool_calls(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    calls = [
        part
        for step in result.steps
        for part in step.content
        if isinstance(part, ToolCallPart) and part.provider_executed
    ]
    if len(calls) < assertion["min"]:
        return f"{len(calls)} provider-executed tool calls, expected >= {assertion['min']}"
    first = assertion.get("first_name")
    if first is not None and calls[0].tool_name != first:
        return f"the first provider-executed call is {calls[0].tool_name!r}, expected {first!r}"
    return None


def _provider_tool_results(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    count = sum(
        1
        for step in result.steps
        for part in step.content
        if isinstance(part, ToolResultPart) and part.provider_executed
    )
    return None if count >= assertion["min"] else f"{count} provider-executed results"


def _sources(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    sources = [part for step in result.steps for part in step.content if isinstance(part, SourcePart)]
    if len(sources) < assertion.get("min", 1):
        return f"{len(sources)} sources, expected >= {assertion.get('min', 1)}"
    if assertion.get("first_has_url") and not sources[0].url:
        return "the first source has no URL"
    if assertion.get("all_have_url") and not all(source.url for source in sources):
        return "a source has no URL"
    return None


def _about_requests(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    return None


def unknown_check(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    """A check this kit does not know fails, rather than passing unseen."""
    return f"unknown check {assertion['check']!r}"


CHECKS: dict[str, Callable[[Mapping[str, Any], AgentResult], str | None]] = {  # by manifest name
    "final_text_contains_any": _final_text_contains_any,
    "final_text_contains_all": _final_text_contains_all,
    "final_text_nonempty": _final_text_nonempty,
    "min_steps": _min_steps,
    "exact_steps": _exact_steps,
    "step_tool_calls": _step_tool_calls,
    "no_invalid_tool_calls": _no_invalid_tool_calls,
    "min_reasoning_parts": _min_reasoning_parts,
    "anthropic_reasoning_signatures": _anthropic_reasoning_signatures,
    "reasoning_metadata": _reasoning_metadata,
    "final_step_reasoning_tokens": _final_step_reasoning_tokens,
    "provider_tool_calls": _provider_tool_calls,
    "provider_tool_results": _provider_tool_results,
    "sources": _sources,
    "all_interactions_used": _about_requests,
    "request_header": _about_requests,
}

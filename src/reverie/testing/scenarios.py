"""The conformance scenarios as code: the agent programs, their tools and their checks.

A ``Scenario`` describes one recorded conversation (the fields of a cassette manifest
entry). ``build_agent`` builds the exact program that produced the recording,
``run_scenario``/``run_scenario_async`` make its single agent call the way the scenario
says (``generate``, or ``stream`` then ``result()``), and ``check_scenario`` evaluates its
assertions.

The tools (``SCENARIO_TOOLS``) and the replay retry policy (``REPLAY_RETRY``) are shared with
``reverie demo`` and live beside it in ``reverie._demo``, so that the command line never
imports this test kit; they are re-exported here under their usual names.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from reverie._agent import Agent
from reverie._content import ReasoningPart
from reverie._demo.programs import REPLAY_RETRY as REPLAY_RETRY
from reverie._demo.tools import TOOLS as SCENARIO_TOOLS
from reverie._demo.tools import add as add
from reverie._demo.tools import multiply as multiply
from reverie._demo.tools import weather as weather
from reverie._parts import AgentStreamPart
from reverie._results import AgentResult
from reverie._retry import RetryPolicy

__all__ = [
    "SCENARIO_TOOLS",
    "Scenario",
    "build_agent",
    "check_scenario",
    "load_manifest",
    "run_scenario",
    "run_scenario_async",
]


@dataclass(slots=True, kw_only=True)
class Scenario:
    """One recorded agent program (a manifest entry)."""

    path: str
    kind: str
    """The provider module: ``openrouter``, ``openai``, ``openaicompat``, ``anthropic``, ``google``."""
    base_url: str
    model: str
    scenario: str
    streaming: bool
    system_prompt: str
    prompt: str
    tools: list[str] = field(default_factory=list[str])
    max_output_tokens: int | None = None
    provider_options: dict[str, Any] | None = None
    assertions: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Scenario:
        """Build from a manifest entry, ignoring bookkeeping fields."""
        names = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in entry.items() if key in names})

    @property
    def name(self) -> str:
        """``path`` without its extension, e.g. ``openrouter/gpt-5/tool``."""
        return self.path.removesuffix(".yaml")


def load_manifest(path: str | Path) -> list[Scenario]:
    """The scenarios of a ``manifest.json``."""
    data = json.loads(Path(path).read_text())
    return [Scenario.from_entry(entry) for entry in data["entries"]]


def build_agent(
    scenario: Scenario,
    *,
    http_client: httpx2.Client | None = None,
    async_http_client: httpx2.AsyncClient | None = None,
    api_key: str = "test-key",
    retry: RetryPolicy = REPLAY_RETRY,
    base_url: str | None = None,
) -> Agent:
    """The scenario's program: its provider, model, system prompt and tools."""
    module = importlib.import_module(f"reverie.providers.{scenario.kind}")
    provider = module.Provider(
        api_key=api_key,
        base_url=base_url or scenario.base_url,
        http_client=http_client,
        async_http_client=async_http_client,
    )
    return Agent(
        provider.language_model(scenario.model),
        system_prompt=scenario.system_prompt,
        tools=[SCENARIO_TOOLS[name] for name in scenario.tools],
        retry=retry,
    )


def _call_settings(scenario: Scenario) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if scenario.max_output_tokens is not None:
        settings["max_output_tokens"] = scenario.max_output_tokens
    if scenario.provider_options is not None:
        settings["provider_options"] = scenario.provider_options
    return settings


def run_scenario(
    scenario: Scenario, agent: Agent, *, on_part: Callable[[AgentStreamPart], None] | None = None
) -> AgentResult:
    """Make the scenario's agent call (sync)."""
    settings = _call_settings(scenario)
    if not scenario.streaming:
        return agent.generate(scenario.prompt, **settings)
    stream = agent.stream(scenario.prompt, **settings)
    for part in stream:
        if on_part is not None:
            on_part(part)
    return stream.result()


async def run_scenario_async(
    scenario: Scenario, agent: Agent, *, on_part: Callable[[AgentStreamPart], None] | None = None
) -> AgentResult:
    """Make the scenario's agent call (async)."""
    settings = _call_settings(scenario)
    if not scenario.streaming:
        return await agent.generate_async(scenario.prompt, **settings)
    stream = agent.stream_async(scenario.prompt, **settings)
    async for part in stream:
        if on_part is not None:
            on_part(part)
    return await stream.result()


def check_scenario(scenario: Scenario, result: AgentResult) -> list[str]:
    """The scenario's assertions that ``result`` fails, as messages (empty when all hold).

    ``all_interactions_used`` is the cassette's business and is skipped here.
    """
    failures: list[str] = []
    for assertion in scenario.assertions:
        problem = _CHECKS.get(assertion["check"], _unknown_check)(assertion, result)
        if problem:
            failures.append(f"{assertion['check']}: {problem}")
    return failures


def _final_text_contains_any(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    values: Sequence[str] = assertion["values"]
    return None if any(value in result.text for value in values) else f"none of {values} in {result.text!r}"


def _final_text_contains_all(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    missing = [value for value in assertion["values"] if value not in result.text]
    return f"{missing} missing from {result.text!r}" if missing else None


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


def _all_interactions_used(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    return None


def _unknown_check(assertion: Mapping[str, Any], result: AgentResult) -> str | None:
    return f"unknown check {assertion['check']!r}"


_CHECKS: dict[str, Callable[[Mapping[str, Any], AgentResult], str | None]] = {
    "final_text_contains_any": _final_text_contains_any,
    "final_text_contains_all": _final_text_contains_all,
    "min_steps": _min_steps,
    "exact_steps": _exact_steps,
    "step_tool_calls": _step_tool_calls,
    "no_invalid_tool_calls": _no_invalid_tool_calls,
    "min_reasoning_parts": _min_reasoning_parts,
    "anthropic_reasoning_signatures": _anthropic_reasoning_signatures,
    "all_interactions_used": _all_interactions_used,
}

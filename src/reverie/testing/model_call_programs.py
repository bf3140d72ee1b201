"""The conformance ``model_calls`` programs: direct model calls with computer use, and their checks.

A manifest entry with ``program: "model_calls"`` makes two calls of the model itself, no
agent (``SCENARIOS-v041.md``, "computer_use"): the first asks for a screenshot with the
computer-use tool (``computer_use`` field: ``version`` and display size); the second sends
back the model's call and a tool result holding the entry's screenshot as ``media``.
``run_model_calls`` / ``run_model_calls_async`` make them (``generate``, or ``stream``
iterated to the end); ``check_model_calls`` evaluates the entry's assertions
(``call_finish_reason``, ``call_tool_calls``, ``call_text_contains``).

What it does not do: replay (the caller wires a ``Cassette`` into the provider, built with
``reverie.testing.scenarios.build_provider``) or agent programs (``scenarios`` runs those).
"""

from __future__ import annotations

import base64
import importlib
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from reverie._content import FilePart, FinishReason, Message, TextPart, ToolCallPart, ToolResultPart
from reverie._model import Call, LanguageModel, ProviderTool, Response
from reverie._parts import FinishPart, ModelStreamPart, RetryPart, TextDeltaPart

__all__ = [
    "CallOutcome",
    "check_model_calls",
    "computer_use_tool",
    "run_model_calls",
    "run_model_calls_async",
]


@dataclass(slots=True, kw_only=True)
class CallOutcome:
    """What one direct model call gave: its finish reason, tool calls and text."""

    finish_reason: FinishReason = "unknown"
    tool_calls: list[ToolCallPart] = field(default_factory=list[ToolCallPart])
    text: str = ""

    @classmethod
    def of_response(cls, response: Response) -> CallOutcome:
        """The outcome of a ``generate`` call."""
        return cls(
            finish_reason=response.finish_reason,
            tool_calls=[part for part in response.content if isinstance(part, ToolCallPart)],
            text="".join(part.text for part in response.content if isinstance(part, TextPart)),
        )

    @classmethod
    def of_stream(cls, parts: Iterable[ModelStreamPart | RetryPart]) -> CallOutcome:
        """The outcome of a ``stream`` call, from all of its parts (after the last ``retry``)."""
        outcome = cls()
        pieces: list[str] = []
        for part in parts:
            if isinstance(part, RetryPart):  # the model started over: what came before is void
                outcome = cls()
                pieces = []
            elif isinstance(part, TextDeltaPart):
                pieces.append(part.delta)
            elif isinstance(part, ToolCallPart):
                outcome.tool_calls.append(part)
            elif isinstance(part, FinishPart):
                outcome.finish_reason = part.finish_reason
        outcome.text = "".join(pieces)
        return outcome


def computer_use_tool(kind: str, settings: Mapping[str, Any]) -> ProviderTool:
    """The entry's computer-use tool: ``reverie.providers.<kind>.computer_use(...)``."""
    module = importlib.import_module(f"reverie.providers.{kind}")
    return module.computer_use(
        display_width_px=settings["display_width_px"],
        display_height_px=settings["display_height_px"],
        version=settings["version"],
    )


def _first_prompt(system_prompt: str | None, prompt: str) -> list[Message]:
    system = [Message.system(system_prompt)] if system_prompt else []
    return [*system, Message.user(prompt)]


def _second_prompt(first: list[Message], outcome: CallOutcome, settings: Mapping[str, Any]) -> list[Message]:
    if not outcome.tool_calls:
        raise AssertionError("the first call made no tool call to answer with a screenshot")
    call = outcome.tool_calls[0]
    screenshot = FilePart(
        data=base64.b64decode(settings["screenshot_base64"]),
        media_type=settings.get("screenshot_media_type", "image/png"),
    )
    assistant = ToolCallPart(tool_call_id=call.tool_call_id, tool_name=call.tool_name, input=call.input)
    result = ToolResultPart(
        tool_call_id=call.tool_call_id, tool_name=call.tool_name, output="", media=screenshot
    )
    return [*first, Message(role="assistant", content=[assistant]), Message(role="tool", content=[result])]


def run_model_calls(
    model: LanguageModel,
    *,
    kind: str,
    system_prompt: str | None,
    prompt: str,
    computer_use: Mapping[str, Any],
    streaming: bool,
) -> list[CallOutcome]:
    """Make the program's two calls (sync) and return their outcomes in order.

    Args:
        model: The model (``build_provider(scenario).language_model(scenario.model)``).
        kind: The provider module that makes the computer-use tool.
        system_prompt: The entry's system prompt.
        prompt: The entry's user prompt.
        computer_use: The entry's ``computer_use`` field (tool settings and screenshot).
        streaming: ``stream`` (iterated to the end) rather than ``generate``.
    """
    tool = computer_use_tool(kind, computer_use)
    first = _first_prompt(system_prompt, prompt)
    outcomes: list[CallOutcome] = []
    for build in (lambda: first, lambda: _second_prompt(first, outcomes[0], computer_use)):
        call = Call(prompt=build(), tools=[tool])
        if streaming:
            outcomes.append(CallOutcome.of_stream(list(model.stream(call))))
        else:
            outcomes.append(CallOutcome.of_response(model.generate(call)))
    return outcomes


async def run_model_calls_async(
    model: LanguageModel,
    *,
    kind: str,
    system_prompt: str | None,
    prompt: str,
    computer_use: Mapping[str, Any],
    streaming: bool,
) -> list[CallOutcome]:
    """Async ``run_model_calls``."""
    tool = computer_use_tool(kind, computer_use)
    first = _first_prompt(system_prompt, prompt)
    outcomes: list[CallOutcome] = []
    for build in (lambda: first, lambda: _second_prompt(first, outcomes[0], computer_use)):
        call = Call(prompt=build(), tools=[tool])
        if streaming:
            outcomes.append(CallOutcome.of_stream(await _collect(model.stream_async(call))))
        else:
            outcomes.append(CallOutcome.of_response(await model.generate_async(call)))
    return outcomes


async def _collect(stream: AsyncIterator[ModelStreamPart | RetryPart]) -> list[ModelStreamPart | RetryPart]:
    return [part async for part in stream]


def check_model_calls(assertions: Sequence[Mapping[str, Any]], outcomes: Sequence[CallOutcome]) -> list[str]:
    """The assertions the calls fail, as messages (empty when all hold).

    ``all_interactions_used`` is the cassette's business and is skipped here.
    """
    failures: list[str] = []
    for assertion in assertions:
        check = assertion["check"]
        if check == "all_interactions_used":
            continue
        index: int = assertion.get("call", 0)
        if index >= len(outcomes):
            failures.append(f"{check}: no call {index} (made {len(outcomes)})")
            continue
        problem = _CHECKS.get(check, _unknown)(assertion, outcomes[index])
        if problem:
            failures.append(f"{check} (call {index}): {problem}")
    return failures


def _finish_reason(assertion: Mapping[str, Any], outcome: CallOutcome) -> str | None:
    expected = assertion["value"]
    return None if outcome.finish_reason == expected else f"{outcome.finish_reason!r}, expected {expected!r}"


def _tool_calls(assertion: Mapping[str, Any], outcome: CallOutcome) -> str | None:
    calls = outcome.tool_calls
    count = assertion.get("count")
    if count is not None and len(calls) != count:
        return f"{len(calls)} tool calls, expected {count}"
    names = assertion.get("names")
    actual = [call.tool_name for call in calls]
    if names is not None and actual != names:
        return f"tool calls {actual}, expected {names}"
    word = assertion.get("input_contains")
    if word is not None and not any(word in call.input for call in calls):
        return f"no tool call input contains {word!r}"
    return None


def _text_contains(assertion: Mapping[str, Any], outcome: CallOutcome) -> str | None:
    missing = [value for value in assertion["values"] if value not in outcome.text]
    return f"{missing} missing from {outcome.text!r}" if missing else None


def _unknown(assertion: Mapping[str, Any], outcome: CallOutcome) -> str | None:
    return f"unknown check {assertion['check']!r}"


_CHECKS: dict[str, Callable[[Mapping[str, Any], CallOutcome], str | None]] = {
    "call_finish_reason": _finish_reason,
    "call_tool_calls": _tool_calls,
    "call_text_contains": _text_contains,
}

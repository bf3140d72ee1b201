"""``reverie demo [--live] [--provider NAME] [--model ID]``: two small agents, replayed or live.

The demo runs the two small agent programs of ``reverie._demo``. Offline (the default)
they replay recordings bundled with the package through ``reverie._cassette``, so no key or
network is needed; ``--live`` sends the same programs to the real service. The CLI only
formats what the public API reports (callbacks and stream parts); it adds no behaviour of
its own, and it never imports the test kit (``reverie.testing``). ``reverie._cli`` parses the
arguments.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any, TextIO

import httpx2

from reverie._agent import Agent
from reverie._cli.common import Connection
from reverie._content import ToolCallPart, ToolResultPart
from reverie._demo.programs import OFFLINE_MODEL, PROGRAMS, REPLAY_RETRY, SYSTEM_PROMPT, Program
from reverie._demo.recordings import open_recording
from reverie._errors import ReverieError
from reverie._model import LanguageModel
from reverie._parts import RetryPart, TextDeltaPart
from reverie._results import AgentResult, StepResult
from reverie._retry import RetryPolicy
from reverie._tools.protocol import Tool

_LIVE_MODELS = {
    "openrouter": ("moonshotai/kimi-k2-0905", "OPENROUTER_API_KEY"),
    "anthropic": ("claude-sonnet-4-20250514", "ANTHROPIC_API_KEY"),
    "google": ("gemini-2.5-flash", "GEMINI_API_KEY"),
}


class _Printer:
    """Terminal output: plain text, with colour only on a terminal that wants it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        colour = out.isatty() and os.environ.get("NO_COLOR") is None and os.environ.get("TERM") != "dumb"
        self._dim = "\033[2m" if colour else ""
        self._bold = "\033[1m" if colour else ""
        self._reset = "\033[0m" if colour else ""
        self._open_line = False

    def line(self, text: str = "", *, dim: bool = False, bold: bool = False) -> None:
        """Print a whole line, first ending any streamed text."""
        self.end_line()
        style = (self._dim if dim else "") + (self._bold if bold else "")
        self.out.write(f"{style}{text}{self._reset if style else ''}\n")
        self.out.flush()

    def write(self, text: str) -> None:
        """Print streamed text as it arrives."""
        self.out.write(text)
        self.out.flush()
        self._open_line = True

    def end_line(self) -> None:
        """End the streamed line, if one is open."""
        if self._open_line:
            self.out.write("\n")
            self._open_line = False


def run_demo(*, live: bool, provider: str, model: str | None, connection: Connection) -> int:
    """``reverie demo``: run both programs and print what happens; returns the exit code."""
    printer = _Printer(sys.stdout)
    try:
        return _demo(printer, live=live, provider=provider, model=model, connection=connection)
    except ReverieError as error:
        printer.line(f"error: {error}")
        return 1


def _demo(printer: _Printer, *, live: bool, provider: str, model: str | None, connection: Connection) -> int:
    if not live and (provider != "openrouter" or model or connection != Connection()):
        printer.line(
            "error: --provider, --model, --api-key, --base-url and --timeout choose what --live calls; "
            "the offline demo replays OpenRouter"
        )
        return 2
    mode = f"live, {provider}" if live else "offline replay of bundled recordings, no API key needed"
    printer.line(f"reverie demo ({mode})", bold=True)
    for number, program in enumerate(PROGRAMS, start=1):
        printer.line()
        printer.line(f"{number}. {program.title}", bold=True)
        with ExitStack() as stack:
            agent = _agent_for(
                program,
                stack,
                live=live,
                provider=provider,
                model=model,
                connection=connection,
                printer=printer,
            )
            printer.line(f"   {agent.model.provider} · {agent.model.model_id}", dim=True)
            printer.line(f"   > {program.prompt}")
            result = _run(program, agent, printer, live=live)
            _summary(printer, result)
    return 0


def _agent_for(
    program: Program,
    stack: ExitStack,
    *,
    live: bool,
    provider: str,
    model: str | None,
    connection: Connection,
    printer: _Printer,
) -> Agent:
    # The tools import pydantic, so they load when a program runs, not with the CLI.
    from reverie._demo.tools import TOOLS

    module = importlib.import_module(f"reverie.providers.{provider}")
    tools = [TOOLS[name] for name in program.tools]
    if live:
        model_id, _ = _LIVE_MODELS[provider]
        settings = {"api_key": connection.api_key, "base_url": connection.base_url}
        language_model = module.Provider(**settings).language_model(model or model_id)
        return _reporting_agent(language_model, tools, RetryPolicy(), printer, timeout=connection.timeout)
    try:
        cassette = open_recording(program.recording)
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise SystemExit(f"the offline demo needs PyYAML: pip install 'reverie[testing]' ({error})") from None
    client = stack.enter_context(httpx2.Client(transport=cassette))
    language_model = module.Provider(api_key="offline-demo", http_client=client).language_model(OFFLINE_MODEL)
    return _reporting_agent(language_model, tools, REPLAY_RETRY, printer)


def _reporting_agent(
    model: LanguageModel,
    tools: Sequence[Tool],
    retry: RetryPolicy,
    printer: _Printer,
    *,
    timeout: float | None = None,
) -> Agent:
    """The demo agent, with callbacks that narrate each step."""

    def on_tool_call(call: ToolCallPart) -> None:
        printer.line(f"   ↳ tool call  {call.tool_name}({call.input})")

    def on_tool_result(result: ToolResultPart) -> None:
        printer.line(f"   ↳ tool result  {result.output}")

    def on_retry(retry: RetryPart) -> None:
        printer.line(f"   ↻ step {retry.step_number + 1}: {retry.error}", dim=True)
        discarded = f", {retry.discarded.parts} streamed parts discarded" if retry.discarded else ""
        printer.line(f"     retry {retry.attempt} after {retry.delay:.1f}s{discarded}", dim=True)

    def on_step_finish(step: StepResult) -> None:
        upstream = step.provider_metadata.get("openrouter", {}).get("provider")
        served = f" (served by {upstream})" if upstream else ""
        printer.line(f"   step {step.step_number + 1} finished: {step.finish_reason}{served}", dim=True)

    return Agent(
        model,
        system_prompt=SYSTEM_PROMPT,
        tools=tools,
        retry=retry,
        on_tool_call=on_tool_call,
        on_tool_result=on_tool_result,
        on_retry=on_retry,
        on_step_finish=on_step_finish,
        timeout=timeout,
    )


def _run(program: Program, agent: Agent, printer: _Printer, *, live: bool) -> AgentResult:
    options: dict[str, Any] = {"max_output_tokens": 4000}
    if not live:
        options["provider_options"] = {"openrouter": {"provider": {"only": [program.upstream]}}}
    if not program.streaming:
        result = agent.generate(program.prompt, **options)
        printer.line(f"   answer: {result.text}")
        return result
    stream = agent.stream(program.prompt, **options)
    started = False
    for part in stream:
        if isinstance(part, RetryPart):
            started = False  # the failed attempt's text was discarded; the answer starts over
        elif isinstance(part, TextDeltaPart):
            if not started:
                printer.write("   answer (streamed): ")
                started = True
            printer.write(part.delta)
    printer.end_line()
    return stream.result()


def _summary(printer: _Printer, result: AgentResult) -> None:
    usage = result.total_usage
    cost = f" · cost ${result.total_cost:.6f}" if result.total_cost else ""
    steps = len(result.steps)
    printer.line(
        f"   usage: {usage.input_tokens} input + {usage.output_tokens} output = {usage.total_tokens} tokens"
        f"{cost} · {steps} step{'s' if steps != 1 else ''}",
        dim=True,
    )

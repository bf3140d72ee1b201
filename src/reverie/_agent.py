"""``Agent``: configuration for runs of the model-tools loop.

The class only holds configuration and resolves it per call; the work is done by
``reverie._sync.runner`` (``generate``, ``stream``) and ``reverie._async.runner``
(``generate_async``, ``stream_async``), generated from one source.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypedDict, Unpack

from reverie._content import Message, ToolCallPart, ToolResultPart
from reverie._errors import UserError
from reverie._http.headers import check_headers, merge_headers
from reverie._model import Call, LanguageModel, ProviderTool, ToolChoice
from reverie._parts import RetryPart
from reverie._results import AgentResult, StepResult
from reverie._retry import RetryPolicy
from reverie._run.config import (
    Callbacks,
    RepairToolCall,
    RunConfig,
    StopCondition,
)
from reverie._run.hooks import NO_HOOKS, RunHooks
from reverie._sync import runner as sync_runner
from reverie._tools.toolset import ToolSet, check_tools, split_toolsets
from reverie._wire_cache import SharedWireStore

DEFAULT_MAX_STEPS = 20
"""A run stops after this many steps unless ``max_steps`` says otherwise (a runaway-loop guard)."""


class CallSettings(TypedDict, total=False):
    """Settings accepted by ``Agent(...)`` as defaults and by each call as overrides."""

    max_output_tokens: int | None
    temperature: float | None
    top_p: float | None
    top_k: int | None
    presence_penalty: float | None
    frequency_penalty: float | None
    stop_sequences: list[str] | None
    seed: int | None
    tool_choice: ToolChoice | None
    provider_options: dict[str, Any] | None
    """Keyed by provider name: a plain dict or the provider's typed ``Options``."""
    headers: dict[str, str] | None
    max_steps: int
    stop_when: StopCondition | Sequence[StopCondition] | None
    timeout: float | None
    """Seconds one model request may take in all, whole stream included; on expiry a retryable
    ``ProviderError`` that says it timed out (``None``: only the HTTP client's timeouts)."""
    deadline: float | None
    """Seconds the whole run may take, retries, waits and tool runs included; past it the run
    ends with ``DeadlineExceededError`` (``None``: no bound)."""
    budget: Budget | None
    """What the run may spend (money, tokens, requests); one ``Budget`` may be shared by many
    runs. Spent, the run ends with ``BudgetExceededError`` (``None``: no limit)."""
    journal: Journal | None
    """Where a durable run records each model answer and tool result as it completes (e.g.
    ``reverie.SQLiteJournal("runs.db")``); give ``run_id`` with it. Run again with the same id,
    the run replays what was recorded and goes on from there."""
    run_id: str | None
    """The durable run's id in ``journal`` (both or neither)."""


SETTING_NAMES = frozenset(CallSettings.__annotations__)

if TYPE_CHECKING:
    from reverie._async import runner as async_runner
    from reverie._journal.protocol import Journal, RunRecord
    from reverie._run.output import OutputMode, OutputSpec
    from reverie._run.resume import Answer
    from reverie._run.spending import Budget
    from reverie._run.step_hook import PrepareStep  # loaded by runs that have the hook
    from reverie._tools.protocol import Tool, Toolset  # loaded with the first tool

if TYPE_CHECKING:
    from typing_extensions import TypeVar  # a default (PEP 696) for the type checker only

    OutputT = TypeVar("OutputT", default=str)
else:
    from typing import TypeVar

    OutputT = TypeVar("OutputT")


class Agent(Generic[OutputT]):
    """Runs a model in a loop with tools until it answers (with typed output, if asked for).

    Args:
        model: The language model (``provider.language_model(id)`` or a ``MockModel``), or a
            model string such as ``"openai:gpt-4o"`` (see ``reverie.model``).
        system_prompt: Sent as the first message of every run.
        tools: Functions made with ``@tool``, any other ``Tool``, provider-defined tools
            (``ProviderTool``, e.g. ``anthropic.web_search()``), or toolsets (``Toolset``, e.g.
            ``reverie.mcp.stdio(...)``), whose tools join each run: a run opens each toolset
            and closes it when it ends, unless the caller holds it open (``with`` / ``async with``).
        retry: How failed steps are retried (default ``RetryPolicy()``: 3 retries, 5 s, x2).
        prepare_step: Called before each step; may change the model, messages, tools or tool choice.
        repair_tool_call: Called with an invalid tool call and its error; may return a fixed call.
        on_step_start: Called with the step number when a step starts.
        on_step_finish: Called with each finished ``StepResult``.
        on_text_delta: Called with each piece of streamed text.
        on_reasoning_delta: Called with each piece of streamed reasoning.
        on_tool_call: Called with each tool call (validated) before tools run.
        on_tool_result: Called with each tool result.
        on_retry: Called with the ``RetryPart`` before each retry.
        on_finish: Called with the ``AgentResult`` at the end of a run.

            Any ``on_*`` callback may be ``async def``: async runs await it before going on;
            sync runs refuse it with a ``UserError`` before any request.
        output_type: The type (or JSON-schema dict) the run must end with; ``result.output`` is
            then a validated instance. Without it, ``result.output`` is the final text.
        output_mode: How the output is asked for: ``"auto"`` (native JSON output where the model
            has it and the agent has no tools, else an output tool), ``"json"``, ``"tool"`` or ``"text"``.
        output_retries: How many invalid outputs are sent back to the model for another try
            before the run raises ``NoObjectGeneratedError``.
        name: The agent's name, shown in traces (``invoke_agent {name}``, ``gen_ai.agent.name``).
        instrument: Record this agent's runs as OpenTelemetry spans and metrics (the ``otel``
            extra). ``True``: with the settings of ``reverie.instrument()`` when it was called,
            else to the global tracer and meter providers without message content. ``None``
            (the default): only while ``reverie.instrument()`` is on. ``False``: never.
        **settings: Defaults for every call (see ``CallSettings``).
    """

    def __init__(
        self,
        model: LanguageModel | str,
        *,
        system_prompt: str | None = None,
        tools: Sequence[Tool | ProviderTool | Toolset] = (),
        retry: RetryPolicy | None = None,
        prepare_step: PrepareStep | None = None,
        repair_tool_call: RepairToolCall | None = None,
        on_step_start: Callable[[int], Awaitable[None] | None] | None = None,
        on_step_finish: Callable[[StepResult], Awaitable[None] | None] | None = None,
        on_text_delta: Callable[[str], Awaitable[None] | None] | None = None,
        on_reasoning_delta: Callable[[str], Awaitable[None] | None] | None = None,
        on_tool_call: Callable[[ToolCallPart], Awaitable[None] | None] | None = None,
        on_tool_result: Callable[[ToolResultPart], Awaitable[None] | None] | None = None,
        on_retry: Callable[[RetryPart], Awaitable[None] | None] | None = None,
        on_finish: Callable[[AgentResult[Any]], Awaitable[None] | None] | None = None,
        output_type: type[OutputT] | Any = None,
        output_mode: OutputMode = "auto",
        output_retries: int = 1,
        name: str | None = None,
        instrument: bool | None = None,
        **settings: Unpack[CallSettings],
    ) -> None:
        _check_settings(settings)
        if isinstance(model, str):
            from reverie._model_strings import model as model_from_string

            model = model_from_string(model)
        if instrument:
            from reverie._instrument import require_opentelemetry

            require_opentelemetry()
        _check_model(model)
        check_headers(settings.get("headers"), "Agent(headers=...)")
        self.output: OutputSpec | None = _output_spec(output_type, output_mode, output_retries)
        self.model = model
        self.system_prompt = system_prompt
        own_tools, toolsets = split_toolsets(tools)
        self.tools: tuple[Tool, ...] = check_tools(own_tools)
        self.toolsets: tuple[Toolset, ...] = toolsets
        """Opened for each run; their tools join ``tools`` for the run."""
        self._tool_set = ToolSet(self.tools)
        """The tools resolved once for every run (made anew if ``tools`` is replaced)."""
        self._message_wire = SharedWireStore()
        """Encoded messages, shared by the agent's runs while the messages live."""
        self.retry = retry or RetryPolicy()
        self.prepare_step = prepare_step
        self.repair_tool_call = repair_tool_call
        self.callbacks = Callbacks(
            on_step_start=on_step_start,
            on_step_finish=on_step_finish,
            on_text_delta=on_text_delta,
            on_reasoning_delta=on_reasoning_delta,
            on_tool_call=on_tool_call,
            on_tool_result=on_tool_result,
            on_retry=on_retry,
            on_finish=on_finish,
        )
        self.settings: CallSettings = settings
        self.name = name
        self.instrument = instrument
        self._hooks: RunHooks = NO_HOOKS
        """Hooks every run uses instead of the tracing ones (a seam for tests)."""
        self._resolved: _Resolved | None = None
        """What runs without overrides take from ``settings``, kept while the settings stay the same."""

    def __repr__(self) -> str:
        toolsets = f", toolsets={[item.name for item in self.toolsets]}" if self.toolsets else ""
        return f"Agent(model={self.model!r}, tools={[item.name for item in self.tools]}{toolsets})"

    def generate(
        self,
        prompt: str | Sequence[Message] | None = None,
        *,
        messages: Sequence[Message] | None = None,
        **settings: Unpack[CallSettings],
    ) -> AgentResult[OutputT]:
        """Run to the end and return the result.

        Args:
            prompt: The user's message (a string) or messages to append.
            messages: Earlier conversation to continue (e.g. an earlier ``result.messages``).
            **settings: Overrides of the agent's settings for this run.
        """
        return sync_runner.generate(self._config(prompt, messages, settings))

    async def generate_async(
        self,
        prompt: str | Sequence[Message] | None = None,
        *,
        messages: Sequence[Message] | None = None,
        **settings: Unpack[CallSettings],
    ) -> AgentResult[OutputT]:
        """Async ``generate``."""
        from reverie._async import runner as async_runner  # loaded by the first async call

        return await async_runner.generate(self._config(prompt, messages, settings))

    def stream(
        self,
        prompt: str | Sequence[Message] | None = None,
        *,
        messages: Sequence[Message] | None = None,
        **settings: Unpack[CallSettings],
    ) -> sync_runner.AgentStream:
        """Run while yielding parts as they arrive; ``.result()`` returns the outcome."""
        return sync_runner.AgentStream(self._config(prompt, messages, settings))

    def stream_async(
        self,
        prompt: str | Sequence[Message] | None = None,
        *,
        messages: Sequence[Message] | None = None,
        **settings: Unpack[CallSettings],
    ) -> async_runner.AsyncAgentStream:
        """Async ``stream`` (not awaited: iterate it with ``async for``)."""
        from reverie._async import runner as async_runner  # loaded by the first async call

        return async_runner.AsyncAgentStream(self._config(prompt, messages, settings))

    def resume(
        self,
        result_or_run_id: AgentResult[OutputT] | str,
        *,
        approvals: Mapping[str, Answer] | None = None,
        tool_results: Mapping[str, Any] | None = None,
        **settings: Unpack[CallSettings],
    ) -> AgentResult[OutputT]:
        """Go on with a paused or interrupted run, and return its result (which may pause again).

        Every pending call (``result.pending_approvals``) needs an answer: an approval or a
        result. The approved calls run; a refused one reaches the model as an error result,
        ``"refused"`` or ``"refused: <reason>"``; a given result is sent as the call's. The
        paused step then finishes and the run goes on as if it had never stopped. ``result``
        may come from another process (``reverie.from_json``); resume it with an agent made
        the same way (model, tools, system prompt, output type).

        A durable run (``journal=``) is resumed by its id, with the journal it was recorded in:
        ``agent.resume(run_id, journal=..., approvals=...)`` answers the pause the journal holds;
        ``tool_results`` may also give the result of a call that ``InterruptedToolError``
        named. What the journal recorded is replayed; the run goes on from there.

        Args:
            result_or_run_id: The paused result (``result.status == "paused"``), or the id of
                a durable run (with ``journal=``).
            approvals: By tool call id: ``True`` to run the call, ``False`` to refuse it, or a
                string to refuse it for that reason (the model reads it).
            tool_results: By tool call id: what the call returned, given instead of running it
                (a ``str``, a JSON-able value, a ``FilePart``, or a whole ``ToolResultPart``).
            **settings: Overrides of the agent's settings for the rest of the run (``max_steps``
                counts the paused run's steps too; ``deadline`` counts from the resume).

        Raises:
            UserError: ``result`` is not paused, a pending call has no answer (the message names
                the call ids), or an answer names no pending call; the journal holds no run
                ``run_id``, or no ``journal=`` was given with a run id.
        """
        return sync_runner.generate(self._resume_config(result_or_run_id, approvals, tool_results, settings))

    async def resume_async(
        self,
        result_or_run_id: AgentResult[OutputT] | str,
        *,
        approvals: Mapping[str, Answer] | None = None,
        tool_results: Mapping[str, Any] | None = None,
        **settings: Unpack[CallSettings],
    ) -> AgentResult[OutputT]:
        """Async ``resume``."""
        from reverie._async import runner as async_runner  # loaded by the first async call

        return await async_runner.generate(
            self._resume_config(result_or_run_id, approvals, tool_results, settings)
        )

    def resume_stream(
        self,
        result_or_run_id: AgentResult[OutputT] | str,
        *,
        approvals: Mapping[str, Answer] | None = None,
        tool_results: Mapping[str, Any] | None = None,
        **settings: Unpack[CallSettings],
    ) -> sync_runner.AgentStream:
        """``resume`` as a stream: the held calls' ``tool_result`` parts first, then the run goes on."""
        return sync_runner.AgentStream(
            self._resume_config(result_or_run_id, approvals, tool_results, settings)
        )

    def resume_stream_async(
        self,
        result_or_run_id: AgentResult[OutputT] | str,
        *,
        approvals: Mapping[str, Answer] | None = None,
        tool_results: Mapping[str, Any] | None = None,
        **settings: Unpack[CallSettings],
    ) -> async_runner.AsyncAgentStream:
        """Async ``resume_stream`` (not awaited: iterate it with ``async for``)."""
        from reverie._async import runner as async_runner  # loaded by the first async call

        return async_runner.AsyncAgentStream(
            self._resume_config(result_or_run_id, approvals, tool_results, settings)
        )

    def _resume_config(
        self,
        result: AgentResult[Any] | str,
        approvals: Mapping[str, Answer] | None,
        tool_results: Mapping[str, Any] | None,
        overrides: CallSettings,
    ) -> RunConfig:
        if isinstance(result, str):
            return self._resume_run_config(result, approvals or {}, tool_results or {}, overrides)
        if not isinstance(result, AgentResult):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise UserError(
                f"resume takes the paused AgentResult or a durable run's id; got a {type(result).__name__}"
            )
        if result.status != "paused":
            raise UserError("only a paused result (result.status == 'paused') can be resumed")
        merged: CallSettings = {**self.settings, **overrides}
        if merged.get("journal") is not None or merged.get("run_id") is not None:
            # Checked before the journal settings: their own error (no run_id=) would mislead here.
            raise UserError(
                "a durable run is resumed by its run id, not by its paused result: "
                'agent.resume("RUN_ID", journal=..., approvals=...)'
            )
        config = self._config(None, result.input_messages, overrides)
        from reverie._run.resume import Resume  # a plain run never resumes

        resume = Resume(paused=result, approvals=dict(approvals or {}), tool_results=dict(tool_results or {}))
        return replace(config, resume=resume)

    def _resume_run_config(
        self,
        run_id: str,
        approvals: Mapping[str, Answer],
        tool_results: Mapping[str, Any],
        overrides: CallSettings,
    ) -> RunConfig:
        """Resume the durable run ``run_id``: record the answers given, then replay and go on."""
        from reverie._journal.claims import driving
        from reverie._run.journal_replay import plan_resume

        settings: CallSettings = {**self.settings, **overrides}
        journal = settings.get("journal")
        if journal is None:
            raise UserError(
                f"resume by run id needs the journal run {run_id!r} was recorded in: "
                "agent.resume(run_id, journal=...)"
            )
        given = overrides.get("run_id")
        if given is not None and given != run_id:
            raise UserError(f"resume was given the run id {run_id!r} and run_id={given!r}; give one")
        with driving(journal, run_id):  # no answers recorded into a run this journal drives now
            record = journal.load(run_id)
            if record is None:
                raise UserError(f"{journal!r} holds no run {run_id!r}")
            plan = plan_resume(record, approvals, tool_results)
            for step_number, result in plan.results:
                journal.record_tool_result(run_id, step_number, result)
            if plan.answers is not None:
                journal.record_answers(run_id, *plan.answers)
            if plan.results or plan.answers is not None:
                record = journal.load(run_id)
                assert record is not None
        plain: CallSettings = overrides.copy()
        plain.pop("journal", None)
        plain.pop("run_id", None)
        config = self._config(None, record.input_messages, plain, durable=False)
        return _durable(config, journal, run_id, record)

    def _config(
        self,
        prompt: str | Sequence[Message] | None,
        history: Sequence[Message] | None,
        overrides: CallSettings,
        *,
        durable: bool = True,
    ) -> RunConfig:
        settings: CallSettings = self.settings  # only read below
        if overrides:
            _check_settings(overrides)
            check_headers(overrides.get("headers"), "the call's headers=")
            settings = {**settings, **overrides}
        conversation: list[Message] = []
        if self.system_prompt:
            conversation.append(Message.system(self.system_prompt))
        conversation.extend(history or ())
        if isinstance(prompt, str):
            conversation.append(Message.user(prompt))
        elif prompt is not None:
            conversation.extend(prompt)
        if len(conversation) == (1 if self.system_prompt else 0):
            raise UserError("nothing to send: pass a prompt or messages")
        if overrides:
            resolved = _resolve(
                settings, merge_headers(self.settings.get("headers"), overrides.get("headers"))
            )
        else:
            # ``settings`` is a plain dict anyone may change (or replace): what was resolved from
            # it is reused only while a snapshot of it is still equal to it.
            resolved = self._resolved
            if resolved is None or resolved.snapshot != settings:
                resolved = self._resolved = _resolve(settings, merge_headers(settings.get("headers")))
        budget = settings.get("budget")  # never resolved ahead: an equal budget is not the same one
        if budget is not None and not _is_budget(budget):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise UserError(f"budget must be a reverie.Budget; got {type(budget).__name__}")
        template = resolved.template
        tool_set = self._tool_set
        if tool_set.source is not self.tools:
            tool_set = self._tool_set = ToolSet(self.tools)
        journal_settings = _journal_settings(settings) if durable else None
        config = RunConfig(
            model=self.model,
            messages=conversation,
            tools=self.tools,
            tool_set=tool_set,
            call_template=template,
            retry=self.retry,
            max_steps=resolved.max_steps,
            stop_when=resolved.stop_when,
            prepare_step=self.prepare_step,
            repair_tool_call=self.repair_tool_call,
            callbacks=self.callbacks,
            hooks=self._hooks if self._hooks is not NO_HOOKS else _run_hooks(self.instrument, self.name),
            output=self.output,
            input_messages=conversation[1:] if self.system_prompt else list(conversation),
            deadline=resolved.deadline,
            budget=budget,
            toolsets=self.toolsets,
            message_wire=self._message_wire,
        )
        if journal_settings is None:
            return config
        journal, run_id = journal_settings
        return _durable(config, journal, run_id, journal.load(run_id))


class _Resolved:
    """What a run takes from its settings, checked: built once while an agent's settings stay the same."""

    __slots__ = ("deadline", "max_steps", "snapshot", "stop_when", "template")

    def __init__(
        self,
        snapshot: dict[str, Any],
        template: Call,
        max_steps: int,
        stop_when: Sequence[StopCondition],
        deadline: float | None,
    ) -> None:
        self.snapshot = snapshot
        """The settings resolved, with their dicts and lists copied (an edit in place shows)."""
        self.template = template
        """Shared by the runs: nothing changes a run's call template."""
        self.max_steps = max_steps
        self.stop_when = stop_when
        self.deadline = deadline


def _resolve(settings: CallSettings, headers: dict[str, str]) -> _Resolved:
    """Check ``settings`` and build a run's call template from them, with ``headers`` merged.

    Raises:
        UserError: ``max_steps``, ``timeout`` or ``deadline`` is out of range.
    """
    stop_when = settings.get("stop_when")
    conditions: Sequence[StopCondition] = (
        () if stop_when is None else (stop_when,) if callable(stop_when) else tuple(stop_when)
    )
    max_steps = settings.get("max_steps", DEFAULT_MAX_STEPS)
    if max_steps < 1:
        raise UserError("max_steps must be at least 1")
    timeout, deadline = settings.get("timeout"), settings.get("deadline")
    for name, value in (("timeout", timeout), ("deadline", deadline)):
        if value is not None and not value > 0:  # NaN fails this too
            raise UserError(f"{name} must be a positive number of seconds; got {value!r}")
    template = Call(
        prompt=[],
        timeout=timeout,
        tool_choice=settings.get("tool_choice"),
        max_output_tokens=settings.get("max_output_tokens"),
        temperature=settings.get("temperature"),
        top_p=settings.get("top_p"),
        top_k=settings.get("top_k"),
        presence_penalty=settings.get("presence_penalty"),
        frequency_penalty=settings.get("frequency_penalty"),
        stop_sequences=settings.get("stop_sequences"),
        seed=settings.get("seed"),
        provider_options=dict(settings.get("provider_options") or {}),
        # Merged name by name: a call's headers add to the agent's instead of replacing them.
        headers=headers,
    )
    snapshot: dict[str, Any] = {
        name: value.copy() if type(value) is dict or type(value) is list else value  # pyright: ignore[reportUnknownMemberType]
        for name, value in settings.items()
    }
    return _Resolved(snapshot, template, max_steps, conditions, deadline)


def _journal_settings(settings: CallSettings) -> tuple[Journal, str] | None:
    """The run's journal and id, or ``None`` when it is not durable.

    Raises:
        UserError: one of ``journal`` and ``run_id`` is given without the other, or the id is
            not a non-empty string.
    """
    journal, run_id = settings.get("journal"), settings.get("run_id")
    if journal is None and run_id is None:
        return None
    if journal is None:
        raise UserError(
            "run_id= names a run in a journal, and no journal= was given "
            '(e.g. journal=reverie.SQLiteJournal("runs.db"))'
        )
    if run_id is None:
        raise UserError("journal= records a run under an id, and no run_id= was given")
    if not isinstance(run_id, str) or not run_id:  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
        raise UserError(f"run_id must be a non-empty string; got {run_id!r}")
    return journal, run_id


def _durable(config: RunConfig, journal: Journal, run_id: str, record: RunRecord | None) -> RunConfig:
    """``config`` as a durable run that replays ``record`` (checked against the run's input)."""
    from reverie._run.journal_replay import check_input, start_point
    from reverie._run.resume import JournalRun

    if record is not None:
        check_input(record, run_id, config.messages)
    return replace(
        config,
        journal=JournalRun(journal=journal, run_id=run_id, record=record),
        resume=start_point(record),
    )


def _check_model(model: object) -> None:
    if not any(hasattr(model, name) for name in ("generate", "stream", "generate_async", "stream_async")):
        if hasattr(model, "language_model"):
            raise UserError(
                f"Agent needs a model, not the provider {type(model).__name__}; "
                'build one with provider.language_model("model-id")'
            )
        raise UserError(
            "Agent needs a language model (from a provider's language_model(...)); "
            f"got a {type(model).__name__}"
        )


def _is_budget(value: object) -> bool:
    from reverie._run.spending import Budget  # only when a run is given one

    return isinstance(value, Budget)


def _check_settings(settings: CallSettings | dict[str, Any]) -> None:
    unknown = sorted(set(settings) - SETTING_NAMES)
    if unknown:
        raise TypeError(
            f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(SETTING_NAMES))}"
        )


def _output_spec(output_type: Any, mode: OutputMode, retries: int) -> OutputSpec | None:
    if output_type is None:
        return None
    from reverie._run.output import OUTPUT_MODES, OutputSpec  # only for an output type

    if mode not in OUTPUT_MODES:
        raise UserError(f"output_mode must be one of {', '.join(OUTPUT_MODES)}; got {mode!r}")
    if retries < 0:
        raise UserError("output_retries must be >= 0")
    from reverie._objects.schema import ObjectSchema

    return OutputSpec(schema=ObjectSchema.build(output_type), mode=mode, retries=retries)


def _run_hooks(instrument: bool | None, agent_name: str | None) -> RunHooks:
    """``reverie._instrument.run_hooks``, without importing it while nothing can be on.

    ``instrument=None`` records only while ``reverie.instrument()`` is on, and that function
    lives in ``reverie._instrument``: a program that never loaded the module never turned it on.
    """
    if not instrument and (instrument is False or "reverie._instrument" not in sys.modules):
        return NO_HOOKS
    from reverie._instrument import run_hooks

    return run_hooks(instrument, agent_name)

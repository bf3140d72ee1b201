"""The agent run as a pure state machine: every decision of the run, in one place.

``Run`` is told what happened (``feed_part``, ``feed_response``, ``feed_error``,
``feed_tool_result``) and says what to do next (``next_action``: ``CallModel``, ``Wait``,
``RunTools`` or ``Finish``); ``events()`` hands over the agent stream parts to yield
(``step_start``, ``retry``, ``tool_result``, ``step_finish``, ``finish``). It plans each
step (``prepare_step``), validates tool calls once (with the repair hook), fires the
callbacks in their documented order, decides retries and their delays, applies the stop
conditions and ``max_steps``, keeps the run within its ``Budget`` (a request is taken before
each attempt; a step's tokens and cost are counted when it ends, a failed attempt's when it
fails; a step a durable run replays from its journal sends nothing and spends nothing), and
builds the result.

It performs no I/O, never waits and needs no event loop, after h11's rule: the driver in
``reverie._async.runner`` (and its generated sync twin) carries out the actions, so the
same transitions serve sync and async, streaming and not.

Phases: ``plan`` -> ``call`` (parts or a response are fed) -> ``tools`` (results are fed)
-> ``plan`` or ``done``. A failed call goes ``call`` -> ``wait`` -> ``retry`` -> ``call``,
or raises the final error when retrying stops. A spent budget goes to ``stopped``: the
``Finish`` action then carries the ``BudgetExceededError`` that the driver raises after
yielding the events (the parts of the step that went past the limit included). A step
with calls that need a person's approval (``reverie._run.approval``) runs its other calls,
then ends the run paused (``done``, with a paused result); a run that resumes one starts in
``resume``, answers the held calls, and goes on to ``tools`` and the end of that step.

The transitions after the model answered (tools, the approval pause, finishing a step, taking
up a paused run) are ``StepEnd``'s, the base class of ``Run`` in ``reverie._run.step_end``.
What the transitions compute lives in pure helpers the run calls with what they need:
``reverie._run.planning`` (a step's call), ``reverie._run.failures`` (what follows a failed
call), ``reverie._run.accounting`` (what the run spent, its ``Budget``) and
``reverie._run.outcome`` (the ``AgentResult``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from reverie import _clock
from reverie._content import Message, ToolCallPart, ToolResultPart
from reverie._errors import ReverieError
from reverie._model import Call, LanguageModel, Response
from reverie._parts import (
    AgentStreamPart,
    FinishPart,
    ModelStreamPart,
    OutputPart,
    RateLimitWaitPart,
    ReasoningDeltaPart,
    RetryPart,
    StepStartPart,
    TextDeltaPart,
    ToolInputDeltaPart,
    ToolInputStartPart,
)
from reverie._results import AgentResult, StepResult
from reverie._run.accounting import Ledger, budget_error
from reverie._run.actions import Action, CallModel, Finish, ToolJob, Wait
from reverie._run.budget import Overrun, deadline_at, passed, request_budget
from reverie._run.config import RunConfig

# Loaded with the machine, not at a run's first failure: that failure may come from resources
# running out (no file descriptor left to read a module with), and it must still be retried
# and reported as itself.
from reverie._run.failures import deadline_error, log_retry, next_attempt, retry_part
from reverie._run.fallback import Attempts, FallbackChain, first_model
from reverie._run.outcome import partial_result
from reverie._run.planning import StepTools, message_wire, plan_step
from reverie._run.step import StepBuilder
from reverie._run.step_end import Phase, StepEnd
from reverie._run.tools import check_tool_call

if TYPE_CHECKING:
    from reverie._run.output import OutputRun
    from reverie._tools.protocol import Tool
    from reverie._tools.toolset import ToolSet


class Run(StepEnd):
    """One agent run's state and transitions; see the module docstring."""

    __slots__ = (
        "_attempts",
        "_builder",
        "_call",
        "_clock",
        "_emitted",
        "_ends",
        "_held",
        "_jobs",
        "_ledger",
        "_message_wire",
        "_model",
        "_on_text_delta",
        "_output",
        "_paused_step",
        "_phase",
        "_ran",
        "_recorded",
        "_replaying",
        "_results",
        "_started",
        "_step_model",
        "_step_tools",
        "_stop",
        "_tools",
        "_wait",
        "config",
        "messages",
        "now",
        "pending",
        "result",
        "steps",
        "streaming",
    )

    def __init__(
        self,
        config: RunConfig,
        *,
        streaming: bool,
        now: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.streaming = streaming
        self.now = now
        """The wall clock for HTTP-date ``retry-after`` headers (``None``: ``time.time``)."""
        self._clock = clock or _clock.now
        """The monotonic clock of the deadline and of request budgets."""
        self._started = False
        self._ends: float | None = None
        """When the run's deadline passes (on ``_clock``), set when the first step starts."""
        self.messages: list[Message] = list(config.messages)
        self.steps: list[StepResult] = []
        self.result: AgentResult[Any] | None = None
        self._phase: Phase = "plan"
        self._stop: Finish | None = None
        """How the run ended when its budget was spent (phase ``stopped``)."""
        self._ledger = Ledger(config.budget)
        durable = config.journal
        self._recorded: Mapping[int, Response] = (
            {} if durable is None or durable.record is None else durable.record.responses
        )
        """The answers a durable run's journal holds, by step number: those steps are replayed."""
        self._replaying = False
        """Whether the step in progress is replayed from the journal (its request is not sent)."""
        self.pending: list[AgentStreamPart] = []
        """Parts produced and not yet handed over by ``events()`` (always the same list object)."""
        self._on_text_delta = config.callbacks.on_text_delta
        # The step in progress.
        self._model: LanguageModel = config.model
        """The model of the attempt in progress (one of a ``FallbackModel``'s models)."""
        self._call: Call | None = None
        self._tools: Mapping[str, Tool] = {}
        self._step_model: LanguageModel | FallbackChain = config.model
        """What the step's attempts go to: a model, or a ``FallbackModel``'s models in turn."""
        self._attempts: Attempts | None = None
        """The step's failed attempts, made at its first failure (most steps never fail)."""
        self._wait: Wait | None = None
        # The attempt in progress.
        self._builder: StepBuilder | None = None
        """What the attempt in progress answered so far (``None``: no attempt in progress)."""
        self._emitted = 0
        """How many model parts the attempt yielded (a count: a long stream keeps no parts)."""
        self._jobs: list[ToolJob] = []
        self._ran: list[ToolJob] = []
        self._results: list[ToolResultPart] = []
        spec = config.output
        self._output: OutputRun | None = None
        if spec is not None:  # structured output loads its machinery only when asked for
            from reverie._run.output import OutputRun

            self._output = OutputRun(spec, streaming=streaming)
        self._step_tools = StepTools(config)
        self._held: list[ToolJob] = []
        """The step's calls that wait for approval: the run pauses once the others ran."""
        self._paused_step: StepResult | None = None
        """The paused step a resumed run finishes (``None`` otherwise)."""
        self._message_wire = message_wire(config)
        if config.resume is not None:
            self._restore(config.resume)

    def use_tool_set(self, tool_set: ToolSet) -> None:
        """Run with ``tool_set`` instead of the configured tools.

        The driver calls it before the first action, once the run's toolsets are open and
        have listed their tools.
        """
        assert not self._started, "the tools of a run are set before it starts"
        self._step_tools.own = tool_set

    @property
    def step_number(self) -> int:
        """The number of the step in progress (0-based)."""
        return len(self.steps)

    # -- what to do next -------------------------------------------------------------------

    def next_action(self) -> Action:
        """The next thing the driver must do; collect ``events()`` before doing it.

        Raises:
            ReverieError: the step failed and will not be retried (the final error).
        """
        phase = self._phase
        if phase == "plan":
            return self._start_step()
        if phase == "call":
            return self._end_call()
        if phase == "tools":
            return self._pause() if self._held else self._finish_step()
        if phase == "wait":
            assert self._wait is not None
            self._phase = "retry"
            return self._wait
        if phase == "retry":
            return self._take_request() or self._call_model()
        if phase == "stopped":
            assert self._stop is not None
            return self._stop
        if phase == "resume":
            return self._resume()
        assert self.result is not None
        return Finish(self.result)

    def events(self) -> list[AgentStreamPart]:
        """The agent stream parts produced since the last call, in order."""
        pending = self.pending
        if not pending:
            return []
        events = pending[:]
        pending.clear()
        return events

    # -- what happened ---------------------------------------------------------------------

    def feed_part(self, part: ModelStreamPart | RetryPart) -> ModelStreamPart | None:
        """Fold one part of the model stream; returns the part to yield (``None``: yield nothing).

        A tool call comes back validated; the model's ``finish`` part is kept for the step. A
        ``retry`` part (a model that started over by itself) restarts the attempt.
        """
        if type(part) is TextDeltaPart:  # most parts: keep them cheap
            on_text_delta = self._on_text_delta
            if on_text_delta is not None:
                on_text_delta(part.delta)
            if self._output is not None:
                self._partial_output(part)
            builder = self._builder
            assert builder is not None, "parts come during a model call"
            if part.id == builder.last_text_id:  # the block the last delta went to
                builder.write_last_text(part.delta)
                self._emitted += 1
                return part
        elif type(part) is FinishPart:
            assert self._builder is not None, "parts come during a model call"
            self._builder.add(part)
            return None
        elif type(part) is RateLimitWaitPart:
            return part  # shown, but not content: a retry does not list it as discarded
        elif isinstance(part, ToolCallPart):
            part = self._check_call(part)
            on_tool_call = self.config.callbacks.on_tool_call
            if on_tool_call is not None:
                on_tool_call(part)
        elif isinstance(part, ReasoningDeltaPart):
            on_reasoning_delta = self.config.callbacks.on_reasoning_delta
            if on_reasoning_delta is not None:
                on_reasoning_delta(part.delta)
        elif isinstance(part, RetryPart):
            self._restarted(part)
            return None
        elif self._output is not None:
            self._partial_output(part)
        assert self._builder is not None, "parts come during a model call"
        self._builder.add(part)
        self._emitted += 1
        return part

    def _partial_output(self, part: ModelStreamPart) -> None:
        """Follow the output as it streams; queue an ``output`` part when it grew."""
        assert self._output is not None
        stream = self._output.stream
        if stream is None:
            return
        if isinstance(part, TextDeltaPart):
            value = stream.text(part.delta)
        elif isinstance(part, ToolInputDeltaPart):
            value = stream.tool_input(part.id, part.delta)
        elif isinstance(part, ToolInputStartPart):
            stream.tool_input_started(part.id, part.tool_name)
            return
        else:
            return
        from reverie._objects.partial import NOTHING

        if value is not NOTHING:
            self.pending.append(OutputPart(object=value))

    def answer(self) -> StepResult | None:
        """What the model call in progress returned, or ``None`` before its finish part (or response).

        Built afresh on each call (for observers such as tracing, not for the run itself).
        """
        builder = self._builder
        if builder is None or not builder.finished:
            return None
        return builder.build(step_number=self.step_number, model=self._model)

    def feed_response(self, response: Response) -> None:
        """Take the whole answer of a non-streaming call."""
        assert self._builder is not None, "a response comes during a model call"
        self._builder.add_response(response, check_call=self._check_call)

    def feed_error(self, error: ReverieError) -> None:
        """The model call failed: retry the model, move on to the next one, or give up.

        A retry is a ``Wait`` then a ``CallModel``; a ``FallbackModel``'s next model is called
        at once (``CallModel``).

        Raises:
            ReverieError: the error to surface when retrying stops (the original one, or a
                ``RetryError`` holding every attempt of every model); it carries the partial step.
        """
        builder = self._builder
        assert builder is not None, "an error comes during a model call"
        step_number = self.step_number
        partial = error.partial_step = builder.build(step_number=step_number, model=self._model)
        # A failed attempt is billed for what it used: the finish part's usage, else what the
        # provider reported before the failure.
        self._ledger.count_attempt(
            builder.usage if builder.finished else error.reported_usage, self._model, step_number
        )
        attempts = self._attempts
        if attempts is None:
            attempts = self._attempts = Attempts(self._step_model, self.config.retry)
        try:
            upcoming = next_attempt(
                error,
                attempts,
                step_number=step_number,
                deadline=self.config.deadline,
                ends=self._ends,
                clock=self._clock,
                wall_clock=self.now,
            )
        except ReverieError:
            self._phase = "done"
            raise
        retry = retry_part(
            upcoming, step_number=step_number, error=error, partial=partial, emitted=self._emitted
        )
        on_retry = self.config.callbacks.on_retry
        if on_retry is not None:
            on_retry(retry)
        self.pending.append(retry)
        self._model = upcoming.model
        log_retry(retry, error, same_model=upcoming.same_model)
        if upcoming.same_model:
            self._wait = Wait(seconds=upcoming.delay, step_number=step_number, attempt=upcoming.attempt)
            self._phase = "wait"
        else:
            self._phase = "retry"  # the next model is called now: no wait between models

    def _restarted(self, retry: RetryPart) -> None:
        """The model started its answer over by itself: the attempt's parts so far are void."""
        self._builder = StepBuilder()
        self._emitted = 0
        self._jobs = []
        if self._output is not None:
            self._output.start_attempt()
        retry = replace(retry, step_number=self.step_number)
        on_retry = self.config.callbacks.on_retry
        if on_retry is not None:
            on_retry(retry)
        self.pending.append(retry)

    def feed_tool_result(self, result: ToolResultPart) -> None:
        """One tool call finished (results arrive in call order)."""
        self._results.append(result)
        on_tool_result = self.config.callbacks.on_tool_result
        if on_tool_result is not None:
            on_tool_result(result)
        self.pending.append(result)

    # -- transitions -----------------------------------------------------------------------

    def _start_step(self) -> Action:
        self._replaying = self.step_number in self._recorded
        stop = self._take_request()  # before the step starts: a refused step has no events
        if stop is not None:
            return stop
        config = self.config
        if not self._started:
            # The deadline counts from the first step, not from when the run object was built
            # (a stream starts when it is first iterated).
            self._started = True
            self._ends = deadline_at(self._clock(), config.deadline)
        step_number = self.step_number
        planned = plan_step(
            config,
            step_number=step_number,
            steps=self.steps,
            messages=self.messages,
            step_tools=self._step_tools,
            message_wire=self._message_wire,
            output=self._output,
        )
        self._tools = planned.tools
        self._call = planned.call
        # A FallbackModel's models take the step's attempts in turn; the step is theirs, not its.
        self._step_model = planned.model
        self._attempts = None
        self._model = first_model(planned.model)
        on_step_start = config.callbacks.on_step_start
        if on_step_start is not None:
            on_step_start(step_number)
        self.pending.append(StepStartPart(step_number=step_number))
        return self._call_model()

    def _call_model(self) -> CallModel:
        assert self._call is not None
        self._builder = StepBuilder()
        self._emitted = 0
        self._jobs = []
        self._results = []
        if self._output is not None:
            self._output.start_attempt()
        ends = self._ends
        timeout = self.config.call_template.timeout
        if ends is not None:  # without a deadline, no clock to read
            now = self._clock()
            if passed(ends, now):
                self._phase = "done"
                errors = [] if self._attempts is None else self._attempts.errors
                raise deadline_error(self.config.deadline, errors)
            # Each attempt gets the call's timeout, cut to what the deadline leaves.
            timeout = request_budget(timeout, ends, now)
        self._call.timeout = timeout
        self._call.deadline_at = ends
        self._phase = "call"
        return CallModel(
            step_number=self.step_number,
            attempt=0 if self._attempts is None else len(self._attempts.errors),
            model=self._model,
            call=self._call,
            streaming=self.streaming,
            recorded=self._recorded.get(self.step_number) if self._replaying else None,
        )

    def _check_call(self, call: ToolCallPart) -> ToolCallPart:
        """Validate a call once and remember it for ``RunTools`` (provider-executed calls are not ours)."""
        if call.provider_executed:
            return call
        job = check_tool_call(call, self._tools, self.config.repair_tool_call)
        self._jobs.append(job)
        return job[0]

    # -- the budget --------------------------------------------------------------------------

    def _take_request(self) -> Finish | None:
        """Take one request from the budget; the run's end when the budget has no room for it.

        A replayed step sends no request: it takes none, and a spent budget does not refuse it.
        """
        if self._replaying:
            return None
        overrun = self._ledger.take_request()
        return None if overrun is None else self._stop_run(overrun, before_request=True)

    def _stop_run(self, overrun: Overrun, *, before_request: bool) -> Finish:
        result = partial_result(self.config, self.steps, self._output, self._ledger.attempts_usage)
        error = budget_error(
            overrun, before_request=before_request, result=result, step_number=self.step_number
        )
        self._phase = "stopped"
        self._stop = Finish(result, error=error)
        return self._stop

"""The agent run as a pure state machine: every decision of the run, in one place.

``Run`` is told what happened (``feed_part``, ``feed_response``, ``feed_error``,
``feed_tool_result``) and says what to do next (``next_action``: ``CallModel``, ``Wait``,
``RunTools`` or ``Finish``); ``events()`` hands over the agent stream parts to yield
(``step_start``, ``retry``, ``tool_result``, ``step_finish``, ``finish``). It plans each
step (``prepare_step``), validates tool calls once (with the repair hook), fires the
callbacks in their documented order, decides retries and their delays, applies the stop
conditions and ``max_steps``, keeps the run within its ``Budget`` (a request is taken before
each attempt; a step's tokens and cost are counted when it ends, a failed attempt's when it
fails), and builds the result.

It performs no I/O, never waits and needs no event loop, after h11's rule: the driver in
``reverie._async.runner`` (and its generated sync twin) carries out the actions, so the
same transitions serve sync and async, streaming and not.

Phases: ``plan`` -> ``call`` (parts or a response are fed) -> ``tools`` (results are fed)
-> ``plan`` or ``done``. A failed call goes ``call`` -> ``wait`` -> ``retry`` -> ``call``,
or raises the final error when retrying stops. A spent budget goes to ``stopped``: the
``Finish`` action then carries the ``BudgetExceededError`` that the driver raises after
yielding the events (the parts of the step that went past the limit included).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from reverie import _clock
from reverie._content import Message, TextPart, ToolCallPart, ToolResultPart, Usage
from reverie._cost import computed_cost, token_counts, usage_shape
from reverie._errors import (
    BudgetExceededError,
    DeadlineExceededError,
    NoObjectGeneratedError,
    ProviderError,
    ReverieError,
    UserError,
)
from reverie._log import logger
from reverie._model import Call, LanguageModel, ProviderTool, Response
from reverie._objects.partial import NOTHING
from reverie._parts import (
    AgentStreamPart,
    Discarded,
    FinishPart,
    ModelStreamPart,
    OutputPart,
    RateLimitWaitPart,
    ReasoningDeltaPart,
    RetryPart,
    StepFinishPart,
    StepStartPart,
    TextDeltaPart,
    ToolInputDeltaPart,
    ToolInputStartPart,
)
from reverie._provider_names import check_provider_options
from reverie._results import AgentResult, StepResult
from reverie._run.actions import Action, CallModel, Finish, RunTools, ToolJob, Wait
from reverie._run.budget import (
    Overrun,
    deadline_at,
    no_room,
    overrun_message,
    passed,
    past_limit,
    request_budget,
    wait_fits,
)
from reverie._run.config import RunConfig, StepContext
from reverie._run.fallback import Attempts
from reverie._run.output import OutputRun
from reverie._run.step import StepBuilder
from reverie._run.tools import check_tool_call, tool_batches
from reverie._tools.protocol import Tool
from reverie._tools.toolset import ToolSet
from reverie._wire_cache import WireCache, WireStore, message_state

if TYPE_CHECKING:
    from reverie._run.spending import Budget, Spent

_Phase = Literal["plan", "call", "wait", "retry", "tools", "done", "stopped"]
_MAX_STEP_TOOL_SETS = 8
"""Distinct tool sets of ``prepare_step`` a run keeps resolved (more start afresh)."""


class Run:
    """One agent run's state and transitions; see the module docstring."""

    __slots__ = (
        "_attempts",
        "_attempts_usage",
        "_builder",
        "_call",
        "_clock",
        "_emitted",
        "_ends",
        "_jobs",
        "_message_wire",
        "_model",
        "_on_text_delta",
        "_output",
        "_phase",
        "_ran",
        "_results",
        "_started",
        "_step_tool_sets",
        "_stop",
        "_tool_set",
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
        self._phase: _Phase = "plan"
        self._stop: Finish | None = None
        """How the run ended when its budget was spent (phase ``stopped``)."""
        self._attempts_usage = Usage()
        """Tokens reported by the run's failed attempts."""
        self.pending: list[AgentStreamPart] = []
        """Parts produced and not yet handed over by ``events()`` (always the same list object)."""
        self._on_text_delta = config.callbacks.on_text_delta
        # The step in progress.
        self._model: LanguageModel = config.model
        """The model of the attempt in progress (one of a ``FallbackModel``'s models)."""
        self._call: Call | None = None
        self._tools: Mapping[str, Tool] = {}
        self._attempts = Attempts(config.model, config.retry)
        self._wait: Wait | None = None
        # The attempt in progress.
        self._builder = StepBuilder()
        self._emitted = 0
        """How many model parts the attempt yielded (a count: a long stream keeps no parts)."""
        self._jobs: list[ToolJob] = []
        self._ran: list[ToolJob] = []
        self._results: list[ToolResultPart] = []
        spec = config.output
        self._output = None if spec is None else OutputRun(spec, streaming=streaming)
        self._tool_set = config.tool_set if config.tool_set is not None else ToolSet(config.tools)
        self._step_tool_sets: dict[tuple[int, ...], ToolSet] = {}
        # Encoded messages are kept for the whole run and found by identity. Without a
        # prepare_step hook the run trusts identity alone: its history is the caller's
        # messages and the steps' own, which nothing edits between steps (the documented way
        # to change the history is the hook), so a step pays only for its new messages. A
        # hook sees the messages and may edit them in place, so with one each kept wire form
        # also keeps a snapshot of its message (``message_state``) and is reused only while
        # the message still equals it, a check far cheaper than encoding again. (Handing the
        # hook copies, to trust what it did not touch, would copy the history every step.)
        self._message_wire = WireStore(message_state if config.prepare_step is not None else None)

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
            return self._finish_step()
        if phase == "wait":
            assert self._wait is not None
            self._phase = "retry"
            return self._wait
        if phase == "retry":
            return self._take_request() or self._call_model()
        if phase == "stopped":
            assert self._stop is not None
            return self._stop
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
            if part.id == builder.last_text_id:  # the block the last delta went to
                builder.write_last_text(part.delta)
                self._emitted += 1
                return part
        elif type(part) is FinishPart:
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
        if value is not NOTHING:
            self.pending.append(OutputPart(object=value))

    def answer(self) -> StepResult | None:
        """What the model call in progress returned, or ``None`` before its finish part (or response).

        Built afresh on each call (for observers such as tracing, not for the run itself).
        """
        builder = self._builder
        if not builder.finished:
            return None
        return builder.build(step_number=self.step_number, model=self._model)

    def feed_response(self, response: Response) -> None:
        """Take the whole answer of a non-streaming call."""
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
        partial = error.partial_step = builder.build(step_number=self.step_number, model=self._model)
        # A failed attempt is billed for what it used: the finish part's usage, else what the
        # provider reported before the failure.
        self._count_attempt(builder.usage if builder.finished else error.reported_usage)
        if isinstance(error, DeadlineExceededError):
            # A rate-limit wait that would have ended after the deadline (``Call.deadline_at``).
            self._phase = "done"
            raise self._deadline_error() from error
        attempts = self._attempts
        upcoming = attempts.failed(error, now=None if self.now is None else self.now())
        failures = len(attempts.errors)
        if upcoming is None:
            self._phase = "done"
            logger.debug("step %d attempt %d failed, not retrying: %s", self.step_number, failures, error)
            attempts.give_up(error)
        if not wait_fits(self._ends, self._clock(), upcoming.delay):
            self._phase = "done"
            logger.debug(
                "step %d attempt %d failed, the deadline leaves no retry", self.step_number, failures
            )
            raise self._deadline_error() from error
        discarded = Discarded(
            parts=self._emitted,
            text=partial.text,
            reasoning=partial.reasoning_text,
            tool_calls=len(partial.tool_calls),
        )
        retry = upcoming.announce(step_number=self.step_number, error=error, discarded=discarded)
        on_retry = self.config.callbacks.on_retry
        if on_retry is not None:
            on_retry(retry)
        self.pending.append(retry)
        self._model = upcoming.model
        step_number = self.step_number
        if upcoming.same_model:
            logger.debug(
                "step %d attempt %d failed, retrying in %.3f s: %s", step_number, failures, retry.delay, error
            )
            self._wait = Wait(seconds=upcoming.delay, step_number=step_number, attempt=failures)
            self._phase = "wait"
        else:
            logger.debug(
                "step %d attempt %d failed, falling back to %s:%s: %s",
                step_number,
                failures,
                retry.provider,
                retry.model,
                error,
            )
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

    def _deadline_error(self) -> DeadlineExceededError:
        deadline = self.config.deadline
        assert deadline is not None
        errors = self._attempts.errors
        error = DeadlineExceededError(deadline, errors)
        if errors:
            error.partial_step = errors[-1].partial_step
        return error

    def feed_tool_result(self, result: ToolResultPart) -> None:
        """One tool call finished (results arrive in call order)."""
        self._results.append(result)
        on_tool_result = self.config.callbacks.on_tool_result
        if on_tool_result is not None:
            on_tool_result(result)
        self.pending.append(result)

    # -- transitions -----------------------------------------------------------------------

    def _start_step(self) -> Action:
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
        model, messages = config.model, self.messages
        tools: Sequence[Tool | ProviderTool] | None = None
        template = config.call_template
        tool_choice, provider_options = template.tool_choice, template.provider_options
        if config.prepare_step is not None:
            # Snapshots: a context kept (or changed) by the hook must not alias the run's state.
            context = StepContext(
                step_number=step_number, steps=tuple(self.steps), messages=list(messages), model=model
            )
            overrides = config.prepare_step(context)
            if overrides is not None:
                model = overrides.model or model
                messages = overrides.messages if overrides.messages is not None else messages
                tools = overrides.tools
                tool_choice = overrides.tool_choice if overrides.tool_choice is not None else tool_choice
                if overrides.provider_options is not None:
                    provider_options = overrides.provider_options
        self._model = model
        tool_set = self._tool_set_for(tools)
        self._tools = tool_set.by_name
        call = Call(
            prompt=messages,
            tools=list(tool_set.definitions),
            tool_choice=tool_choice,
            max_output_tokens=template.max_output_tokens,
            temperature=template.temperature,
            top_p=template.top_p,
            top_k=template.top_k,
            presence_penalty=template.presence_penalty,
            frequency_penalty=template.frequency_penalty,
            stop_sequences=template.stop_sequences,
            seed=template.seed,
            provider_options=provider_options,
            headers=template.headers,
            timeout=template.timeout,
            wire_cache=WireCache(messages=self._message_wire, tools=tool_set.wire),
        )
        if self._output is not None:
            call, self._tools = self._output.plan(call, model, self._tools)
        _check_call(call, model, step_number)
        self._call = call
        # A FallbackModel's models take the step's attempts in turn; the step is theirs, not its.
        self._attempts = Attempts(model, config.retry)
        self._model = self._attempts.model
        on_step_start = config.callbacks.on_step_start
        if on_step_start is not None:
            on_step_start(step_number)
        self.pending.append(StepStartPart(step_number=step_number))
        return self._call_model()

    def _tool_set_for(self, items: Sequence[Tool | ProviderTool] | None) -> ToolSet:
        """The step's tools resolved: the run's own, or the set ``prepare_step`` returned.

        A set the hook returns is resolved once per run however often it comes back (a new
        list of the same tools included): sets are found by the identities of their tools.
        """
        own = self._tool_set
        if items is None or own.made_from(items):
            return own
        key = tuple(map(id, items))
        found = self._step_tool_sets.get(key)
        if found is None:
            if len(self._step_tool_sets) >= _MAX_STEP_TOOL_SETS:
                self._step_tool_sets.clear()
            # The set holds its tools, so their ids in the key stay theirs while it is kept.
            found = self._step_tool_sets[key] = ToolSet(items)
        return found

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
                raise self._deadline_error()
            # Each attempt gets the call's timeout, cut to what the deadline leaves.
            timeout = request_budget(timeout, ends, now)
        self._call.timeout = timeout
        self._call.deadline_at = ends
        self._phase = "call"
        return CallModel(
            step_number=self.step_number,
            attempt=len(self._attempts.errors),
            model=self._model,
            call=self._call,
            streaming=self.streaming,
        )

    def _end_call(self) -> Action:
        """The model call ended without an error: run its tools or finish the step."""
        if not self._builder.finished:
            # A stream that ends without its finish event was cut short: retryable.
            model = self._model
            self.feed_error(
                ProviderError(
                    f"the {model.provider}:{model.model_id} stream ended without a finish", retryable=True
                )
            )
            return self.next_action()
        jobs = self._jobs
        if self._output is not None:
            builder = self._builder
            text = "".join(part.text for part in builder.content() if isinstance(part, TextPart))
            usage = sum((step.usage for step in self.steps), builder.usage)
            finish_reason = builder.build(step_number=self.step_number, model=self._model).finish_reason
            jobs = self._output.judge(jobs, text, usage=usage, finish_reason=finish_reason)
        self._ran = jobs
        if not jobs:
            return self._finish_step()
        if not self.streaming:
            on_tool_call = self.config.callbacks.on_tool_call
            if on_tool_call is not None:
                for call, _ in jobs:
                    on_tool_call(call)
        self._ran = jobs
        self._phase = "tools"
        return RunTools(step_number=self.step_number, batches=tool_batches(jobs))

    def _check_call(self, call: ToolCallPart) -> ToolCallPart:
        """Validate a call once and remember it for ``RunTools`` (provider-executed calls are not ours)."""
        if call.provider_executed:
            return call
        job = check_tool_call(call, self._tools, self.config.repair_tool_call)
        self._jobs.append(job)
        return job[0]

    def _finish_step(self) -> Action:
        output = self._output
        results = self._results
        if output is not None and output.accepted:
            results = [*results, *output.accepted]
        step = self._builder.build(step_number=self.step_number, model=self._model, tool_results=results)
        # The step holds its text now; the builder's buffers would keep a second copy of it.
        self._builder = StepBuilder()
        if output is not None and output.feedback is not None:
            step.messages.append(output.feedback)  # what was wrong, for the model's next try
        for warning in step.warnings:
            logger.warning(
                "step %d: %s ignored %s: %s",
                step.step_number,
                self._model.provider,
                warning.setting,
                warning.message,
            )
        callbacks = self.config.callbacks
        if callbacks.on_step_finish is not None:
            callbacks.on_step_finish(step)
        self.pending.append(
            StepFinishPart(
                step_number=step.step_number,
                step=step,
                finish_reason=step.finish_reason,
                usage=step.usage,
                provider_metadata=step.provider_metadata,
            )
        )
        self.steps.append(step)
        self.messages = [*self.messages, *step.messages]
        stop = self._count_step(step)
        if stop is not None:
            return stop
        if self._continues():
            return self._start_step()
        self._phase = "done"
        result = self.result = self._result()
        if callbacks.on_finish is not None:
            callbacks.on_finish(result)
        self.pending.append(FinishPart(finish_reason=result.finish_reason, usage=result.total_usage))
        return Finish(result)

    def _continues(self) -> bool:
        """Go on while tools ran (or output is retried), no stop condition holds and steps remain."""
        output = self._output
        if output is not None and output.done:
            return False
        retry_output = output is not None and output.feedback is not None
        if not retry_output and (not self._ran or len(self._results) < len(self._ran)):
            return False
        if len(self.steps) >= self.config.max_steps:
            return False
        stop_when = self.config.stop_when
        return not stop_when or not any(condition(self.steps) for condition in stop_when)

    def _result(self) -> AgentResult[Any]:
        output = self._output
        if output is None:
            return AgentResult(
                steps=self.steps, input_messages=self._input_messages(), attempts_usage=self._attempts_usage
            )
        last = self.steps[-1]
        if not output.done:
            raise NoObjectGeneratedError(
                "the run ended before the model gave a valid output",
                raw_text=last.text,
                error=None,
                usage=sum((step.usage for step in self.steps), Usage()),
                finish_reason=last.finish_reason,
            )
        if output.stream is not None:
            final = output.final_value()
            if final != output.stream.last:
                self.pending.append(OutputPart(object=final))
        return AgentResult(
            steps=self.steps,
            input_messages=self._input_messages(),
            typed_output=output.value,
            has_typed_output=True,
            attempts_usage=self._attempts_usage,
        )

    def _input_messages(self) -> list[Message]:
        given = self.config.input_messages
        return list(self.config.messages if given is None else given)

    # -- the budget --------------------------------------------------------------------------

    def _take_request(self) -> Finish | None:
        """Take one request from the budget; the run's end when the budget has no room for it."""
        budget = self.config.budget
        if budget is None:
            return None
        overrun = budget.reserve_request(lambda spent: no_room(budget, spent))
        return None if overrun is None else self._stop_run(overrun, before_request=True)

    def _count_step(self, step: StepResult) -> Finish | None:
        """Count a finished step; the run's end when it went past a limit."""
        budget = self.config.budget
        if budget is None:
            return None
        spent = self._record(budget, step.usage, step.provider, step.model_id, step)
        overrun = past_limit(budget, spent)
        return None if overrun is None else self._stop_run(overrun, before_request=False)

    def _count_attempt(self, usage: Usage | None) -> None:
        """Count a failed attempt's usage (a later request finds out if it went past a limit)."""
        if usage is None or usage == _NO_USAGE:
            return
        self._attempts_usage = self._attempts_usage + usage
        budget = self.config.budget
        if budget is not None:
            self._record(budget, usage, self._model.provider, self._model.model_id, None)

    def _record(
        self, budget: Budget, usage: Usage, provider: str, model_id: str, step: StepResult | None
    ) -> Spent:
        counts = token_counts(usage, usage_shape(provider, model_id))
        cost = 0.0
        if budget.max_cost is not None:  # pricing loads the price data: only when money counts
            priced = (
                step.cost if step is not None else computed_cost(usage, provider=provider, model_id=model_id)
            )
            if priced is None:
                logger.warning(
                    "step %d: no price is known for %s:%s; the budget's max_cost counts it as 0",
                    self.step_number if step is None else step.step_number,
                    provider,
                    model_id,
                )
            else:
                cost = priced.total
        return budget.record(input_tokens=counts.all_input, output_tokens=counts.output, cost=cost)

    def _stop_run(self, overrun: Overrun, *, before_request: bool) -> Finish:
        limit, maximum, spent = overrun
        message = overrun_message(overrun, before_request=before_request)
        logger.debug("step %d: %s", self.step_number, message)
        result = self._partial_result()
        self._phase = "stopped"
        error = BudgetExceededError(message, result=result, limit=limit, maximum=maximum, spent=spent)
        self._stop = Finish(result, error=error)
        return self._stop

    def _partial_result(self) -> AgentResult[Any]:
        """The run so far, for a ``BudgetExceededError`` (the typed output, if it was given)."""
        output = self._output
        done = output is not None and output.done
        return AgentResult(
            steps=list(self.steps),
            input_messages=self._input_messages(),
            typed_output=output.value if output is not None and done else None,
            has_typed_output=done,
            attempts_usage=self._attempts_usage,
        )


_NO_USAGE = Usage()


_TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})


def _check_call(call: Call, model: LanguageModel, step_number: int) -> None:
    """Refuse, before any request, options the provider would ignore or reject late."""
    check_provider_options(call.provider_options, in_use=model.provider)
    choice = call.tool_choice
    if choice is not None and choice not in _TOOL_CHOICE_MODES:
        names = [definition.name for definition in call.tools]
        if choice not in names:
            offered = ", ".join(repr(name) for name in names) or "none"
            raise UserError(
                f"tool_choice {choice!r} names no tool of step {step_number} (its tools: {offered}); "
                "use 'auto', 'none', 'required' or one of the tool names"
            )

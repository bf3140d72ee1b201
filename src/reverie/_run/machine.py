"""The agent run as a pure state machine: every decision of the run, in one place.

``Run`` is told what happened (``feed_part``, ``feed_response``, ``feed_error``,
``feed_tool_result``) and says what to do next (``next_action``: ``CallModel``, ``Wait``,
``RunTools`` or ``Finish``); ``events()`` hands over the agent stream parts to yield
(``step_start``, ``retry``, ``tool_result``, ``step_finish``, ``finish``). It plans each
step (``prepare_step``), validates tool calls once (with the repair hook), fires the
callbacks in their documented order, decides retries and their delays, applies the stop
conditions and ``max_steps``, and builds the result.

It performs no I/O, never waits and needs no event loop, after h11's rule: the driver in
``reverie._async.runner`` (and its generated sync twin) carries out the actions, so the
same transitions serve sync and async, streaming and not.

Phases: ``plan`` -> ``call`` (parts or a response are fed) -> ``tools`` (results are fed)
-> ``plan`` or ``done``. A failed call goes ``call`` -> ``wait`` -> ``retry`` -> ``call``,
or raises the final error when retrying stops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from reverie import _clock
from reverie._content import Message, TextPart, ToolCallPart, ToolResultPart, Usage
from reverie._errors import (
    DeadlineExceededError,
    NoObjectGeneratedError,
    ProviderError,
    ReverieError,
    UserError,
)
from reverie._log import logger
from reverie._model import Call, LanguageModel, Response
from reverie._objects.partial import NOTHING
from reverie._parts import (
    AgentStreamPart,
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
from reverie._retry import final_error, retry_delay
from reverie._run.actions import Action, CallModel, Finish, RunTools, ToolJob, Wait
from reverie._run.budget import deadline_at, passed, request_budget, wait_fits
from reverie._run.config import RunConfig, StepContext
from reverie._run.output import OutputRun
from reverie._run.step import StepBuilder
from reverie._run.tools import check_tool_call, tool_batches
from reverie._tools.protocol import Tool
from reverie._tools.provider import as_tool

_Phase = Literal["plan", "call", "wait", "retry", "tools", "done"]


class Run:
    """One agent run's state and transitions; see the module docstring."""

    __slots__ = (
        "_builder",
        "_call",
        "_clock",
        "_emitted",
        "_ends",
        "_errors",
        "_jobs",
        "_model",
        "_on_text_delta",
        "_output",
        "_phase",
        "_ran",
        "_results",
        "_started",
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
        self.pending: list[AgentStreamPart] = []
        """Parts produced and not yet handed over by ``events()`` (always the same list object)."""
        self._on_text_delta = config.callbacks.on_text_delta
        # The step in progress.
        self._model: LanguageModel = config.model
        self._call: Call | None = None
        self._tools: Mapping[str, Tool] = {}
        self._errors: list[ReverieError] = []
        self._wait: Wait | None = None
        # The attempt in progress.
        self._builder = StepBuilder()
        self._emitted: list[ModelStreamPart] = []
        self._jobs: list[ToolJob] = []
        self._ran: list[ToolJob] = []
        self._results: list[ToolResultPart] = []
        spec = config.output
        self._output = None if spec is None else OutputRun(spec, streaming=streaming)

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
            return self._call_model()
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

    def feed_part(self, part: ModelStreamPart) -> ModelStreamPart | None:
        """Fold one part of the model stream; returns the part to yield (``None``: yield nothing).

        A tool call comes back validated; the model's ``finish`` part is kept for the step.
        """
        if type(part) is TextDeltaPart:  # most parts: keep them cheap
            on_text_delta = self._on_text_delta
            if on_text_delta is not None:
                on_text_delta(part.delta)
            if self._output is not None:
                self._partial_output(part)
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
        elif self._output is not None:
            self._partial_output(part)
        self._builder.add(part)
        self._emitted.append(part)
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

    def feed_response(self, response: Response) -> None:
        """Take the whole answer of a non-streaming call."""
        self._builder.add_response(response, check_call=self._check_call)

    def feed_error(self, error: ReverieError) -> None:
        """The model call failed: plan a retry (``Wait``, then ``CallModel``) or give up.

        Raises:
            ReverieError: the error to surface when retrying stops (the original one, or a
                ``RetryError`` holding every attempt); it carries the partial step.
        """
        error.partial_step = self._builder.build(step_number=self.step_number, model=self._model)
        if isinstance(error, DeadlineExceededError):
            # A rate-limit wait that would have ended after the deadline (``Call.deadline_at``).
            self._phase = "done"
            raise self._deadline_error() from error
        errors = self._errors
        errors.append(error)
        policy = self.config.retry
        delay = retry_delay(policy, errors, now=None if self.now is None else self.now())
        if delay is None:
            self._phase = "done"
            logger.debug("step %d attempt %d failed, not retrying: %s", self.step_number, len(errors), error)
            failure = final_error(policy, errors)
            if failure is error:
                raise error
            raise failure from error
        if not wait_fits(self._ends, self._clock(), delay):
            self._phase = "done"
            logger.debug(
                "step %d attempt %d failed, the deadline leaves no retry", self.step_number, len(errors)
            )
            raise self._deadline_error() from error
        retry = RetryPart(
            step_number=self.step_number,
            attempt=len(errors),
            delay=delay,
            error=error,
            discarded=tuple(self._emitted),
        )
        logger.debug(
            "step %d attempt %d failed, retrying in %.3f s: %s", self.step_number, len(errors), delay, error
        )
        on_retry = self.config.callbacks.on_retry
        if on_retry is not None:
            on_retry(retry)
        self.pending.append(retry)
        self._wait = Wait(seconds=delay, step_number=self.step_number, attempt=len(errors))
        self._phase = "wait"

    def _deadline_error(self) -> DeadlineExceededError:
        deadline = self.config.deadline
        assert deadline is not None
        error = DeadlineExceededError(deadline, self._errors)
        if self._errors:
            error.partial_step = self._errors[-1].partial_step
        return error

    def feed_tool_result(self, result: ToolResultPart) -> None:
        """One tool call finished (results arrive in call order)."""
        self._results.append(result)
        on_tool_result = self.config.callbacks.on_tool_result
        if on_tool_result is not None:
            on_tool_result(result)
        self.pending.append(result)

    # -- transitions -----------------------------------------------------------------------

    def _start_step(self) -> CallModel:
        config = self.config
        if not self._started:
            # The deadline counts from the first step, not from when the run object was built
            # (a stream starts when it is first iterated).
            self._started = True
            self._ends = deadline_at(self._clock(), config.deadline)
        step_number = self.step_number
        model, messages, tools = config.model, self.messages, config.tools
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
                tools = overrides.tools if overrides.tools is not None else tools
                tool_choice = overrides.tool_choice if overrides.tool_choice is not None else tool_choice
                if overrides.provider_options is not None:
                    provider_options = overrides.provider_options
        self._model = model
        tools = [as_tool(item) for item in tools]
        self._tools = {item.name: item for item in tools}
        call = Call(
            prompt=messages,
            tools=[item.definition() for item in tools],
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
        )
        if self._output is not None:
            call, self._tools = self._output.plan(call, model, self._tools)
        _check_call(call, model, step_number)
        self._call = call
        self._errors = []
        on_step_start = config.callbacks.on_step_start
        if on_step_start is not None:
            on_step_start(step_number)
        self.pending.append(StepStartPart(step_number=step_number))
        return self._call_model()

    def _call_model(self) -> CallModel:
        assert self._call is not None
        self._builder = StepBuilder()
        self._emitted = []
        self._jobs = []
        self._results = []
        if self._output is not None:
            self._output.start_attempt()
        now = self._clock()
        if passed(self._ends, now):
            self._phase = "done"
            raise self._deadline_error()
        # Each attempt gets the call's timeout, cut to what the deadline leaves.
        self._call.timeout = request_budget(self.config.call_template.timeout, self._ends, now)
        self._call.deadline_at = self._ends
        self._phase = "call"
        return CallModel(
            step_number=self.step_number,
            attempt=len(self._errors),
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
        return not any(condition(self.steps) for condition in self.config.stop_when)

    def _result(self) -> AgentResult[Any]:
        output = self._output
        if output is None:
            return AgentResult(steps=self.steps, input_messages=self._input_messages())
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
        )

    def _input_messages(self) -> list[Message]:
        given = self.config.input_messages
        return list(self.config.messages if given is None else given)


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

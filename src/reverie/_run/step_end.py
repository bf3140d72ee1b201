"""The end of a step, a part of ``Run``: its tool calls, the approval pause, and what comes next.

Once the model answered, ``StepEnd`` judges the answer (the structured output's calls
included), runs the step's tool calls or holds those that wait for a person's approval and
ends the run paused, and finishes the step: it builds the ``StepResult``, counts it against
the budget, and starts the next step or ends the run. It also takes up a paused run
(``_restore``, ``_resume``). These are transitions of the run machine
(``reverie._run.machine``), kept here so that each module stays small: ``Run`` is a
``StepEnd``, and holds the state declared below (its ``__init__`` sets it).

Nothing here does I/O; the pure decisions live in ``reverie._run.approval`` (which calls wait),
``reverie._run.outcome`` (the results) and ``reverie._run.accounting`` (the budget).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from reverie._content import Message, TextPart, ToolResultPart
from reverie._errors import ProviderError
from reverie._log import logger
from reverie._parts import AgentStreamPart, FinishPart, StepFinishPart
from reverie._results import AgentResult, StepResult
from reverie._run.actions import Action, Finish, RunTools, ToolJob
from reverie._run.budget import Overrun, deadline_at
from reverie._run.config import RunConfig
from reverie._run.outcome import final_result, paused_result
from reverie._run.step import StepBuilder
from reverie._run.tools import tool_batches

if TYPE_CHECKING:
    from reverie._errors import ReverieError
    from reverie._model import LanguageModel
    from reverie._run.accounting import Ledger
    from reverie._run.output import OutputRun
    from reverie._run.planning import StepTools
    from reverie._run.resume import Resume
    from reverie._tools.protocol import Tool

Phase: TypeAlias = Literal["plan", "call", "wait", "retry", "tools", "done", "stopped", "resume"]
"""Where a run is; see ``reverie._run.machine``."""


class StepEnd:
    """The transitions from a model's answer to the next step, the pause or the end of the run."""

    __slots__ = ()

    if TYPE_CHECKING:
        # The run's state and transitions these use, all set and defined by ``Run``.
        config: RunConfig
        streaming: bool
        steps: list[StepResult]
        messages: list[Message]
        result: AgentResult[Any] | None
        pending: list[AgentStreamPart]
        _phase: Phase
        _clock: Callable[[], float]
        _started: bool
        _ends: float | None
        _model: LanguageModel
        _tools: Mapping[str, Tool]
        _step_tools: StepTools
        _output: OutputRun | None
        _ledger: Ledger
        _builder: StepBuilder | None
        _jobs: list[ToolJob]
        _ran: list[ToolJob]
        _results: list[ToolResultPart]
        _held: list[ToolJob]
        _paused_step: StepResult | None
        _replaying: bool

        @property
        def step_number(self) -> int: ...
        def next_action(self) -> Action: ...
        def feed_error(self, error: ReverieError) -> None: ...
        def feed_tool_result(self, result: ToolResultPart) -> None: ...
        def _start_step(self) -> Action: ...
        def _stop_run(self, overrun: Overrun, *, before_request: bool) -> Finish: ...

    def _end_call(self) -> Action:
        """The model call ended without an error: run its tools or finish the step."""
        builder = self._builder
        assert builder is not None, "a model call ended"
        if not builder.finished:
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
        # Loaded with the first tool call: a run without tools never pauses for approval.
        from reverie._run.approval import needs_approval

        held: list[ToolJob] = []
        free: list[ToolJob] = []
        for job in jobs:
            (held if job[1] is not None and needs_approval(job[1]) else free).append(job)
        if held:
            # The calls that need no approval run now and their results are kept in the
            # paused step; the run pauses once they are in (``next_action`` in ``tools``).
            self._held, jobs = held, free
            if not jobs:
                return self._pause()
        self._phase = "tools"
        return RunTools(step_number=self.step_number, batches=tool_batches(jobs))

    def _step_results(self) -> list[ToolResultPart]:
        """The step's tool results, with those of its accepted output calls."""
        output = self._output
        if output is not None and output.accepted:
            return [*self._results, *output.accepted]
        return self._results

    def _finish_step(self) -> Action:
        output = self._output
        results = self._step_results()
        paused, self._paused_step = self._paused_step, None
        if paused is None:
            assert self._builder is not None, "the step's model call ended"
            step = self._builder.build(step_number=self.step_number, model=self._model, tool_results=results)
        else:
            from reverie._run.approval import resumed_step

            step = resumed_step(paused, results)
        # The step holds its text now; the builder's buffers would keep a second copy of it. The
        # next attempt makes its own builder (``_call_model``).
        self._builder = None
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
        # A resumed step was counted when the run paused, as soon as the model had answered; a
        # replayed step was counted by the run that recorded it.
        overrun = self._ledger.count_step(step) if paused is None and not self._replaying else None
        if overrun is not None:
            return self._stop_run(overrun, before_request=False)
        if self._continues():
            return self._start_step()
        self._phase = "done"
        result, last_output = final_result(self.config, self.steps, output, self._ledger.attempts_usage)
        self.result = result
        if last_output is not None:
            self.pending.append(last_output)
        if callbacks.on_finish is not None:
            callbacks.on_finish(result)
        self.pending.append(FinishPart(finish_reason=result.finish_reason, usage=result.total_usage))
        return Finish(result)

    # -- approval ------------------------------------------------------------------------------

    def _pause(self) -> Finish:
        """End the run paused before the held calls: the step so far is the last of the result."""
        assert self._builder is not None, "the step's model call ended"
        step = self._builder.build(
            step_number=self.step_number, model=self._model, tool_results=self._step_results()
        )
        self._builder = None
        held, self._held = self._held, []
        # The model's answer is spent now; the run ends paused, past a limit or not (a
        # resumed run asks the budget again before its next request).
        if not self._replaying:  # a replayed step was counted by the run that recorded it
            self._ledger.count_paused(step)
        self._phase = "done"
        result = self.result = paused_result(
            self.config,
            [*self.steps, step],
            [call for call, _ in held],
            self._output,
            self._ledger.attempts_usage,
        )
        logger.debug(
            "step %d: paused for approval of %s",
            step.step_number,
            ", ".join(call.tool_call_id for call, _ in held),
        )
        on_finish = self.config.callbacks.on_finish
        if on_finish is not None:
            on_finish(result)
        self.pending.append(FinishPart(finish_reason=step.finish_reason, usage=result.total_usage))
        return Finish(result)

    def _restore(self, resume: Resume) -> None:
        """Take up a paused run where it stopped: its steps, its paused step and the answers.

        Raises:
            UserError: the result is not paused, or the answers do not fit its held calls.
        """
        from reverie._run.approval import take_apart

        paused = take_apart(resume)
        self.steps = paused.finished
        self.messages = [*self.messages, *(message for step in paused.finished for message in step.messages)]
        self._ledger.attempts_usage = resume.paused.attempts_usage
        self._paused_step = paused.step
        self._results = paused.results
        self._ran = paused.answered
        self._tools = self._step_tools.own.by_name
        output = self._output
        if output is not None:
            output.failures = resume.paused.output_failures
            if resume.paused.has_typed_output:
                output.value = output.spec.schema.validate(resume.paused.typed_output)
        self._phase = "resume"

    def _resume(self) -> Action:
        """Answer the held calls: results for the refused and supplied ones, a run of the approved ones."""
        assert self.config.resume is not None
        self._started = True
        self._ends = deadline_at(self._clock(), self.config.deadline)  # from the resume on
        from reverie._run.approval import answer_held

        results, approved = answer_held(self.config.resume, self._tools)
        for result in results:
            self.feed_tool_result(result)
        if not approved:
            return self._finish_step()
        self._phase = "tools"
        return RunTools(step_number=self.step_number, batches=tool_batches(approved))

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

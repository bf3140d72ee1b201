"""The agent driver: the step loop with retries, tools and callbacks, and the agent stream.

This is the async source; ``reverie/_sync/runner.py`` is generated from it. One loop
serves ``generate`` and ``stream``: only the step source differs (a whole response or a
stream of parts), and both feed the same ``StepBuilder``. The decisions themselves
(next call, validity of tool calls, retry delays, when to stop) live in pure modules.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from types import TracebackType

from reverie import _concurrency
from reverie._content import ToolCallPart, ToolResultPart
from reverie._errors import ProviderError, ReverieError, UserError
from reverie._loop import AgentResult, PlannedStep, RunConfig, RunState, StepBuilder, StepResult
from reverie._parts import (
    AgentStreamPart,
    FinishPart,
    ModelStreamPart,
    ReasoningDeltaPart,
    RetryPart,
    StepFinishPart,
    StepStartPart,
    TextDeltaPart,
)
from reverie._retry import final_error, retry_delay
from reverie._tool import prepare_tool_call


async def run(state: RunState, *, streaming: bool) -> AsyncIterator[AgentStreamPart]:
    """Run the agent, yielding its parts; the result is left in ``state.result``."""
    config = state.config
    callbacks = config.callbacks
    while True:
        step_number = len(state.steps)
        plan = state.plan_step()
        if callbacks.on_step_start is not None:
            callbacks.on_step_start(step_number)
        yield StepStartPart(step_number=step_number)
        errors: list[ReverieError] = []
        while True:
            builder = StepBuilder()
            emitted: list[ModelStreamPart] = []
            try:
                if streaming:
                    stream = plan.model.stream_async(plan.call)
                    try:
                        async for part in stream:
                            if isinstance(part, TextDeltaPart):  # most parts: keep them cheap
                                if callbacks.on_text_delta is not None:
                                    callbacks.on_text_delta(part.delta)
                            elif isinstance(part, FinishPart):  # folded into the step, not forwarded
                                builder.add(part)
                                continue
                            else:
                                part = _observe(part, plan, state)
                            builder.add(part)
                            emitted.append(part)
                            yield part
                    finally:
                        # Close the HTTP response as soon as the run is closed, not whenever
                        # the event loop finalizes an abandoned generator.
                        await _concurrency.close_stream_async(stream)
                    if not builder.finished:
                        raise ProviderError(
                            f"the {plan.model.provider}:{plan.model.model_id} stream ended without a finish",
                            retryable=True,
                        )
                else:
                    response = await plan.model.generate_async(plan.call)
                    check = functools.partial(_check_call, plan=plan, state=state)
                    builder.add_response(response, check_call=check)
                break
            except ReverieError as error:
                error.partial_step = builder.build(step_number=step_number, model=plan.model)
                errors.append(error)
                delay = retry_delay(config.retry, errors)
                if delay is None:
                    failure = final_error(config.retry, errors)
                    if failure is error:
                        raise
                    raise failure from error
                retry = RetryPart(
                    step_number=step_number,
                    attempt=len(errors),
                    delay=delay,
                    error=error,
                    discarded=tuple(emitted),
                )
                if callbacks.on_retry is not None:
                    callbacks.on_retry(retry)
                yield retry
                await _concurrency.async_sleep(delay)
        results: list[ToolResultPart] = []
        calls = [
            part
            for part in builder.content()
            if isinstance(part, ToolCallPart) and not part.provider_executed
        ]
        if calls:
            if not streaming and callbacks.on_tool_call is not None:
                for call in calls:
                    callbacks.on_tool_call(call)
            jobs = [
                (call, None if call.invalid else prepare_tool_call(call, plan.tools)[1]) for call in calls
            ]
            async for result in _concurrency.run_tools_async(jobs):
                results.append(result)
                if callbacks.on_tool_result is not None:
                    callbacks.on_tool_result(result)
                yield result
        step = builder.build(step_number=step_number, model=plan.model, tool_results=results)
        if callbacks.on_step_finish is not None:
            callbacks.on_step_finish(step)
        yield StepFinishPart(
            step_number=step_number,
            step=step,
            finish_reason=step.finish_reason,
            usage=step.usage,
            provider_metadata=step.provider_metadata,
        )
        if not state.finish_step(step):
            break
    result = state.finish_run()
    if callbacks.on_finish is not None:
        callbacks.on_finish(result)
    yield FinishPart(finish_reason=result.finish_reason, usage=result.total_usage)


def _observe(part: ModelStreamPart, plan: PlannedStep, state: RunState) -> ModelStreamPart:
    """Validate a streamed tool call and tell the callbacks about the part (text deltas aside)."""
    callbacks = state.config.callbacks
    if isinstance(part, ToolCallPart):
        part = _check_call(part, plan, state)
        if callbacks.on_tool_call is not None:
            callbacks.on_tool_call(part)
    elif isinstance(part, ReasoningDeltaPart) and callbacks.on_reasoning_delta is not None:
        callbacks.on_reasoning_delta(part.delta)
    return part


def _check_call(call: ToolCallPart, plan: PlannedStep, state: RunState) -> ToolCallPart:
    """Validate a call, giving the repair hook one chance to fix an invalid one."""
    if call.provider_executed:
        return call
    checked, _ = prepare_tool_call(call, plan.tools)
    repair = state.config.repair_tool_call
    if checked.invalid and repair is not None:
        repaired = repair(checked, checked.error or "")
        if repaired is not None:
            checked, _ = prepare_tool_call(repaired, plan.tools)
    return checked


async def generate(config: RunConfig) -> AgentResult:
    """Run to the end without streaming and return the result."""
    state = RunState(config)
    parts = run(state, streaming=False)
    try:
        async for _ in parts:
            pass
    finally:
        await _concurrency.close_stream_async(parts)
    assert state.result is not None
    return state.result


class AsyncAgentStream:
    """The parts of a streamed run, as they happen; ``result()`` drains and returns the outcome.

    Iterate with ``async for``; call ``await result()`` after (or instead of) iterating.
    ``aclose()`` (or leaving ``async with``) stops the run and closes the HTTP response.
    Nothing starts until the stream is iterated.
    """

    def __init__(self, config: RunConfig) -> None:
        self._state = RunState(config)
        self._parts: AsyncIterator[AgentStreamPart] | None = None

    def _iterator(self) -> AsyncIterator[AgentStreamPart]:
        if self._parts is None:
            self._parts = run(self._state, streaming=True)
        return self._parts

    def __aiter__(self) -> AsyncIterator[AgentStreamPart]:
        # The run's own generator: iterating it directly keeps one layer off every part.
        return self._iterator()

    async def __anext__(self) -> AgentStreamPart:
        return await self._iterator().__anext__()

    async def result(self) -> AgentResult:
        """Consume whatever is left of the stream and return the run's result."""
        async for _ in self._iterator():
            pass
        if self._state.result is None:
            raise UserError("the stream was closed before the run finished; no result is available")
        return self._state.result

    @property
    def steps(self) -> list[StepResult]:
        """The steps finished so far."""
        return list(self._state.steps)

    async def aclose(self) -> None:
        """Stop the run and release its HTTP response (a run not yet started never starts)."""
        await _concurrency.close_stream_async(self._iterator())

    async def __aenter__(self) -> AsyncAgentStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

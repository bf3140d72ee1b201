"""The agent driver: carries out the run machine's actions, and the agent stream.

This is the async source; ``reverie/_sync/runner.py`` is generated from it. Every decision
(what to call, whether to retry and how long to wait, which tools run, when to stop, what
the callbacks see) is made by ``reverie._run.machine.Run``; this module only performs the
I/O an action names and feeds the outcome back, each action wrapped in the run's hooks.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import TYPE_CHECKING, Any

from reverie import _concurrency
from reverie._concurrency import NestedLoopError
from reverie._content import ToolResultPart
from reverie._errors import InterruptedToolError, ReverieError, UserError
from reverie._model import Response
from reverie._parts import AgentStreamPart
from reverie._results import AgentResult, StepResult
from reverie._run.actions import CallModel, Finish, RunTools, ToolJob, Wait
from reverie._run.config import RunConfig, has_callbacks
from reverie._run.hooks import RunHooks
from reverie._run.machine import Run
from reverie._run.tools import error_result, invalid_result, output_result

if TYPE_CHECKING:
    from reverie._run.resume import JournalRun
    from reverie._tools.protocol import Tool, Toolset  # loaded with the first tool


async def drive(run: Run, pending: list[Awaitable[Any]]) -> AsyncIterator[AgentStreamPart]:
    """Carry out ``run``'s actions, yielding its parts; the result is left in ``run.result``.

    ``pending`` holds what async callbacks returned (``adopt_callbacks_async``); each is
    awaited before the driver goes on. A durable run (``RunConfig.journal``) records each model
    answer, tool call and its end as they happen, and replays what its journal holds.
    """
    hooks = run.config.hooks
    durable = run.config.journal
    # A durable run claims its id on its journal object until it ends (or its stream is closed).
    claim = nullcontext() if durable is None else _claim(durable)
    with hooks.around_run(run), claim:
        if durable is not None and durable.record is None:
            config = run.config
            durable.journal.start(durable.run_id, config.messages, config.input_messages or config.messages)
        while True:
            action = run.next_action()
            if pending:
                await _settle(pending)
            if durable is not None and isinstance(action, Finish) and action.error is None:
                _record_end(durable, action.result)  # before its parts: a caller may stop at them
            for event in run.events():
                yield event
            if isinstance(action, Finish):
                if action.error is not None:
                    raise action.error  # after the parts of the step that ended the run
                return
            with hooks.around(action):
                if isinstance(action, CallModel):
                    recorded = action.recorded  # the machine knows the journal's answers
                    if recorded is not None:
                        async for part in _replay_answer(run, action, recorded, pending):
                            yield part
                        continue
                    try:
                        if action.streaming:
                            stream = action.model.stream_async(action.call)
                            feed_part = run.feed_part  # bound once: this loop runs for every part
                            produced = run.pending  # parts a model part led to (partial output)
                            try:
                                async for part in stream:
                                    forwarded = feed_part(part)
                                    if pending:
                                        await _settle(pending)
                                    if forwarded is not None:
                                        yield forwarded
                                    if produced:
                                        for event in run.events():
                                            yield event
                            finally:
                                # Close the HTTP response as soon as the run is closed, not whenever
                                # the event loop finalizes an abandoned generator.
                                await _concurrency.close_stream_async(stream)
                        else:
                            run.feed_response(await action.model.generate_async(action.call))
                    except ReverieError as error:
                        hooks.model_failed(action, error)
                        run.feed_error(error)  # raises the final error when retrying stops
                    else:
                        hooks.model_answered(action, run)
                        if durable is not None:
                            answer = run.answer()
                            if answer is not None:  # a cut stream is retried, not recorded
                                from reverie._run.journal_replay import answer_to_record

                                durable.journal.record_response(
                                    durable.run_id, action.step_number, answer_to_record(answer)
                                )
                    if pending:
                        await _settle(pending)
                elif isinstance(action, Wait):
                    await _concurrency.async_sleep(action.seconds)
                else:
                    async for result in _run_tools(action, hooks, durable):
                        run.feed_tool_result(result)
                        if pending:
                            await _settle(pending)
                        for event in run.events():
                            yield event


def _claim(durable: JournalRun) -> AbstractContextManager[object]:
    """``durable``'s run id claimed on its journal object while the run goes on."""
    from reverie._journal.claims import driving  # a durable run only

    return driving(durable.journal, durable.run_id)


def run_parts(run: Run, pending: list[Awaitable[Any]]) -> AsyncIterator[AgentStreamPart]:
    """``drive``, inside the run's toolsets when it has any (``RunConfig.toolsets``)."""
    if run.config.toolsets:
        return _drive_in_toolsets(run, pending)
    return drive(run, pending)


async def _drive_in_toolsets(run: Run, pending: list[Awaitable[Any]]) -> AsyncIterator[AgentStreamPart]:
    """Open the run's toolsets, run with their tools, and leave them when the run ends.

    A toolset counts its users: one the caller holds open stays open after the run.
    """
    from reverie._tools.toolset import ToolSet, with_toolsets  # only a run with toolsets

    config = run.config
    entered: list[Toolset] = []
    try:
        for toolset in config.toolsets:
            await toolset.__aenter__()
            entered.append(toolset)
        run.use_tool_set(with_toolsets(config.tool_set or ToolSet(config.tools), config.toolsets))
        parts = drive(run, pending)
        try:
            async for part in parts:
                yield part
        finally:
            await _concurrency.close_stream_async(parts)
    finally:
        for toolset in reversed(entered):
            await toolset.__aexit__(None, None, None)


async def _settle(pending: list[Awaitable[Any]]) -> None:
    """Await what async callbacks returned, in the order they were called."""
    while pending:
        await pending.pop(0)


async def _replay_answer(
    run: Run, action: CallModel, recorded: Response, pending: list[Awaitable[Any]]
) -> AsyncIterator[AgentStreamPart]:
    """Feed the journal's answer of the step instead of calling the model (as parts when streaming)."""
    from reverie._run.journal_replay import replayed_parts

    if action.streaming:
        for part in replayed_parts(recorded):
            forwarded = run.feed_part(part)
            if pending:
                await _settle(pending)
            if forwarded is not None:
                yield forwarded
            for event in run.events():
                yield event
    else:
        run.feed_response(recorded)
    run.config.hooks.model_answered(action, run)
    if pending:
        await _settle(pending)


def _record_end(durable: JournalRun, result: AgentResult[Any]) -> None:
    """Record how the run ended, paused or finished, unless the journal has it already."""
    from reverie._run.journal_replay import records_end

    if records_end(durable.record, result):
        if result.status == "paused":
            durable.journal.record_pause(durable.run_id, result)
        else:
            durable.journal.finish(durable.run_id, result)


async def _run_tools(
    action: RunTools, hooks: RunHooks, durable: JournalRun | None
) -> AsyncIterator[ToolResultPart]:
    """Run each batch of the step's calls (a batch's calls concurrently), results in call order.

    A durable run first makes sure no call of the step was interrupted for good (a call of a
    tool that is not idempotent, started and never finished): it stops with
    ``InterruptedToolError`` before running any.
    """
    step_number = action.step_number
    if durable is not None:
        from reverie._run.journal_replay import tool_decision

        for batch in action.batches:
            for call, prepared in batch:
                if prepared is None:
                    continue
                decision, _ = tool_decision(
                    durable.record, step_number, call, idempotent=_idempotent(prepared.tool)
                )
                if decision == "interrupted":
                    raise InterruptedToolError(
                        tool_call_id=call.tool_call_id, tool_name=call.tool_name, run_id=durable.run_id
                    )
    for batch in action.batches:
        if len(batch) == 1:
            yield await _run_recorded(batch[0], hooks, durable, step_number)
            continue
        calls = [functools.partial(_run_recorded, job, hooks, durable, step_number) for job in batch]
        for result in await _concurrency.run_all_async(calls):
            yield result


def _idempotent(tool: Tool) -> bool:
    return bool(getattr(tool, "idempotent", False))


async def _run_recorded(
    job: ToolJob, hooks: RunHooks, durable: JournalRun | None, step_number: int
) -> ToolResultPart:
    """Run one call; in a durable run, use its recorded result, or record its start and its result."""
    call, prepared = job
    if durable is None or prepared is None:  # an invalid call runs nothing: nothing to record
        return await _run_one(job, hooks)
    from reverie._run.journal_replay import tool_decision

    _, recorded = tool_decision(durable.record, step_number, call, idempotent=_idempotent(prepared.tool))
    if recorded is not None:
        return recorded
    durable.journal.tool_started(durable.run_id, step_number, call)
    result = await _run_one(job, hooks)
    durable.journal.record_tool_result(durable.run_id, step_number, result)
    return result


async def _run_one(job: ToolJob, hooks: RunHooks) -> ToolResultPart:
    """Run one call; a raising tool becomes an error result and the run goes on (fantasy).

    The hooks are entered here, in the thread or task the tool runs in, so what they put in
    the context (a tracing span) is the tool's context, parallel calls included.
    """
    call, prepared = job
    with hooks.around_tool(call):
        if prepared is None:
            result = invalid_result(call)
            hooks.tool_ended(call, result, None)
            return result
        try:
            value = await prepared.tool.call_async(prepared.arguments)
        except NestedLoopError:
            raise  # misuse of the sync API is the caller's error, not the model's
        except Exception as error:
            result = error_result(call, error)
            hooks.tool_ended(call, result, error)
            return result
        result = output_result(call, value)
        hooks.tool_ended(call, result, None)
        return result


def _adopt_callbacks(config: RunConfig) -> tuple[RunConfig, list[Awaitable[Any]]]:
    """``adopt_callbacks_async``: loaded only by a run with a callback or hook, checked in one step."""
    if not has_callbacks(config):
        return config, []
    from reverie._run.callbacks import adopt_callbacks_async

    return adopt_callbacks_async(config)


async def generate(config: RunConfig) -> AgentResult[Any]:
    """Run to the end without streaming and return the result."""
    config, pending = _adopt_callbacks(config)
    run = Run(config, streaming=False)
    parts = run_parts(run, pending)
    try:
        async for _ in parts:
            pass
    finally:
        await _concurrency.close_stream_async(parts)
    assert run.result is not None
    return run.result


class AsyncAgentStream:
    """The parts of a streamed run, as they happen; ``result()`` drains and returns the outcome.

    Iterate with ``async for``; call ``await result()`` after (or instead of) iterating.
    ``aclose()`` (or leaving ``async with``) stops the run and closes the HTTP response.
    Nothing starts until the stream is iterated.
    """

    def __init__(self, config: RunConfig) -> None:
        config, self._pending = _adopt_callbacks(config)
        self._run = Run(config, streaming=True)
        self._parts: AsyncIterator[AgentStreamPart] | None = None

    def _iterator(self) -> AsyncIterator[AgentStreamPart]:
        if self._parts is None:
            self._parts = run_parts(self._run, self._pending)
        return self._parts

    def __aiter__(self) -> AsyncIterator[AgentStreamPart]:
        # The run's own generator: iterating it directly keeps one layer off every part.
        return self._iterator()

    async def __anext__(self) -> AgentStreamPart:
        return await self._iterator().__anext__()

    async def result(self) -> AgentResult[Any]:
        """Consume whatever is left of the stream and return the run's result."""
        async for _ in self._iterator():
            pass
        if self._run.result is None:
            raise UserError("the stream was closed before the run finished; no result is available")
        return self._run.result

    @property
    def steps(self) -> list[StepResult]:
        """The steps finished so far."""
        return list(self._run.steps)

    async def aclose(self) -> None:
        """Stop the run and release its HTTP response (a run not yet started never starts)."""
        await _concurrency.close_stream_async(self._iterator())

    async def __aenter__(self) -> AsyncAgentStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

"""The few primitives that differ between sync and async, written once in each colour.

``scripts/unasync.py`` maps each ``*_async`` name to its sync twin, so the generated
runner calls the right one: sleeping, running a tool, running a step's tools (parallel
tools concurrently), and closing a model stream early.

A sync tool in an async run goes to a worker thread so it cannot block the event loop;
an async tool in a sync run gets a private event loop, unless one is already running in
this thread, which is a ``UserError`` (use the ``*_async`` API there).

asyncio, anyio and the thread pool are imported where they are used, so a program that
only uses the sync API never loads an event loop (``import reverie`` stays light).
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from typing import Any, cast

from reverie._content import ToolCallPart, ToolResultPart
from reverie._errors import UserError
from reverie._tool import PreparedToolCall, describe_tool_error, encode_tool_output

ToolJob = tuple[ToolCallPart, PreparedToolCall | None]
"""A call of the step and, when it is valid, what to run."""


def sleep(seconds: float) -> None:
    """Block for ``seconds``."""
    if seconds > 0:
        time.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Wait ``seconds`` without blocking the event loop."""
    import anyio

    await anyio.sleep(seconds)


def _check_runnable(prepared: PreparedToolCall) -> None:
    """Refuse an async tool when this thread already runs an event loop (it cannot get its own)."""
    if not prepared.tool.is_async:
        return
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise UserError(
        f"async tool {prepared.tool.name!r} cannot run from the sync API inside a running event loop; "
        "use generate_async or stream_async"
    )


def call_tool(prepared: PreparedToolCall) -> Any:
    """Run a tool from sync code."""
    if not prepared.tool.is_async:
        return prepared.tool.function(**prepared.arguments)
    _check_runnable(prepared)
    import asyncio

    return asyncio.run(prepared.tool.function(**prepared.arguments))


async def call_tool_async(prepared: PreparedToolCall) -> Any:
    """Run a tool from async code."""
    if prepared.tool.is_async:
        return await cast(Awaitable[Any], prepared.tool.function(**prepared.arguments))
    import anyio.to_thread

    return await anyio.to_thread.run_sync(functools.partial(prepared.tool.function, **prepared.arguments))


def _result(call: ToolCallPart, output: str, *, is_error: bool) -> ToolResultPart:
    return ToolResultPart(
        tool_call_id=call.tool_call_id, tool_name=call.tool_name, output=output, is_error=is_error
    )


def _invalid_result(call: ToolCallPart) -> ToolResultPart:
    return _result(call, call.error or "invalid tool call", is_error=True)


def run_one(job: ToolJob) -> ToolResultPart:
    """Run one call; a raising tool becomes an error result and the run goes on (fantasy)."""
    call, prepared = job
    if prepared is None:
        return _invalid_result(call)
    # Misuse of the sync API is the caller's error: raise it instead of telling the model.
    _check_runnable(prepared)
    try:
        value = call_tool(prepared)
    except Exception as error:
        return _result(call, describe_tool_error(error), is_error=True)
    return _result(call, encode_tool_output(value), is_error=False)


async def run_one_async(job: ToolJob) -> ToolResultPart:
    """Async ``run_one``."""
    call, prepared = job
    if prepared is None:
        return _invalid_result(call)
    try:
        value = await call_tool_async(prepared)
    except Exception as error:
        return _result(call, describe_tool_error(error), is_error=True)
    return _result(call, encode_tool_output(value), is_error=False)


def _batches(jobs: Sequence[ToolJob]) -> Iterator[list[ToolJob]]:
    """Consecutive parallel calls form one concurrent batch; every other call runs alone, in order."""
    batch: list[ToolJob] = []
    for job in jobs:
        prepared = job[1]
        if prepared is not None and prepared.tool.parallel:
            batch.append(job)
            continue
        if batch:
            yield batch
            batch = []
        yield [job]
    if batch:
        yield batch


def run_tools(jobs: Sequence[ToolJob]) -> Iterator[ToolResultPart]:
    """Run a step's calls, yielding results in call order."""
    for batch in _batches(jobs):
        if len(batch) == 1:
            yield run_one(batch[0])
            continue
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(batch), thread_name_prefix="reverie-tool") as pool:
            yield from pool.map(run_one, batch)


async def run_tools_async(jobs: Sequence[ToolJob]) -> AsyncIterator[ToolResultPart]:
    """Async ``run_tools``: a parallel batch runs in one task group."""
    for batch in _batches(jobs):
        if len(batch) == 1:
            yield await run_one_async(batch[0])
            continue
        results: list[ToolResultPart | None] = [None] * len(batch)
        import anyio

        async with anyio.create_task_group() as group:
            for index, job in enumerate(batch):
                group.start_soon(_run_into, results, index, job)
        for result in results:
            assert result is not None
            yield result


async def _run_into(results: list[ToolResultPart | None], index: int, job: ToolJob) -> None:
    results[index] = await run_one_async(job)


def close_stream(stream: Iterator[Any]) -> None:
    """Close a model stream (its HTTP response) that was left before its end."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()


async def close_stream_async(stream: AsyncIterator[Any]) -> None:
    """Async ``close_stream``."""
    close = getattr(stream, "aclose", None)
    if close is not None:
        await close()

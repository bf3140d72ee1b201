"""The few primitives that differ between sync and async, written once in each colour.

``scripts/unasync.py`` maps each ``*_async`` name to its sync twin, so the generated
runner calls the right one: sleeping, running several calls at once, and closing a model
stream early. Which calls run, in what order and what their results mean is decided
elsewhere (``reverie._run``); this module only waits.

A sync function called from async code goes to a worker thread so it cannot block the
event loop; a coroutine needed by sync code gets a private event loop, unless one is
already running in this thread, which is a ``UserError`` (use the ``*_async`` API there).
Threads start in a copy of the caller's context, so context variables reach tools.

asyncio, anyio and the thread pool are imported where they are used, so a program that
only uses the sync API never loads an event loop (``import reverie`` stays light).
"""

from __future__ import annotations

import contextvars
import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

from reverie._errors import UserError

T = TypeVar("T")


class NestedLoopError(UserError):
    """A coroutine was needed by the sync API inside a running event loop."""


def sleep(seconds: float) -> None:
    """Block for ``seconds``."""
    if seconds > 0:
        time.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Wait ``seconds`` without blocking the event loop."""
    import anyio

    await anyio.sleep(seconds)


def run_coroutine(coroutine: Coroutine[Any, Any, T], *, what: str) -> T:
    """Run ``coroutine`` to its end from sync code, in a private event loop."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    coroutine.close()  # never started; closing it avoids a "never awaited" warning
    raise NestedLoopError(
        f"{what} cannot run from the sync API inside a running event loop; use generate_async or stream_async"
    )


async def run_in_thread(function: Callable[..., T], arguments: dict[str, Any]) -> T:
    """Call a sync ``function`` from async code in a worker thread (anyio copies the context)."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(functools.partial(function, **arguments))


def run_all(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run ``calls`` concurrently in threads, each in a copy of the caller's context; results in order."""
    from concurrent.futures import ThreadPoolExecutor

    contexts = [contextvars.copy_context() for _ in calls]
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="reverie-tool") as pool:
        futures = [pool.submit(context.run, call) for context, call in zip(contexts, calls, strict=True)]
        return [future.result() for future in futures]


async def run_all_async(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Run ``calls`` concurrently in one task group; results in order.

    When calls raise, the first exception is raised as is, not inside an exception group.
    """
    import anyio

    results: list[T | None] = [None] * len(calls)
    failures: list[BaseException] = []
    cancelled = anyio.get_cancelled_exc_class()

    async def run_into(index: int, call: Callable[[], Awaitable[T]]) -> None:
        try:
            results[index] = await call()
        except cancelled:
            raise
        except BaseException as error:  # kept to re-raise it unwrapped below
            failures.append(error)
            raise

    try:
        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run_into, index, call)
    except BaseExceptionGroup:
        # The task group wraps what a call raised; re-raise the first one as it was raised,
        # as the sequential and sync paths do, so ``except MyError`` still catches it.
        if failures:
            raise failures[0]  # noqa: B904 (its own traceback and cause are what matter)
        raise
    return results  # pyright: ignore[reportReturnType] - every slot was filled by its task


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

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


class ToolTimeoutError(TimeoutError):
    """A tool ran past its ``timeout``; the model receives this as an error result."""


def _over_time(what: str, seconds: float, *, left_running: bool) -> ToolTimeoutError:
    detail = "; its thread was left running (a thread cannot be stopped)" if left_running else ""
    return ToolTimeoutError(f"{what} did not finish within its timeout of {seconds:g} s{detail}")


async def within_async(coroutine: Coroutine[Any, Any, T], seconds: float, *, what: str) -> T:
    """Await ``coroutine``, cancelled after ``seconds`` with a ``ToolTimeoutError``."""
    import anyio

    with anyio.move_on_after(seconds) as scope:
        return await coroutine
    assert scope.cancelled_caught
    raise _over_time(what, seconds, left_running=False)


async def run_in_thread_within(
    function: Callable[..., T], arguments: dict[str, Any], seconds: float, *, what: str
) -> T:
    """``run_in_thread``, no longer waited for after ``seconds`` (the thread runs on)."""
    import anyio
    import anyio.to_thread

    with anyio.move_on_after(seconds):
        return await anyio.to_thread.run_sync(
            functools.partial(function, **arguments), abandon_on_cancel=True
        )
    raise _over_time(what, seconds, left_running=True)


def call_in_thread_within(
    function: Callable[..., T], arguments: dict[str, Any], seconds: float, *, what: str
) -> T:
    """Call a sync ``function`` in a daemon thread and wait at most ``seconds`` for it.

    Past that the caller goes on with a ``ToolTimeoutError``; the thread is left running (a
    daemon, so it does not hold the interpreter open at exit).
    """
    import threading

    outcome: list[Any] = []
    failure: list[BaseException] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome.append(context.run(functools.partial(function, **arguments)))
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    thread = threading.Thread(target=target, name="reverie-tool", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise _over_time(what, seconds, left_running=True)
    if failure:
        raise failure[0]
    return outcome[0]


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


def run_workers(worker: Callable[[], None], count: int, *, stop: Callable[[], None]) -> None:
    """Run ``count`` copies of ``worker`` in threads until each returns; the first failure is raised.

    The workers share their work themselves (a queue), so ``count`` threads serve any number
    of items. An interruption while waiting (Ctrl-C) calls ``stop`` first, so the workers take
    no more work, and is raised without waiting for the calls under way: a thread cannot be
    cancelled, and each is a daemon, so it does not hold the interpreter open at exit.
    """
    import threading

    failures: list[BaseException] = []

    def target() -> None:
        try:
            worker()
        except BaseException as error:  # handed to the caller below
            failures.append(error)
            stop()

    threads = [
        threading.Thread(
            target=contextvars.copy_context().run, args=(target,), name="reverie-worker", daemon=True
        )
        for _ in range(count)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)  # a short join, so Ctrl-C reaches this thread promptly
    except BaseException:
        stop()
        raise
    if failures:
        raise failures[0]


async def run_workers_async(
    worker: Callable[[], Awaitable[None]], count: int, *, stop: Callable[[], None]
) -> None:
    """Run ``count`` copies of ``worker`` as tasks until each returns; the first failure is raised.

    Cancelling the caller cancels the workers (and the calls they await); ``stop`` is called
    then too, and when a worker fails, so that no worker takes more work.
    """
    import anyio

    failures: list[BaseException] = []
    cancelled = anyio.get_cancelled_exc_class()

    async def run() -> None:
        try:
            await worker()
        except cancelled:
            raise
        except BaseException as error:  # kept to re-raise it unwrapped below
            failures.append(error)
            stop()
            raise

    try:
        async with anyio.create_task_group() as group:
            for _ in range(count):
                group.start_soon(run)
    except BaseExceptionGroup:
        if failures:
            raise failures[0]  # noqa: B904 (its own traceback and cause are what matter)
        raise
    except BaseException:
        stop()
        raise

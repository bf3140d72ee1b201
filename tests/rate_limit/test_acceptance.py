"""One ``RateLimiter`` against a loopback server that enforces a limit: threads and tasks at once.

Real time, kept short: the server's window is a quarter of a second. Each test mixes or
exercises both colours on purpose, so this module is hand-written, not generated.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator

import anyio
import anyio.to_thread
import pytest

from reverie import Agent, Call, DeadlineExceededError, Message, ProviderError, RateLimiter, RetryPolicy
from reverie.providers import openaicompat
from tests.rate_limit.server import TEXT, LimitedServer

WINDOW = 0.25
TASKS = 200
THREADS = 16
RUNS_PER_THREAD = 2
CALL = Call(prompt=[Message.user("hi")])


@pytest.fixture
def server() -> Iterator[LimitedServer]:
    with LimitedServer(limit=40, window=WINDOW) as running:
        yield running


def crowd(
    provider: openaicompat.Provider, *, tasks: int, threads: int
) -> tuple[list[str], list[BaseException]]:
    """``tasks`` async runs in one event loop while ``threads`` threads run sync ones, all at once."""
    # Retries would hide nothing here: each 429 is counted by the server.
    agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=8, initial_delay=0.05))
    texts: list[str] = []
    failures: list[BaseException] = []

    def sync_runs() -> None:
        try:
            for _ in range(RUNS_PER_THREAD):
                texts.append(agent.generate("hi").text)
        except BaseException as error:  # reported by the test below
            failures.append(error)

    async def async_run() -> None:
        try:
            texts.append((await agent.generate_async("hi")).text)
        except Exception as error:
            failures.append(error)

    def join_workers() -> None:
        for worker in workers:
            worker.join(60)

    async def main() -> None:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for _ in range(tasks):
                    group.start_soon(async_run)
        await anyio.to_thread.run_sync(join_workers)  # the threads use the provider's sync client
        await provider.aclose()

    workers = [threading.Thread(target=sync_runs, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    anyio.run(main)
    assert not any(worker.is_alive() for worker in workers)
    return texts, failures


def provider_of(server: LimitedServer, limiter: RateLimiter | None) -> openaicompat.Provider:
    return openaicompat.Provider(base_url=server.url, api_key="k", rate_limiter=limiter)


def test_without_a_limiter_a_crowd_gets_many_429s() -> None:
    # A window far longer than the crowd takes, so that a busy machine (spreading the requests
    # over more of the usual short windows) cannot hide the refusals.
    with LimitedServer(limit=40, window=10.0) as server:
        _crowd_without_a_limiter(server)


def _crowd_without_a_limiter(server: LimitedServer) -> None:
    provider = provider_of(server, None)
    model = provider.language_model("m")
    refusals: list[ProviderError] = []

    async def call() -> None:
        try:
            await model.generate_async(CALL)
        except ProviderError as error:
            refusals.append(error)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(TASKS):
                group.start_soon(call)
        await provider.aclose()

    anyio.run(main)
    assert len(refusals) == sum(server.refused.values())
    assert sum(server.refused.values()) > 40
    assert max(server.refused.values()) > 1


@pytest.mark.parametrize("limited", [False, True], ids=["without", "with"])
def test_the_providers_headers_alone_hold_a_caller_within_the_limit(limited: bool) -> None:
    # One caller, one request at a time: far faster than 5 a window, and the limiter has no
    # limit of its own. What it reads in the headers is all that holds it back.
    with LimitedServer(limit=5, window=WINDOW) as server:
        provider = provider_of(server, RateLimiter() if limited else None)

        async def main() -> None:
            model = provider.language_model("m")
            for _ in range(20):
                with contextlib.suppress(ProviderError):
                    await model.generate_async(CALL)
            await provider.aclose()

        anyio.run(main)
    if limited:
        assert sum(server.refused.values()) == 0
        assert sum(server.accepted.values()) == 20
    else:
        assert sum(server.refused.values()) > 5


def test_one_slot_and_the_providers_headers_keep_threads_and_tasks_within_the_limit() -> None:
    # One request at a time is faster than this server allows (20 a window) unless the machine
    # is busy: the headers, read by the limiter, keep the crowd from going over.
    with LimitedServer(limit=20, window=WINDOW) as server:
        texts, failures = crowd(
            provider_of(server, RateLimiter(max_concurrency=1)), tasks=TASKS, threads=THREADS
        )
    assert failures == []
    expected = TASKS + THREADS * RUNS_PER_THREAD
    assert texts == [TEXT] * expected
    assert sum(server.accepted.values()) == expected
    assert max(server.refused.values(), default=0) <= 1, server.refused


def test_requests_per_minute_at_the_servers_limit_keep_threads_and_tasks_within_it() -> None:
    # The server allows 40 a second. The limiter lets a burst of 20 go at once and 20 more
    # in the first second (40: the server's limit), then 20 a second. A second-long window
    # keeps the check sound on a loaded machine: a request the limiter let go can only arrive
    # late, and a stall moves at most one window's requests into the next, which has room.
    limiter = RateLimiter(requests_per_minute=20 * 60)
    tasks, threads = 60, 4
    with LimitedServer(limit=40, window=1.0) as server:
        texts, failures = crowd(provider_of(server, limiter), tasks=tasks, threads=threads)
    assert failures == []
    expected = tasks + threads * RUNS_PER_THREAD
    assert texts == [TEXT] * expected
    assert sum(server.accepted.values()) == expected
    assert max(server.refused.values(), default=0) <= 1, server.refused


def test_an_async_wait_is_cancellable_and_gives_its_place_back(server: LimitedServer) -> None:
    provider = provider_of(server, RateLimiter(requests_per_minute=1))
    model = provider.language_model("m")
    agent = Agent(model)

    async def main() -> None:
        await model.generate_async(CALL)
        started = time.monotonic()
        with anyio.move_on_after(0.2) as scope:
            await model.generate_async(CALL)  # would wait a minute
        assert scope.cancelled_caught
        assert time.monotonic() - started < 1.0
        # The cancelled caller's place went back: the next one is a minute away, not two.
        with pytest.raises(DeadlineExceededError) as caught:
            await agent.generate_async("hi", deadline=5.0)
        wait = float(re.findall(r"rate-limit wait of ([\d.]+) s", str(caught.value.__cause__))[0])
        assert 59.0 < wait <= 60.0
        await provider.aclose()

    anyio.run(main)
    assert sum(server.accepted.values()) == 1


def test_a_cancelled_slot_waiter_does_not_keep_the_slot(server: LimitedServer) -> None:
    provider = provider_of(server, RateLimiter(max_concurrency=1))
    model = provider.language_model("m")

    async def main() -> None:
        held = model.stream_async(CALL)
        assert (await held.__anext__()).type == "stream_start"
        with anyio.move_on_after(0.1) as scope:
            await model.generate_async(CALL)
        assert scope.cancelled_caught
        await held.aclose()  # type: ignore[attr-defined]
        with anyio.fail_after(5):
            assert (await model.generate_async(CALL)).finish_reason == "stop"
        await provider.aclose()

    anyio.run(main)


def test_a_slot_freed_by_a_thread_wakes_a_task(server: LimitedServer) -> None:
    provider = provider_of(server, RateLimiter(max_concurrency=1))
    model = provider.language_model("m")
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        stream = model.stream(CALL)
        next(stream)
        holding.set()
        release.wait(10)
        stream.close()  # type: ignore[attr-defined]

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert holding.wait(10)

    async def main() -> float:
        async def let_go() -> None:
            await anyio.sleep(0.3)
            release.set()

        async with anyio.create_task_group() as group:
            group.start_soon(let_go)
            started = time.monotonic()
            with anyio.fail_after(5):
                await model.generate_async(CALL)
            waited = time.monotonic() - started
        await provider.aclose()
        return waited

    waited = anyio.run(main)
    holder.join(5)
    provider.close()
    assert 0.25 <= waited < 3.0

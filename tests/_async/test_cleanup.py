"""Leaving a run early closes its HTTP response: counted on the server side, over 1,000 runs.

The fault server counts the sockets it has open. A client without keep-alive closes its
socket as soon as a response is closed, so after breaking out of a stream, closing it,
cancelling it or raising from a callback, the server must see no open connection while the
client is still open. ``closed_now`` waits for that with a *blocking* wait, which keeps the
event loop from running in between: the response must be closed by the call that left the
run, not later by a garbage-collection hook.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx2
import pytest

from reverie import (
    Agent,
    ProviderError,
    RetryError,
    RetryPolicy,
    ReverieError,
    TextDeltaPart,
    UserError,
)
from reverie.providers import openaicompat
from tests.faults import DEFAULT_TEXT, Fault, FaultServer, slow_drip

IS_SYNC = Path(__file__).parent.name == "_sync"
TIMEOUT = httpx2.Timeout(5.0, read=5.0)
NO_KEEPALIVE = httpx2.Limits(max_keepalive_connections=0)
RUNS = 1000
DEADLINE = 90.0
"""A guard against a hang: the 1,000 runs take a few seconds; the loop stops here regardless."""
MAX_OPEN = 5
"""Sockets the server may see open at once while one client runs one run at a time."""


class Interrupted(BaseException):
    """Stands in for KeyboardInterrupt raised while a stream is being read."""


def drip() -> Fault:
    """An answer that takes 3 s to arrive: leaving early must not wait for it."""
    return slow_drip(delay_s=0.2, chunks=15)


@pytest.fixture
def server(fault_server: FaultServer) -> Iterator[FaultServer]:
    """The module's fault server (see conftest), once the previous test's sockets are closed."""
    assert fault_server.wait_for_connections_closed(2.0), "a previous test left a connection open"
    fault_server.reset()
    yield fault_server
    assert fault_server.errors == []


@pytest.fixture(autouse=True)
def _no_waiting(sleeps: list[float]) -> None:
    """Retries in these tests never wait (see the ``sleeps`` fixture in conftest)."""


def make_agent(server: FaultServer, client: httpx2.AsyncClient, **options: object) -> Agent:
    provider = openaicompat.Provider(base_url=server.url + "/v1", api_key="k", async_http_client=client)
    return Agent(provider.language_model("fault-model"), **options)  # type: ignore[arg-type]


def closed_now(server: FaultServer) -> bool:
    """Whether the server's sockets all close within a second, without the event loop running."""
    return server.wait_for_connections_closed(timeout=1.0)


def socket_fds() -> int | None:
    """Open sockets of this process (client and server side), or None off Linux."""
    if not os.path.isdir("/proc/self/fd"):
        return None
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since listed
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
    return count


# --- one run at a time ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_completed_runs_reuse_one_pooled_connection(server: FaultServer) -> None:
    async with httpx2.AsyncClient(timeout=TIMEOUT) as client:
        agent = make_agent(server, client)
        assert (await agent.generate_async("hi")).text == DEFAULT_TEXT
        async with agent.stream_async("hi") as stream:
            assert (await stream.result()).text == DEFAULT_TEXT
        assert (await agent.stream_async("hi").result()).text == DEFAULT_TEXT
        assert server.request_count == 3
        assert server.total_connections == 1  # kept alive and reused
        assert server.open_connections == 1
    assert closed_now(server)


@pytest.mark.anyio
async def test_breaking_out_of_a_stream_closes_the_response(server: FaultServer) -> None:
    server.script([drip()])
    start = time.monotonic()
    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE) as client:
        async with make_agent(server, client).stream_async("hi") as stream:
            async for part in stream:
                if isinstance(part, TextDeltaPart):
                    break
        assert closed_now(server)
        assert time.monotonic() - start < 1.5  # it did not wait for the rest of the answer
        with pytest.raises(UserError, match="closed before the run finished"):
            await stream.result()
    assert server.request_count == 1


@pytest.mark.anyio
async def test_aclose_closes_the_response(server: FaultServer) -> None:
    server.script([drip()])
    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE) as client:
        stream = make_agent(server, client).stream_async("hi")
        async for part in stream:
            if isinstance(part, TextDeltaPart):
                break
        assert server.open_connections == 1  # held by the stream we still reference
        await stream.aclose()
        assert closed_now(server)
        assert [part async for part in stream] == []  # a closed stream yields nothing more
    assert server.request_count == 1


@pytest.mark.anyio
async def test_a_dropped_stream_is_closed(server: FaultServer) -> None:
    # Breaking out of an unreferenced stream: a sync generator is closed as soon as it is
    # dropped; an async one by the event loop's finalizer hook on its next tick.
    server.script([drip()])
    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE) as client:
        async for part in make_agent(server, client).stream_async("hi"):
            if isinstance(part, TextDeltaPart):
                break
        if not IS_SYNC:
            await anyio.sleep(0.05)  # one loop tick for the finalizer (the sync twin needs none)
        assert closed_now(server)


@pytest.mark.anyio
async def test_cancelling_a_stream_closes_the_response(server: FaultServer) -> None:
    if IS_SYNC:
        pytest.skip("cancel scopes are async-only; see test_callback_exception_closes_the_response")
    server.script([drip()])
    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE) as client:
        with anyio.CancelScope() as scope:
            async for part in make_agent(server, client).stream_async("hi"):
                if isinstance(part, TextDeltaPart):
                    scope.cancel()
        assert scope.cancelled_caught
        assert closed_now(server)
    assert server.request_count == 1


@pytest.mark.anyio
async def test_cancelling_inside_async_with_closes_the_response(server: FaultServer) -> None:
    # The cancellation reaches the consumer's own code, not the library's read; leaving the
    # ``async with`` closes the response even though the scope is cancelled. (Without the
    # ``async with``, the event loop's async-generator finalizer closes it on its next tick.)
    if IS_SYNC:
        pytest.skip("cancel scopes are async-only")
    server.script([drip()])
    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE) as client:
        with anyio.CancelScope() as scope:
            async with make_agent(server, client).stream_async("hi") as stream:
                async for part in stream:
                    if isinstance(part, TextDeltaPart):
                        scope.cancel()
                        await anyio.sleep(0)
        assert scope.cancelled_caught
        assert closed_now(server)


@pytest.mark.anyio
async def test_cancelling_a_generate_closes_the_response(server: FaultServer) -> None:
    if IS_SYNC:
        pytest.skip("cancel scopes are async-only")
    server.script([drip()])
    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE) as client:
        with anyio.move_on_after(0.3) as scope:
            await make_agent(server, client).generate_async("hi")
        assert scope.cancelled_caught
        assert closed_now(server)
    assert server.request_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("exception", [RuntimeError, Interrupted])
async def test_callback_exception_closes_the_response(server: FaultServer, exception: type) -> None:
    def on_text_delta(delta: str) -> None:
        raise exception(f"callback failed on {delta!r}")

    server.script([drip()])
    async with httpx2.AsyncClient(timeout=TIMEOUT, limits=NO_KEEPALIVE) as client:
        agent = make_agent(server, client, on_text_delta=on_text_delta)
        with pytest.raises(exception, match="callback failed on 'He'"):
            async for _ in agent.stream_async("hi"):
                pass
        assert closed_now(server)
    assert server.request_count == 1  # the callback's own exception is never retried


# --- 1,000 runs on one client ------------------------------------------------------------------------


class Stop(Exception):
    """Raised by a callback to abandon a run."""


KINDS = ["generate", "stream", "break", "aclose", "cancel", "callback", "failing"]


async def one_run(kind: str, agents: dict[str, Agent]) -> str:
    """Run one ``kind`` of run; return how it ended."""
    if kind == "generate":
        assert (await agents["plain"].generate_async("hi")).text == DEFAULT_TEXT
        return "completed"
    if kind == "stream":
        assert (await agents["plain"].stream_async("hi").result()).text == DEFAULT_TEXT
        return "completed"
    if kind == "break":
        async with agents["plain"].stream_async("hi") as stream:
            async for part in stream:
                if isinstance(part, TextDeltaPart):
                    break
        return "left early"
    if kind == "aclose":
        stream = agents["plain"].stream_async("hi")
        async for part in stream:
            if isinstance(part, TextDeltaPart):
                break
        await stream.aclose()
        return "left early"
    if kind == "cancel":
        if IS_SYNC:  # the sync stand-in for a cancellation: an interrupt while reading
            try:
                async for _ in agents["interrupted"].stream_async("hi"):
                    pass
            except Interrupted:
                return "left early"
            raise AssertionError("not interrupted")
        with anyio.CancelScope() as scope:
            async for part in agents["dripping"].stream_async("hi"):
                if isinstance(part, TextDeltaPart):
                    scope.cancel()
        # Cancellation lands in the library's next read; should the rest of the dripping
        # answer already be buffered, the run completes instead.
        return "left early" if scope.cancelled_caught else "completed"
    if kind == "callback":
        try:
            async for _ in agents["raising"].stream_async("hi"):
                pass
        except Stop:
            return "left early"
        raise AssertionError("the callback did not raise")
    try:
        await agents["failing"].stream_async("hi").result()
    except RetryError as error:
        assert all(isinstance(attempt, ProviderError) for attempt in error.errors)
        return "typed error"
    except ReverieError as error:  # pragma: no cover - reported by the assertion below
        return type(error).__name__
    raise AssertionError("the failing run succeeded")


@pytest.mark.anyio
async def test_a_thousand_mixed_runs_leak_no_connection(server: FaultServer) -> None:
    def interrupt(delta: str) -> None:
        raise Interrupted

    def stop(delta: str) -> None:
        raise Stop

    fds_before = socket_fds()
    outcomes: Counter[str] = Counter()
    done = 0
    start = time.monotonic()
    async with httpx2.AsyncClient(timeout=TIMEOUT) as client:
        one_retry = RetryPolicy(max_retries=1, initial_delay=0.0)
        agents = {
            "plain": make_agent(server, client),
            "interrupted": make_agent(server, client, on_text_delta=interrupt),
            "raising": make_agent(server, client, on_text_delta=stop),
            "dripping": make_agent(server, client, headers={"x-fault": "slow_drip;delay_s=0.005;chunks=6"}),
            "failing": make_agent(server, client, retry=one_retry, headers={"x-fault": "cut_stream"}),
        }
        while done < RUNS and time.monotonic() - start < DEADLINE:
            outcomes[await one_run(KINDS[done % len(KINDS)], agents)] += 1
            done += 1
            assert server.open_connections <= MAX_OPEN, f"{server.open_connections} open after {done} runs"
        assert server.max_open_connections <= MAX_OPEN
        # What stays open is at most the client's pool of idle keep-alive connections.
        deadline = time.monotonic() + 2.0
        while server.open_connections > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.open_connections <= 1
    assert closed_now(server)
    assert done == RUNS, f"only {done} of {RUNS} runs in {DEADLINE} s"
    per_kind = done // len(KINDS)
    assert outcomes["completed"] >= 2 * per_kind
    assert outcomes["left early"] >= 3 * per_kind
    assert outcomes["typed error"] >= per_kind
    assert set(outcomes) == {"completed", "left early", "typed error"}
    assert server.total_connections > per_kind  # runs left early could not reuse their connection
    fds_after = socket_fds()
    if fds_before is not None and fds_after is not None:
        assert fds_after <= fds_before, "sockets of this process leaked"

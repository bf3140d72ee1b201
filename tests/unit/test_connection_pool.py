"""The default clients' connection pool: sized for LLM traffic, overridable, and what running out
of file descriptors looks like on real sockets.

LLM requests are long-lived, so the default clients hold up to 1,000 connections and keep 100
alive (the openai SDK's sizes), not httpx2's 100 and 20. ``Provider(max_connections=...,
max_keepalive_connections=...)`` changes them; a client passed in keeps its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import Any

import anyio
import httpx2
import pytest

from reverie import Agent, RetryPolicy, UserError
from reverie._provider import DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_KEEPALIVE_CONNECTIONS, Provider
from reverie.providers import (
    anthropic,
    azure,
    bedrock,
    google,
    openai,
    openaicompat,
    openrouter,
    vercel,
    vertex,
)
from tests.conftest import ROOT
from tests.faults import DEFAULT_TEXT, FaultServer, slow_drip

IN_FLIGHT = 120
"""More concurrent requests than httpx2's default pool of 100 lets through."""


def every_provider(**options: Any) -> list[Provider]:
    return [
        openai.Provider(api_key="k", **options),
        openai.Provider(api_key="k", api="responses", **options),
        azure.Provider(base_url="https://r.openai.azure.com", api_key="k", **options),
        openrouter.Provider(api_key="k", **options),
        openaicompat.Provider(base_url="http://localhost:8000/v1", **options),
        vercel.Provider(api_key="k", **options),
        anthropic.Provider(api_key="k", **options),
        google.Provider(api_key="k", **options),
        bedrock.Provider(region="us-east-1", api_key="k", **options),
        vertex.Provider(project="p", location="us-east5", access_token="t", **options),
    ]


def pool_sizes(client: httpx2.Client | httpx2.AsyncClient) -> tuple[int, int]:
    """The (max connections, max kept alive) of a client's connection pool."""
    pool: Any = client._transport._pool  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    return pool._max_connections, pool._max_keepalive_connections


def test_the_defaults_are_the_openai_sdk_s() -> None:
    assert (DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_KEEPALIVE_CONNECTIONS) == (1000, 100)


@pytest.mark.parametrize("provider", every_provider(), ids=lambda provider: type(provider).__module__)
def test_every_provider_s_default_clients_hold_a_thousand_connections(provider: Provider) -> None:
    assert provider.limits.max_connections == 1000
    assert provider.limits.max_keepalive_connections == 100
    assert pool_sizes(provider.http_client) == (1000, 100)
    provider.close()


@pytest.mark.anyio
async def test_the_async_default_client_too() -> None:
    provider = openai.Provider(api_key="k")
    assert pool_sizes(provider.async_http_client) == (1000, 100)
    await provider.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "provider",
    every_provider(max_connections=8, max_keepalive_connections=3),
    ids=lambda provider: type(provider).__module__,
)
async def test_every_provider_takes_its_own_pool_sizes(provider: Provider) -> None:
    assert pool_sizes(provider.http_client) == (8, 3)
    assert pool_sizes(provider.async_http_client) == (8, 3)
    await provider.aclose()


def test_one_size_alone_keeps_the_other_default() -> None:
    assert pool_sizes(openai.Provider(api_key="k", max_connections=2000).http_client) == (2000, 100)
    assert pool_sizes(openai.Provider(api_key="k", max_keepalive_connections=10).http_client) == (1000, 10)


def test_no_more_kept_alive_than_connections() -> None:
    assert pool_sizes(openai.Provider(api_key="k", max_connections=5).http_client) == (5, 5)


def test_a_client_passed_in_keeps_its_own_limits() -> None:
    with httpx2.Client() as client:
        provider = openai.Provider(api_key="k", http_client=client, max_connections=5)
        assert provider.http_client is client
        assert pool_sizes(client) == (100, 20)  # httpx2's own defaults


@pytest.mark.parametrize(
    "options",
    [
        {"max_connections": 0},
        {"max_connections": -1},
        {"max_connections": 1.5},
        {"max_connections": True},
        {"max_keepalive_connections": -1},
        {"max_keepalive_connections": "10"},
    ],
)
def test_a_bad_pool_size_is_a_user_error(options: dict[str, Any]) -> None:
    with pytest.raises(UserError, match=next(iter(options))):
        openai.Provider(api_key="k", **options)


@pytest.mark.anyio
async def test_the_default_client_holds_more_than_a_hundred_requests_in_flight() -> None:
    # Each answer waits a second before its status line, so every request is in flight at
    # once, unless the pool makes those beyond its size wait for a free connection.
    with FaultServer(idle_timeout=60.0) as server:
        server.script([slow_drip(delay_s=0.0, chunks=1, initial_delay_s=1.0)] * IN_FLIGHT)
        provider = openaicompat.Provider(base_url=server.url + "/v1")
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=0))
        texts: list[str] = []

        async def one() -> None:
            texts.append((await agent.generate_async("hi")).text)

        try:
            async with anyio.create_task_group() as group:
                for _ in range(IN_FLIGHT):
                    group.start_soon(one)
        finally:
            await provider.aclose()
        assert texts == [DEFAULT_TEXT] * IN_FLIGHT
        assert server.max_open_connections > 100
        assert server.errors == []


EXHAUSTED = textwrap.dedent(
    """
    import asyncio, json, resource, socket

    from reverie import Agent, RetryPolicy, TooManyOpenFilesError
    from reverie.providers import openaicompat
    from tests.faults import FaultServer

    def exhaust():
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        held = []
        try:
            while True:
                held.append(socket.socket())
        except OSError:
            return held

    def outcome(run):
        try:
            run()
        except TooManyOpenFilesError as error:
            return {"type": type(error).__name__, "errno": error.errno,
                    "limit": error.open_files_limit, "message": str(error)}
        except Exception as error:
            return {"type": type(error).__name__, "message": str(error)}
        return {"type": None}

    # A real program runs out mid-way: every module a request needs is imported by then.
    with FaultServer() as server:
        warm = openaicompat.Provider(base_url=server.url + "/v1")
        Agent(warm.language_model("m"), on_retry=lambda part: None).generate("hi")  # with a callback

        async def warm_async():
            await Agent(warm.language_model("m")).generate_async("hi")
            await warm.aclose()

        asyncio.run(warm_async())

    listener = socket.create_server(("127.0.0.1", 0))  # never reached: no socket is left
    provider = openaicompat.Provider(base_url=f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=3, initial_delay=0.0))
    retries = []
    agent.callbacks.on_retry = retries.append
    provider.http_client  # the clients exist already, with no connection yet

    held = exhaust()
    sync = outcome(lambda: agent.generate("hi"))
    del held[:]

    async def run_async():
        provider.async_http_client
        held = exhaust()
        try:
            await agent.generate_async("hi")
        finally:
            del held[:]

    result = {"sync": sync, "async": outcome(lambda: asyncio.run(run_async())), "retries": len(retries)}
    print(json.dumps(result))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is a Unix limit")
def test_a_real_process_out_of_file_descriptors_gets_the_clear_error() -> None:
    done = subprocess.run(
        [sys.executable, "-c", EXHAUSTED], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    for colour in ("sync", "async"):
        outcome = result[colour]
        assert outcome["type"] == "TooManyOpenFilesError", outcome
        assert outcome["errno"] == 24
        assert outcome["limit"] == 256
        assert "limit of 256 open files (EMFILE)" in outcome["message"]
        assert "ulimit -n" in outcome["message"]
    assert result["retries"] == 0

"""A provider's default clients: one per provider under threads, one per event loop, fresh after fork.

Threads and loops are bounded (a barrier with a timeout, joins with timeouts) and nothing
asserts on durations. The fork test forks for real (Linux) and the child reports through a
pipe; the parent waits for it with a bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import sys
import threading
import time
import warnings
from typing import Any

import httpx2
import pytest

from reverie import Agent
from reverie._provider import Provider
from reverie.providers import openaicompat
from tests.faults import FaultServer

THREADS = 16
BOUND = 30.0  # seconds any wait may take before the test fails instead of hanging


def make_provider(base_url: str = "https://compat.example/v1") -> Provider:
    return openaicompat.Provider(api_key="sk-lifecycle-123", base_url=base_url)


class SlowClient(httpx2.Client):
    """A client whose construction yields the thread, so racing threads really race."""

    made = 0

    def __init__(self, **kwargs: Any) -> None:
        type(self).made += 1
        time.sleep(0.01)
        super().__init__(**kwargs)


def test_sixteen_threads_share_one_default_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(httpx2, "Client", SlowClient)
    SlowClient.made = 0
    provider = make_provider()
    barrier = threading.Barrier(THREADS, timeout=BOUND)
    seen: list[httpx2.Client] = []

    def use() -> None:
        barrier.wait()
        seen.append(provider.http_client)

    threads = [threading.Thread(target=use) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND)
    assert len(seen) == THREADS
    assert SlowClient.made == 1
    assert all(client is seen[0] for client in seen)
    provider.close()
    assert seen[0].is_closed
    assert provider.http_client is not seen[0]  # a closed provider makes a new one when used again
    provider.close()


def test_a_second_asyncio_run_gets_a_new_client_and_the_old_one_is_closed() -> None:
    with FaultServer() as server:
        provider = make_provider(server.url + "/v1")
        agent = Agent(provider.language_model("m"))
        clients: list[httpx2.AsyncClient] = []

        async def ask() -> str:
            clients.append(provider.async_http_client)
            result = await agent.generate_async("hi")
            assert provider.async_http_client is clients[-1]  # one client for the whole loop
            return result.text

        first = asyncio.run(ask())
        second = asyncio.run(ask())  # used to raise RuntimeError('Event loop is closed')
        assert first and second
        assert clients[0] is not clients[1]
        assert clients[0].is_closed  # closed as its loop ended
        asyncio.run(provider.aclose())
        assert clients[1].is_closed


def test_an_async_client_passed_in_is_the_callers_on_every_loop() -> None:
    client = httpx2.AsyncClient()
    provider = openaicompat.Provider(api_key="k", base_url="https://x.example/v1", async_http_client=client)

    async def get() -> httpx2.AsyncClient:
        return provider.async_http_client

    assert asyncio.run(get()) is client and asyncio.run(get()) is client
    asyncio.run(provider.aclose())
    assert not client.is_closed
    asyncio.run(client.aclose())


@pytest.mark.skipif(sys.platform != "linux", reason="os.fork is tested on Linux")
def test_a_forked_child_starts_with_fresh_clients() -> None:
    with FaultServer() as server:
        provider = make_provider(server.url + "/v1")
        agent = Agent(provider.language_model("m"))
        assert agent.generate("hi").text  # the parent now pools a keep-alive connection
        parent_client = provider.http_client
        read_end, write_end = os.pipe()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads running
            pid = os.fork()
        if pid == 0:  # the child: report, then leave without running any cleanup
            report: dict[str, Any] = {}
            try:
                report["fresh"] = provider.http_client is not parent_client
                report["text"] = agent.generate("hi from the child").text
            except BaseException as error:
                report["error"] = repr(error)
            os.write(write_end, json.dumps(report).encode())
            os._exit(0)
        os.close(write_end)
        try:
            ready, _, _ = select.select([read_end], [], [], BOUND)
            assert ready, "the child did not report in time"
            report = json.loads(os.read(read_end, 65536) or b"{}")
        finally:
            os.close(read_end)
            os.waitpid(pid, 0)
        assert report.get("fresh") is True, report
        assert report.get("text"), report
        assert provider.http_client is parent_client
        assert agent.generate("hi again").text  # the parent's connection was left alone
        provider.close()

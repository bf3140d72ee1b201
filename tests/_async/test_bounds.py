"""Time and size bounds: a stream's total size, request timeouts, run deadlines, tool timeouts.

Nothing here waits on a wall clock: servers are scripted ``httpx2.MockTransport`` handlers,
and time is read from injected clocks.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    DeadlineExceededError,
    InvalidResponseError,
    ProviderError,
    RetryPolicy,
    UserError,
)
from reverie.providers import openaicompat
from reverie.testing import MockModel
from tests.fake_clock import FakeClock


def chat_event(content: str) -> bytes:
    body = {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": content}}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class GzipStreamServer:
    """Answers with one gzip-compressed event stream of many small text events."""

    def __init__(self, events: int) -> None:
        self.body = gzip.compress(b"".join(chat_event("a") for _ in range(events)), compresslevel=9)
        self.count = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.count += 1
        headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
        return httpx2.Response(200, headers=headers, content=self.body)


@pytest.mark.anyio
async def test_a_stream_of_small_events_is_bounded_by_its_total_decoded_size() -> None:
    server = GzipStreamServer(events=20_000)
    limit = 100_000
    assert len(server.body) < limit  # compressed, the body is well under the limit
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    provider = openaicompat.Provider(
        base_url="http://test/v1", api_key="k", async_http_client=client, max_response_bytes=limit
    )
    agent = Agent(provider.language_model("m"))
    stream = agent.stream_async("hi")
    with pytest.raises(InvalidResponseError, match=f"stream exceeds the limit of {limit} bytes") as caught:
        async for _ in stream:
            pass
    assert server.count == 1  # not retried: the same answer would come again
    # The text streamed before the limit is kept on the error.
    assert caught.value.partial_text
    assert set(caught.value.partial_text) == {"a"}
    assert len(caught.value.partial_text) < 20_000


# --- provider timeouts ----------------------------------------------------------------------


def test_default_clients_use_the_provider_timeout() -> None:
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k", timeout=7.5)
    assert provider.http_client.timeout == httpx2.Timeout(7.5)
    provider.close()


@pytest.mark.anyio
async def test_default_async_client_uses_the_provider_timeout() -> None:
    timeout = httpx2.Timeout(30.0, connect=2.0)
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k", timeout=timeout)
    assert provider.async_http_client.timeout == timeout
    await provider.aclose()


def test_the_default_timeout_is_connect_5_read_600_as_the_openai_sdk() -> None:
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k")
    assert provider.http_client.timeout == httpx2.Timeout(600.0, connect=5.0)
    provider.close()


@pytest.mark.parametrize("module", ["openai", "google", "anthropic", "azure", "bedrock", "vertex"])
def test_every_provider_takes_a_timeout(module: str) -> None:
    import importlib
    import inspect

    provider_type = importlib.import_module(f"reverie.providers.{module}").Provider
    # Named or passed on through **settings to the base class.
    parameters = inspect.signature(provider_type.__init__).parameters
    assert "timeout" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


# --- request timeouts and the run deadline --------------------------------------------------


class DripServer:
    """The first answer streams one event, then drips a byte per (fake) second, at most 1,000."""

    def __init__(self, clock: FakeClock, *, then: bytes | None = None) -> None:
        self.clock = clock
        self.then = then
        self.count = 0
        self.read_timeouts: list[float | None] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.count += 1
        self.read_timeouts.append(request.extensions["timeout"]["read"])
        headers = {"content-type": "text/event-stream"}
        if self.count > 1 and self.then is not None:
            return httpx2.Response(200, headers=headers, content=self.then)
        return httpx2.Response(200, headers=headers, content=self.drip())

    async def drip(self) -> AsyncIterator[bytes]:
        yield chat_event("hello")
        for _ in range(1000):
            self.clock.now += 1.0
            yield b" "


def finished_stream(text: str) -> bytes:
    body: dict[str, Any] = {
        "id": "c2",
        "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
    }
    return chat_event(text) + b"data: " + json.dumps(body).encode() + b"\n\ndata: [DONE]\n\n"


def drip_agent(server: DripServer, **settings: Any) -> Agent:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server), timeout=600.0)
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k", async_http_client=client)
    return Agent(provider.language_model("m"), **settings)


@pytest.mark.anyio
async def test_a_dripping_stream_ends_at_the_request_timeout_with_its_partial_text(clock: FakeClock) -> None:
    server = DripServer(clock)
    agent = drip_agent(server, retry=RetryPolicy(max_retries=0), timeout=10.0)
    with pytest.raises(ProviderError, match="timed out") as caught:
        async for _ in agent.stream_async("hi"):
            pass
    assert caught.value.is_retryable
    assert "10 s" in str(caught.value)
    assert caught.value.partial_text == "hello"
    assert clock.now - 1000.0 <= 11.0  # stopped at the timeout, not after 1,000 drips
    # A server that sends nothing ends in time too: no read waits longer than the timeout.
    assert server.read_timeouts == [10.0]


@pytest.mark.anyio
async def test_a_timed_out_request_is_retried(clock: FakeClock, sleeps: list[float]) -> None:
    server = DripServer(clock, then=finished_stream("done"))
    agent = drip_agent(server, retry=RetryPolicy(max_retries=1, initial_delay=1.0), timeout=10.0)
    result = await agent.stream_async("hi").result()
    assert result.text == "done"
    assert server.count == 2
    assert sleeps == [1.0]


@pytest.mark.anyio
async def test_a_call_timeout_overrides_the_agent_default(clock: FakeClock) -> None:
    server = DripServer(clock)
    agent = drip_agent(server, retry=RetryPolicy(max_retries=0), timeout=100.0)
    with pytest.raises(ProviderError, match="timeout of 3 s"):
        await agent.generate_async("hi", timeout=3.0)
    assert clock.now - 1000.0 <= 4.0


class SlowFailingServer:
    """Every answer is a 429 that took ``seconds`` of (fake) time."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        self.clock = clock
        self.seconds = seconds
        self.count = 0
        self.read_timeouts: list[float | None] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.count += 1
        self.read_timeouts.append(request.extensions["timeout"]["read"])
        self.clock.now += self.seconds
        return httpx2.Response(429, json={"error": {"message": "slow down"}})


@pytest.mark.anyio
async def test_the_deadline_ends_a_run_of_retries(clock: FakeClock, sleeps: list[float]) -> None:
    server = SlowFailingServer(clock, seconds=30.0)
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server), timeout=600.0)
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k", async_http_client=client)
    agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=10, initial_delay=5.0))
    with pytest.raises(DeadlineExceededError, match="deadline of 60 s") as caught:
        await agent.generate_async("hi", deadline=60.0)
    # The recorded wait does not move the fake clock: a 429 at 30 s, a wait of 5 s; a 429 at
    # 60 s, and a wait of 5 s would end past the deadline: no more attempts.
    assert server.count == 2
    assert sleeps == [5.0]
    assert len(caught.value.errors) == 2
    assert "slow down" in str(caught.value)
    # Each request may only use what the deadline leaves.
    assert server.read_timeouts == [60.0, 30.0]


@pytest.mark.anyio
async def test_a_retry_whose_wait_outlasts_the_deadline_is_not_attempted(
    clock: FakeClock, sleeps: list[float]
) -> None:
    server = SlowFailingServer(clock, seconds=1.0)
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k", async_http_client=client)
    agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=3, initial_delay=30.0))
    with pytest.raises(DeadlineExceededError):
        await agent.generate_async("hi", deadline=20.0)
    assert server.count == 1
    assert sleeps == []


@pytest.mark.parametrize("setting", ["timeout", "deadline"])
@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_a_timeout_or_deadline_must_be_positive(setting: str, value: float) -> None:
    agent = Agent(MockModel([]))
    with pytest.raises(UserError, match=setting):
        if setting == "timeout":
            agent.stream("hi", timeout=value)
        else:
            agent.stream("hi", deadline=value)

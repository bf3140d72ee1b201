"""A shared ``RateLimiter`` through the public API: waits, wait parts, headers, 429s, deadlines.

This is the async source; ``tests/_sync/test_rate_limit.py`` is generated from it. Servers are
``httpx2.MockTransport`` handlers and time is a fake clock that the limiter's sleeps move, so
a wait of a minute takes no time. The loopback acceptance tests (real time, threads and tasks
at once) are in ``tests/rate_limit``.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    Call,
    DeadlineExceededError,
    Discarded,
    FallbackModel,
    Message,
    ProviderError,
    RateLimiter,
    RateLimitWaitPart,
    RetryPolicy,
    _rate_limiter,
)
from reverie.providers import openaicompat
from tests.fake_clock import FakeClock


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> list[float]:
    """Each wait the limiter sleeps, recorded; the fake clock moves by it instead."""
    recorded: list[float] = []

    async def wait(seconds: float) -> None:
        recorded.append(seconds)
        clock.now += seconds

    monkeypatch.setattr(_rate_limiter, "async_sleep", wait)
    return recorded


def completion(usage: int, content: str = "ok") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": usage - 1, "completion_tokens": 1, "total_tokens": usage},
    }


def streamed(usage: int, content: str = "ok") -> bytes:
    chunks = [
        {"id": "c", "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]},
        {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            "id": "c",
            "choices": [],
            "usage": {"prompt_tokens": usage - 1, "completion_tokens": 1, "total_tokens": usage},
        },
    ]
    return (
        b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks) + b"data: [DONE]\n\n"
    )


class Server:
    """A chat-completions server; ``headers(n)`` gives the rate-limit headers of answer ``n``."""

    def __init__(
        self,
        *,
        headers: Callable[[int], dict[str, str]] | None = None,
        status: Callable[[int], int] | None = None,
        usage: int = 2,
        content: str = "ok",
    ) -> None:
        self.headers = headers or (lambda _: {})
        self.status = status or (lambda _: 200)
        self.usage = usage
        self.content = content
        self.bodies: list[bytes] = []
        self.read_timeouts: list[float | None] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        number = len(self.bodies)
        self.bodies.append(request.content)
        self.read_timeouts.append(request.extensions["timeout"]["read"])
        headers = self.headers(number)
        status = self.status(number)
        if status != 200:
            return httpx2.Response(status, headers=headers, json={"error": {"message": "slow down"}})
        if json.loads(request.content).get("stream"):
            headers = {**headers, "content-type": "text/event-stream"}
            return httpx2.Response(200, headers=headers, content=streamed(self.usage, self.content))
        return httpx2.Response(200, headers=headers, json=completion(self.usage, self.content))


def provider(server: Server, limiter: RateLimiter) -> openaicompat.Provider:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server), timeout=600.0)
    return openaicompat.Provider(
        base_url="http://test/v1", api_key="k", async_http_client=client, rate_limiter=limiter
    )


CALL = Call(prompt=[Message.user("hi")])


async def stream_parts(model: Any, call: Call = CALL) -> list[Any]:
    return [part async for part in model.stream_async(call)]


@pytest.mark.anyio
async def test_requests_wait_for_the_bucket_and_a_long_wait_is_a_part(
    waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reverie")
    model = provider(Server(), RateLimiter(requests_per_minute=30)).language_model("m")  # one per 2 s
    first = await stream_parts(model)
    second = await stream_parts(model)
    assert first[0].type == "stream_start"
    assert second[0] == RateLimitWaitPart(seconds=2.0)
    assert second[1].type == "stream_start"
    assert [part.type for part in second[1:]] == [part.type for part in first]
    await model.generate_async(CALL)
    assert waits == [2.0, 2.0]
    assert "rate limit: waiting 2.0 s before POST http://test/v1/chat/completions" in caplog.text


@pytest.mark.anyio
async def test_a_wait_of_a_second_or_less_is_not_shown(waits: list[float]) -> None:
    model = provider(Server(), RateLimiter(requests_per_minute=60)).language_model("m")
    await stream_parts(model)
    parts = await stream_parts(model)
    assert waits == [1.0]
    assert all(part.type != "rate_limit_wait" for part in parts)


@pytest.mark.anyio
async def test_every_model_of_the_provider_shares_the_limiter(waits: list[float]) -> None:
    limiter = RateLimiter(requests_per_minute=6)  # one per 10 s
    shared = provider(Server(), limiter)
    await shared.language_model("a").generate_async(CALL)
    await shared.language_model("b").generate_async(CALL)
    await provider(Server(), limiter).language_model("c").generate_async(CALL)  # another provider
    assert waits == [10.0, 10.0]


@pytest.mark.anyio
async def test_an_agent_stream_shows_the_wait_and_a_retry_does_not_discard_it(waits: list[float]) -> None:
    server = Server(status=lambda number: 500 if number == 1 else 200)
    limiter = RateLimiter(requests_per_minute=20)  # one per 3 s
    agent = Agent(
        provider(server, limiter).language_model("m"), retry=RetryPolicy(max_retries=1, initial_delay=0)
    )
    await agent.generate_async("first")
    stream = agent.stream_async("second")
    parts = [part async for part in stream]
    kinds = [part.type for part in parts]
    assert kinds[:3] == ["step_start", "rate_limit_wait", "retry"]
    assert parts[1].seconds == 3.0
    assert parts[2].discarded == Discarded()
    # The retry waits its turn again (the 500 used one), then the answer streams.
    assert kinds[3] == "rate_limit_wait"
    assert (await stream.result()).text == "ok"
    assert waits == [3.0, 3.0]


OPENAI = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "5s"}
GROQ = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "4.5s"}


def openrouter(_: int) -> dict[str, str]:
    return {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int((time.time() + 5) * 1000))}


def anthropic(_: int) -> dict[str, str]:
    reset = datetime.fromtimestamp(time.time() + 5, UTC).isoformat(timespec="microseconds")
    return {"anthropic-ratelimit-requests-remaining": "0", "anthropic-ratelimit-requests-reset": reset}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("headers", "seconds"),
    [(lambda _: OPENAI, 5.0), (lambda _: GROQ, 4.5), (openrouter, 5.0), (anthropic, 5.0)],
    ids=["openai", "groq-tokens", "openrouter", "anthropic"],
)
async def test_the_providers_headers_hold_the_next_request_until_the_reset(
    waits: list[float], headers: Callable[[int], dict[str, str]], seconds: float
) -> None:
    server = Server(headers=lambda number: headers(number) if number == 0 else {})
    model = provider(server, RateLimiter()).language_model("m")  # no limit of its own
    await model.generate_async(CALL)
    parts = await stream_parts(model)
    assert len(waits) == 1
    assert waits[0] == pytest.approx(seconds, abs=0.05)
    assert parts[0].type == "rate_limit_wait"
    await model.generate_async(CALL)  # the window is over: no wait
    assert len(waits) == 1


@pytest.mark.anyio
async def test_a_429_pauses_every_caller_until_its_retry_after(waits: list[float]) -> None:
    retry_after = {"retry-after": email.utils.formatdate(time.time() + 30, usegmt=True)}
    server = Server(
        status=lambda number: 429 if number == 0 else 200, headers=lambda n: retry_after if n == 0 else {}
    )
    limiter = RateLimiter()
    first = provider(server, limiter).language_model("m")
    other = provider(Server(), limiter).language_model("other")
    with pytest.raises(ProviderError) as caught:
        await first.generate_async(CALL)
    assert caught.value.status_code == 429
    await other.generate_async(CALL)
    assert len(waits) == 1
    assert waits[0] == pytest.approx(30.0, abs=1.1)  # an HTTP date has whole seconds


@pytest.mark.anyio
async def test_reported_usage_corrects_the_token_estimate(waits: list[float]) -> None:
    server = Server(usage=1000)
    model = provider(server, RateLimiter(tokens_per_minute=6000)).language_model("m")  # 100 a second
    await model.generate_async(CALL)
    await model.generate_async(CALL)
    # The first request was charged its estimate, then the 1,000 tokens it used: ten seconds
    # of refill, less the one second the bucket holds, plus the second request's estimate.
    estimate = -(-len(server.bodies[1]) // 4)
    assert waits == [pytest.approx(9.0 + estimate / 100)]


@pytest.mark.anyio
@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
async def test_a_wait_that_would_end_after_the_deadline_fails_at_once(
    waits: list[float], streaming: bool
) -> None:
    server = Server()
    agent = Agent(provider(server, RateLimiter(requests_per_minute=1)).language_model("m"))
    await agent.generate_async("first")
    with pytest.raises(DeadlineExceededError, match="deadline of 10 s") as caught:
        if streaming:
            async for _ in agent.stream_async("second", deadline=10.0):
                pass
        else:
            await agent.generate_async("second", deadline=10.0)
    assert waits == []
    assert len(server.bodies) == 1
    assert "rate-limit wait of 60 s" in str(caught.value.__cause__)
    # The place it gave up goes back: the next caller waits the minute, not two.
    await agent.generate_async("third")
    assert waits == [60.0]


@pytest.mark.anyio
async def test_after_a_wait_the_request_gets_what_the_deadline_leaves(waits: list[float]) -> None:
    server = Server()
    agent = Agent(provider(server, RateLimiter(requests_per_minute=6)).language_model("m"))
    await agent.generate_async("first")
    await agent.generate_async("second", deadline=30.0, timeout=25.0)
    assert waits == [10.0]
    assert server.read_timeouts[1] == pytest.approx(20.0)


@pytest.mark.anyio
async def test_a_slot_is_held_until_the_stream_is_closed(clock: FakeClock) -> None:
    server = Server()
    limiter = RateLimiter(max_concurrency=1)
    model = provider(server, limiter).language_model("m")
    agent = Agent(model)
    held = model.stream_async(CALL)
    assert (await held.__anext__()).type == "stream_start"
    # The slot is taken: a run with a deadline waits for it until the deadline, then fails.
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError) as caught:
        await agent.generate_async("second", deadline=0.2)
    assert 0.15 <= time.monotonic() - started < 2.0
    assert "free slot" in str(caught.value.__cause__)
    await held.aclose()  # type: ignore[attr-defined]
    # Closing the stream gave the slot back: the next run goes at once.
    assert (await agent.generate_async("third", deadline=0.2)).text == "ok"
    assert len(server.bodies) == 2


@pytest.mark.anyio
async def test_a_failed_request_gives_its_slot_back(clock: FakeClock) -> None:
    server = Server(status=lambda number: 500 if number < 2 else 200)
    model = provider(server, RateLimiter(max_concurrency=1)).language_model("m")
    with pytest.raises(ProviderError):
        await stream_parts(model)
    with pytest.raises(ProviderError):
        await model.generate_async(CALL)
    assert (await model.generate_async(CALL)).finish_reason == "stop"
    assert len(server.bodies) == 3


# --- objects --------------------------------------------------------------------------------------

PERSON = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
ALICE = json.dumps({"name": "Alice"})


@pytest.mark.anyio
async def test_objects_wait_their_turn_and_a_streamed_object_shows_the_wait(waits: list[float]) -> None:
    server = Server(content=ALICE)
    model = provider(server, RateLimiter(requests_per_minute=30)).language_model("m")  # one per 2 s
    assert (await model.generate_object_async("Alice", schema=PERSON, mode="json")).object == {
        "name": "Alice"
    }
    stream = model.stream_object_async("Alice", schema=PERSON, mode="json")
    parts = [part async for part in stream]
    assert parts[0] == RateLimitWaitPart(seconds=2.0)
    assert [part.type for part in parts[1:]] == ["text_delta", "object", "finish"]
    assert (await stream.result()).object == {"name": "Alice"}
    assert (await model.generate_object_async("Alice", schema=PERSON, mode="json")).object == {
        "name": "Alice"
    }
    assert waits == [2.0, 2.0]
    assert len(server.bodies) == 3


@pytest.mark.anyio
@pytest.mark.parametrize("streaming", [False, True], ids=["generate_object", "stream_object"])
async def test_a_fallback_object_waits_for_each_models_turn(waits: list[float], streaming: bool) -> None:
    server = Server(status=lambda number: 503 if number == 0 else 200, content=ALICE)
    limited = provider(server, RateLimiter(requests_per_minute=20))  # one per 3 s
    model = FallbackModel(limited.language_model("primary"), limited.language_model("backup"))
    if streaming:
        stream = model.stream_object_async("Alice", schema=PERSON, mode="json")
        parts = [part async for part in stream]
        result = await stream.result()
        # The backup's request waited its turn (the primary's used one) and said so.
        assert [part.type for part in parts] == ["retry", "rate_limit_wait", "text_delta", "object", "finish"]
        assert parts[1] == RateLimitWaitPart(seconds=3.0)
    else:
        result = await model.generate_object_async("Alice", schema=PERSON, mode="json")
    assert result.object == {"name": "Alice"}
    assert waits == [3.0]
    assert [json.loads(body)["model"] for body in server.bodies] == ["primary", "backup"]

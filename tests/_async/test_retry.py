"""Retries through the public API: an OpenRouter provider on a scripted ``httpx2.MockTransport``.

Nothing really sleeps: the ``sleeps`` fixture replaces the runner's sleep and records each
delay, so the tests assert exactly what the policy and the server's headers asked for.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from reverie import (
    Agent,
    AgentResult,
    AgentStreamPart,
    Discarded,
    InvalidResponseError,
    ProviderError,
    RetryError,
    RetryPart,
    RetryPolicy,
    TextDeltaPart,
)
from reverie.providers import openrouter
from tests.wire_answers import chat_completion

IS_SYNC = Path(__file__).parent.name == "_sync"
URL = "https://openrouter.ai/api/v1/chat/completions"
MODES = ["generate", "stream"]

ScriptItem = httpx2.Response | BaseException | str | Callable[[httpx2.Request], httpx2.Response]


# --- a scripted OpenRouter ----------------------------------------------------------------


def completion(text: str) -> dict[str, Any]:
    return chat_completion(text, response_id="gen-1", model="test/model", usage=(3, 2))


def chunk(text: str | None = None, finish_reason: str | None = None) -> dict[str, Any]:
    delta = {"content": text} if text is not None else {}
    return {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "model": "test/model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def sse(*events: dict[str, Any] | str) -> bytes:
    return b"".join(
        f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode() for event in events
    )


def text_stream(text: str) -> bytes:
    return sse(chunk(text), chunk(finish_reason="stop"), "[DONE]")


def event_stream(content: bytes | AsyncIterator[bytes]) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content)


def error_response(status: int, message: str = "upstream trouble", **headers: str) -> httpx2.Response:
    return httpx2.Response(status, headers=headers, json={"error": {"message": message, "code": status}})


class Server:
    """Answers each request with the next script item; a ``str`` is a text answer in the requested mode."""

    def __init__(self, *script: ScriptItem) -> None:
        self.script = list(script)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        assert len(self.requests) <= len(self.script), f"unexpected request #{len(self.requests)}"
        item = self.script[len(self.requests) - 1]
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, str):
            if json.loads(request.content).get("stream"):
                return event_stream(text_stream(item))
            return httpx2.Response(200, json=completion(item))
        if callable(item):
            return item(request)
        return item

    @property
    def count(self) -> int:
        return len(self.requests)


def make_agent(server: Server, retry: RetryPolicy | None = None, **options: Any) -> Agent:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    provider = openrouter.Provider(api_key="sk-test", async_http_client=client)
    return Agent(provider.language_model("test/model"), retry=retry, **options)


async def run(agent: Agent, mode: str, parts: list[AgentStreamPart] | None = None) -> AgentResult:
    """Run ``agent`` in ``mode``; streamed parts are appended to ``parts`` as they arrive."""
    if mode == "generate":
        return await agent.generate_async("hi")
    stream = agent.stream_async("hi")
    async for part in stream:
        if parts is not None:
            parts.append(part)
    return await stream.result()


def visible_text(parts: list[AgentStreamPart]) -> str:
    """The text a consumer shows when it forgets what every ``retry`` part discards.

    A retry discards the last ``discarded.parts`` parts before it; their text must be the
    ``discarded.text`` the retry part reports.
    """
    kept: list[AgentStreamPart] = []
    for part in parts:
        if isinstance(part, RetryPart):
            forgotten = kept[len(kept) - part.discarded.parts :]
            del kept[len(kept) - part.discarded.parts :]
            assert len(forgotten) == part.discarded.parts
            assert all(item.type not in ("step_start", "retry") for item in forgotten)
            assert "".join(p.delta for p in forgotten if isinstance(p, TextDeltaPart)) == part.discarded.text
        else:
            kept.append(part)
    return "".join(part.delta for part in kept if isinstance(part, TextDeltaPart))


# --- which failures are retried ---------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [429, 408, 409, 500, 502, 503])
async def test_retryable_status_is_retried_then_succeeds(status: int, mode: str, sleeps: list[float]) -> None:
    server = Server(error_response(status), error_response(status), "recovered")
    result = await run(make_agent(server), mode)
    assert result.text == "recovered"
    assert server.count == 3
    assert sleeps == [5.0, 10.0]  # the default policy's backoff


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
async def test_other_client_errors_are_not_retried(status: int, mode: str, sleeps: list[float]) -> None:
    body = {
        "error": {
            "message": "Provider returned error",
            "code": status,
            "metadata": {"raw": f"upstream says no ({status})", "provider_name": "Groq"},
        }
    }
    server = Server(httpx2.Response(status, headers={"X-Request-ID": "req-7"}, json=body))
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server), mode)
    error = info.value
    assert type(error) is ProviderError  # the original error, not a RetryError
    assert server.count == 1
    assert sleeps == []
    assert error.status_code == status
    assert error.url == URL
    assert error.response_headers["x-request-id"] == "req-7"
    assert all(name == name.lower() for name in error.response_headers)
    assert json.loads(error.response_body or "") == body
    assert f"upstream says no ({status})" in error.message  # OpenRouter's error.metadata.raw
    assert f"upstream says no ({status})" in str(error)
    assert not error.is_retryable


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_connection_error_is_retried(mode: str, sleeps: list[float]) -> None:
    server = Server(httpx2.ConnectError("connection refused"), "connected")
    result = await run(make_agent(server), mode)
    assert result.text == "connected"
    assert server.count == 2
    assert sleeps == [5.0]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_x_should_retry_false_stops_a_retryable_status(mode: str, sleeps: list[float]) -> None:
    server = Server(error_response(503, **{"x-should-retry": "false"}), "never")
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server), mode)
    assert type(info.value) is ProviderError
    assert info.value.status_code == 503
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_max_retries_zero_raises_the_original_retryable_error(mode: str, sleeps: list[float]) -> None:
    server = Server(error_response(503), "never")
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server, RetryPolicy(max_retries=0)), mode)
    assert type(info.value) is ProviderError
    assert info.value.status_code == 503
    assert server.count == 1
    assert sleeps == []


# --- running out of retries -------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_exhausted_retries_raise_retry_error_with_every_attempt(mode: str, sleeps: list[float]) -> None:
    server = Server(*(error_response(503, f"overloaded #{n}") for n in range(4)))
    with pytest.raises(RetryError) as info:
        await run(make_agent(server), mode)
    error = info.value
    assert server.count == 4
    assert len(error.errors) == RetryPolicy().max_retries + 1
    assert all(isinstance(attempt, ProviderError) for attempt in error.errors)
    assert [attempt.status_code for attempt in error.errors] == [503] * 4  # type: ignore[attr-defined]
    assert [attempt.message for attempt in error.errors] == [  # type: ignore[attr-defined]
        f"overloaded #{n}" for n in range(4)
    ]
    assert error.last_error is error.errors[-1]
    assert error.__cause__ is error.errors[-1]
    assert "overloaded #3" in str(error)
    assert sleeps == [5.0, 10.0, 20.0]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_custom_policy_sets_the_attempt_count(mode: str, sleeps: list[float]) -> None:
    server = Server(*(httpx2.ConnectError("refused") for _ in range(3)))
    policy = RetryPolicy(max_retries=2, initial_delay=0.5, backoff_factor=3.0)
    with pytest.raises(RetryError) as info:
        await run(make_agent(server, policy), mode)
    assert server.count == 3
    assert len(info.value.errors) == 3
    assert all(isinstance(e, ProviderError) and e.status_code is None for e in info.value.errors)
    assert all("ConnectError" in str(e) for e in info.value.errors)
    assert sleeps == [0.5, 1.5]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_non_retryable_error_after_a_retry_ends_with_retry_error(
    mode: str, sleeps: list[float]
) -> None:
    server = Server(error_response(503, "busy"), error_response(400, "bad request"), "never")
    with pytest.raises(RetryError) as info:
        await run(make_agent(server), mode)
    assert server.count == 2
    assert [e.status_code for e in info.value.errors] == [503, 400]  # type: ignore[attr-defined]
    assert sleeps == [5.0]


@pytest.mark.anyio
@pytest.mark.real_retry_waits  # the point is that nothing is slept, so sleeping must be real
async def test_zero_initial_delay_does_not_wait() -> None:
    server = Server(error_response(500), error_response(500), "fast")
    start = time.monotonic()
    result = await make_agent(server, RetryPolicy(initial_delay=0.0)).generate_async("hi")
    assert result.text == "fast"
    assert server.count == 3
    assert time.monotonic() - start < 1.0


# --- server-requested delays --------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_seconds_is_honoured(mode: str, sleeps: list[float]) -> None:
    server = Server(error_response(429, **{"retry-after": "2"}), "ok")
    await run(make_agent(server), mode)
    assert sleeps == [2.0]
    assert server.count == 2


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_retry_after_ms_is_honoured(mode: str, sleeps: list[float]) -> None:
    server = Server(error_response(429, **{"retry-after-ms": "150", "retry-after": "9"}), "ok")
    await run(make_agent(server), mode)
    assert sleeps == [pytest.approx(0.15)]


@pytest.mark.anyio
async def test_retry_after_http_date_is_honoured(sleeps: list[float]) -> None:
    when = email.utils.formatdate(time.time() + 10, usegmt=True)
    server = Server(error_response(503, **{"retry-after": when}), "ok")
    await make_agent(server).generate_async("hi")
    assert len(sleeps) == 1
    assert 8.0 <= sleeps[0] <= 10.5  # the date has whole-second resolution


@pytest.mark.anyio
async def test_retry_after_of_a_minute_or_more_falls_back_to_backoff(sleeps: list[float]) -> None:
    server = Server(error_response(429, **{"retry-after": "120"}), "ok")
    await make_agent(server).generate_async("hi")
    assert sleeps == [5.0]


@pytest.mark.anyio
async def test_each_retry_uses_its_own_server_delay(sleeps: list[float]) -> None:
    server = Server(
        error_response(429, **{"retry-after": "1"}),
        error_response(503),
        error_response(429, **{"retry-after-ms": "300"}),
        "ok",
    )
    await make_agent(server).generate_async("hi")
    assert sleeps == [1.0, 10.0, pytest.approx(0.3)]
    assert server.count == 4


# --- retries of a stream ---------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_in_band_error_is_retried(mode: str, sleeps: list[float]) -> None:
    inband = {"error": {"message": "Upstream overloaded", "code": 502}}
    stream = event_stream(sse(chunk("Hal"), inband))
    first = stream if mode == "stream" else httpx2.Response(200, json=inband)
    server = Server(first, "Hello")
    parts: list[AgentStreamPart] = []
    result = await run(make_agent(server), mode, parts)
    assert result.text == "Hello"
    assert server.count == 2
    assert sleeps == [5.0]
    if mode == "stream":
        (retry,) = [part for part in parts if isinstance(part, RetryPart)]
        assert isinstance(retry.error, ProviderError)
        assert "Upstream overloaded" in str(retry.error)
        assert retry.discarded == Discarded(parts=3, text="Hal")  # stream_start, text_start, "Hal"
        assert visible_text(parts) == "Hello"


@pytest.mark.anyio
async def test_in_band_invalid_request_is_not_retried(sleeps: list[float]) -> None:
    inband = {"error": {"message": "context too long", "code": 400}}
    server = Server(event_stream(sse(inband)), "never")
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server), "stream")
    assert info.value.status_code == 400
    assert "context too long" in str(info.value)
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_stream_without_finish_is_retried(sleeps: list[float]) -> None:
    events: list[dict[str, Any] | str] = [chunk("Hel"), chunk("lo")]
    server = Server(event_stream(sse(*events)), "Hello again")
    parts: list[AgentStreamPart] = []
    result = await run(make_agent(server), "stream", parts)
    assert server.count == 2
    assert sleeps == [5.0]
    (retry,) = [part for part in parts if isinstance(part, RetryPart)]
    assert "without" in str(retry.error) or "before the model finished" in str(retry.error)
    assert retry.discarded.text == "Hello"
    assert retry.discarded.parts == 4  # stream_start, text_start, "Hel", "lo"
    assert result.text == "Hello again"
    assert visible_text(parts) == "Hello again"


@pytest.mark.anyio
async def test_stream_ended_by_done_without_finish_is_complete(sleeps: list[float]) -> None:
    # [DONE] is the protocol's end of a complete stream, finish reason or not.
    server = Server(event_stream(sse(chunk("Hel"), chunk("lo"), "[DONE]")), "never")
    parts: list[AgentStreamPart] = []
    result = await run(make_agent(server), "stream", parts)
    assert server.count == 1
    assert sleeps == []
    assert not [part for part in parts if isinstance(part, RetryPart)]
    assert result.text == "Hello"
    assert result.steps[-1].finish_reason == "unknown"


@pytest.mark.anyio
async def test_incomplete_stream_exhausts_into_retry_error(sleeps: list[float]) -> None:
    server = Server(*(event_stream(sse(chunk(f"try {n}"))) for n in range(4)))
    with pytest.raises(RetryError) as info:
        await run(make_agent(server), "stream")
    assert server.count == 4
    assert len(info.value.errors) == 4
    assert all(isinstance(e, ProviderError) and e.is_retryable for e in info.value.errors)
    assert info.value.partial_text == "try 3"  # the last attempt's text


async def cut_stream(*texts: str) -> AsyncIterator[bytes]:
    """Text chunks, then half an event, then a broken connection."""
    for text in texts:
        yield sse(chunk(text))
    yield b'data: {"choices": [{"index": 0, "del'
    raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")


@pytest.mark.anyio
async def test_stream_cut_mid_event_without_retries_keeps_the_partial_text(sleeps: list[float]) -> None:
    server = Server(lambda request: event_stream(cut_stream("Hel", "lo")))
    parts: list[AgentStreamPart] = []
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server, RetryPolicy(max_retries=0)), "stream", parts)
    error = info.value
    assert type(error) is ProviderError
    assert "RemoteProtocolError" in str(error)
    assert isinstance(error.__cause__, httpx2.RemoteProtocolError)
    assert error.is_retryable
    assert error.partial_text == "Hello"
    assert error.partial_step is not None
    assert error.partial_step.text == "Hello"
    # What the consumer already received stays intact.
    assert [part.type for part in parts] == [
        "step_start",
        "stream_start",
        "text_start",
        "text_delta",
        "text_delta",
    ]
    assert [p.delta for p in parts if isinstance(p, TextDeltaPart)] == ["Hel", "lo"]
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_stream_cut_mid_event_is_retried_with_an_explicit_retry_part(sleeps: list[float]) -> None:
    retries: list[RetryPart] = []
    server = Server(lambda request: event_stream(cut_stream("Hel", "lo")), "Hello world")
    agent = make_agent(server, on_retry=retries.append)
    parts: list[AgentStreamPart] = []
    result = await run(agent, "stream", parts)
    assert server.count == 2
    assert sleeps == [5.0]
    (retry,) = [part for part in parts if isinstance(part, RetryPart)]
    assert retries == [retry]
    assert (retry.step_number, retry.attempt, retry.delay) == (0, 1, 5.0)
    assert isinstance(retry.error, ProviderError)
    assert retry.error.partial_text == "Hello"
    # The retry part counts exactly the parts of the failed attempt, which came before it,
    # and reports their text.
    index = parts.index(retry)
    assert retry.discarded.parts == len(parts[1:index])
    assert retry.discarded == Discarded(parts=4, text="Hello")
    # The new attempt starts afresh: nothing is duplicated in the result or for the consumer.
    after = [p.delta for p in parts[index:] if isinstance(p, TextDeltaPart)]
    assert after == ["Hello world"]
    assert result.text == "Hello world"
    assert result.steps[0].text == "Hello world"
    assert len(result.steps) == 1
    assert visible_text(parts) == "Hello world"


@pytest.mark.anyio
async def test_retry_before_any_part_discards_nothing(sleeps: list[float]) -> None:
    server = Server(error_response(503), "fine")
    parts: list[AgentStreamPart] = []
    await run(make_agent(server), "stream", parts)
    (retry,) = [part for part in parts if isinstance(part, RetryPart)]
    assert retry.discarded == Discarded()
    assert not retry.discarded
    assert parts[0].type == "step_start"
    assert parts[1] is retry


# --- what is never retried ---------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_invalid_response_is_not_retried(mode: str, sleeps: list[float]) -> None:
    stream = event_stream(sse("{not json"))
    bad = stream if mode == "stream" else httpx2.Response(200, text="{not json")
    server = Server(bad, "never")
    with pytest.raises(InvalidResponseError):
        await run(make_agent(server), mode)
    assert server.count == 1
    assert sleeps == []


class Interrupted(BaseException):
    """Stands in for KeyboardInterrupt/SystemExit: not an ``Exception``, never a retry reason."""


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_base_exceptions_propagate_without_retry(mode: str, sleeps: list[float]) -> None:
    server = Server(Interrupted(), "never")
    with pytest.raises(Interrupted):
        await run(make_agent(server), mode)
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_cancellation_is_never_retried(sleeps: list[float]) -> None:
    if IS_SYNC:
        pytest.skip("cancel scopes are async-only; see test_base_exceptions_propagate_without_retry")

    async def slow() -> AsyncIterator[bytes]:
        yield sse(chunk("Hel"))
        await anyio.sleep(10)
        yield text_stream("never")

    server = Server(lambda request: event_stream(slow()), "never")
    parts: list[AgentStreamPart] = []
    start = time.monotonic()
    with anyio.move_on_after(0.2) as scope:
        async for part in make_agent(server).stream_async("hi"):
            parts.append(part)
    assert scope.cancelled_caught
    assert time.monotonic() - start < 2.0
    assert server.count == 1
    assert sleeps == []
    assert not any(isinstance(part, RetryPart) for part in parts)
    assert [p.delta for p in parts if isinstance(p, TextDeltaPart)] == ["Hel"]

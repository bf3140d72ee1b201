"""Every fault of the fault server, through the public API, in both modes (generate and stream).

A real HTTP/1.1 server (``tests.faults.FaultServer``) misbehaves at the byte level; an
``openaicompat`` provider (and, for a representative subset, ``anthropic`` and ``google``)
talks to it through a real httpx2 client. Nothing sleeps: the ``sleeps`` fixture replaces the
runner's sleep and records each requested delay, so the delays are asserted exactly.

Each case asserts the outcome a user relies on: retried and succeeded (attempts, delays,
requests the server saw), or the typed error with a message naming the cause, the attempts
and, for streams, the text already delivered. ``docs/reliability.md`` tabulates the same cases.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TypeVar

import httpx2
import pytest

from reverie import (
    Agent,
    AgentResult,
    AgentStreamPart,
    InvalidResponseError,
    ProviderError,
    RetryError,
    RetryPart,
    RetryPolicy,
    ReverieError,
    TextDeltaPart,
)
from reverie._provider import Provider
from reverie.providers import openaicompat
from tests.faults import (
    DEFAULT_TEXT,
    UTF8_TEXT,
    FaultServer,
    connection_reset,
    context_length_exceeded,
    cut_stream,
    empty_body,
    html_error,
    http_date,
    huge,
    inband_error,
    invalid_json,
    no_finish,
    rate_limited,
    slow_drip,
    split_utf8,
    status,
)

E = TypeVar("E", bound=ReverieError)
MODES = ["generate", "stream"]
POLICY = RetryPolicy(max_retries=2, initial_delay=1.0, backoff_factor=2.0)
TIMEOUT = httpx2.Timeout(5.0, read=2.0)
SLOW_TIMEOUT = httpx2.Timeout(5.0, read=0.25)
"""The read timeout of the slow-drip case: the server pauses 1 s between chunks."""
LIMIT = 1_000_000
"""``max_response_bytes`` of the huge-response case (the server sends 5 MB)."""


# --- fixtures (``fault_server`` and ``server`` are the conftest's) -------------------------


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(verify=False, timeout=TIMEOUT) as client:
        yield client


# --- helpers ------------------------------------------------------------------------------


def openai_shape(server: FaultServer, client: httpx2.AsyncClient, **options: int) -> Provider:
    return openaicompat.Provider(
        base_url=server.url + "/v1", api_key="k", async_http_client=client, **options
    )


def make_agent(provider: Provider, retry: RetryPolicy = POLICY) -> Agent:
    return Agent(provider.language_model("fault-model"), retry=retry)


@dataclass
class Outcome:
    """What one run produced: its result or typed error, the streamed parts and the retries."""

    result: AgentResult | None = None
    error: ReverieError | None = None
    parts: list[AgentStreamPart] = field(default_factory=list[AgentStreamPart])
    retries: list[RetryPart] = field(default_factory=list[RetryPart])

    @property
    def delivered(self) -> str:
        """Every text delta the consumer received, from all attempts."""
        return "".join(part.delta for part in self.parts if isinstance(part, TextDeltaPart))

    @property
    def text(self) -> str:
        assert self.error is None, f"the run failed: {self.error!r}"
        assert self.result is not None
        return self.result.text

    def failure(self, kind: type[E]) -> E:
        """The run's error, which must be exactly a ``kind``."""
        assert type(self.error) is kind, f"expected {kind.__name__}, got {self.error!r}"
        assert isinstance(self.error, kind)
        return self.error


async def run(agent: Agent, mode: str) -> Outcome:
    outcome = Outcome()
    agent.callbacks.on_retry = outcome.retries.append
    try:
        if mode == "generate":
            outcome.result = await agent.generate_async("hi")
        else:
            async with agent.stream_async("hi") as stream:
                async for part in stream:
                    outcome.parts.append(part)
                outcome.result = await stream.result()
    except ReverieError as error:
        outcome.error = error
    return outcome


def retry_errors(outcome: Outcome) -> list[ProviderError]:
    errors = [retry.error for retry in outcome.retries]
    assert all(isinstance(error, ProviderError) for error in errors), errors
    return [error for error in errors if isinstance(error, ProviderError)]


# --- rate limits: the server's delay is honoured --------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("seconds", (3.0, 3.0)),
        ("http-date", (3.5, 5.0)),
        ("milliseconds", (1.5, 1.5)),
        ("a-minute-or-more", (1.0, 1.0)),  # too long to honour: the policy's backoff instead
    ],
)
async def test_rate_limit_waits_what_the_server_asks(
    server: FaultServer,
    client: httpx2.AsyncClient,
    sleeps: list[float],
    mode: str,
    header: str,
    expected: tuple[float, float],
) -> None:
    fault = {
        "seconds": rate_limited(retry_after=3),
        "http-date": rate_limited(retry_after=http_date(5)),  # whole-second resolution
        "milliseconds": rate_limited(retry_after_ms=1500),
        "a-minute-or-more": rate_limited(retry_after=120),
    }[header]
    server.script([fault, None])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert len(sleeps) == 1
    low, high = expected
    assert low <= sleeps[0] <= high
    (error,) = retry_errors(outcome)
    assert error.status_code == 429
    assert "Rate limit" in str(error)
    assert outcome.retries[0].delay == sleeps[0]


# --- server errors: exponential backoff -------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code", [500, 502, 503])
async def test_server_error_burst_then_success(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str, code: int
) -> None:
    server.script([status(code), status(code), None])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 3
    assert sleeps == [1.0, 2.0]
    assert [error.status_code for error in retry_errors(outcome)] == [code, code]
    assert [retry.attempt for retry in outcome.retries] == [1, 2]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_server_errors_exhaust_the_retries(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([status(500), status(502), status(503)])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    error = outcome.failure(RetryError)
    assert server.request_count == 3
    assert sleeps == [1.0, 2.0]
    assert [getattr(attempt, "status_code", None) for attempt in error.errors] == [500, 502, 503]
    assert "failed after 3 attempts" in str(error)
    assert "503 Service Unavailable" in str(error)
    assert error.__cause__ is error.errors[-1]


# --- client errors: never retried -------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_unauthorized_is_not_retried(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([status(401)])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    error = outcome.failure(ProviderError)
    assert error.status_code == 401
    assert "Incorrect API key provided" in str(error)
    assert not error.is_retryable
    assert server.request_count == 1
    assert sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_context_length_exceeded_is_flagged_and_not_retried(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([context_length_exceeded()])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    error = outcome.failure(ProviderError)
    assert error.status_code == 400
    assert error.is_context_too_large
    assert "maximum context length" in str(error)
    assert not error.is_retryable
    assert server.request_count == 1
    assert sleeps == []


# --- a proxy's HTML page -------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_html_error_page_is_retried_then_reported(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([html_error(502)] * 3)
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    error = outcome.failure(RetryError)
    assert server.request_count == 3
    assert sleeps == [1.0, 2.0]
    assert len(error.errors) == 3
    for attempt in error.errors:
        assert isinstance(attempt, ProviderError)
        assert attempt.status_code == 502
        assert "HTML" in str(attempt)
        assert "502 Bad Gateway" in str(attempt)
    assert "failed after 3 attempts" in str(error)


# --- unreadable answers: never retried ------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_invalid_json_is_an_invalid_response(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([invalid_json()])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    error = outcome.failure(InvalidResponseError)
    assert "JSON" in str(error)
    assert "{not json" in str(error)
    assert server.request_count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_empty_body_is_an_invalid_response(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    server.script([empty_body()])
    outcome = await run(make_agent(openai_shape(server, client)), "generate")
    error = outcome.failure(InvalidResponseError)
    assert "empty response body" in str(error)
    assert server.request_count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_empty_event_stream_is_an_incomplete_stream_and_retried(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    # An empty 200 event stream cannot be told apart from a stream that ended before its
    # finish event: both are retried as incomplete (see docs/reliability.md).
    server.script([empty_body(), None])
    outcome = await run(make_agent(openai_shape(server, client)), "stream")
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert error.is_retryable
    assert "finish" in str(error)


# --- broken streams ---------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_cut_stream_is_retried(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([cut_stream(after_events=2), None])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert error.status_code is None
    assert error.is_retryable
    assert "RemoteProtocolError" in str(error)
    if mode == "stream":
        (retry,) = outcome.retries
        assert retry.discarded.text == "Hello"
        assert retry.discarded.parts == 3  # stream_start, text_start, "Hello"
        assert error.partial_text == "Hello"
        # The consumer saw the failed attempt's text, then the whole new answer.
        assert outcome.delivered == "Hello" + DEFAULT_TEXT


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_cut_stream_without_retries_keeps_the_delivered_text(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([cut_stream(after_events=3)])
    outcome = await run(make_agent(openai_shape(server, client), RetryPolicy(max_retries=0)), mode)
    error = outcome.failure(ProviderError)
    assert "RemoteProtocolError" in str(error)
    assert "peer closed connection" in str(error)
    assert error.is_retryable
    assert server.request_count == 1
    assert sleeps == []
    assert error.partial_text == outcome.delivered
    if mode == "stream":
        assert outcome.delivered == "Hello from"
        assert [part.type for part in outcome.parts][-1] == "text_delta"


@pytest.mark.anyio
async def test_stream_without_finish_is_retried(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    server.script([no_finish(), None])
    outcome = await run(make_agent(openai_shape(server, client)), "stream")
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert error.is_retryable
    assert "ended before the model finished" in str(error)
    assert error.partial_text == DEFAULT_TEXT


@pytest.mark.anyio
async def test_stream_without_finish_exhausts_into_retry_error(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    server.script([no_finish()] * 3)
    outcome = await run(make_agent(openai_shape(server, client)), "stream")
    error = outcome.failure(RetryError)
    assert len(error.errors) == 3
    assert sleeps == [1.0, 2.0]
    assert error.partial_text == DEFAULT_TEXT  # the last attempt's text


@pytest.mark.anyio
async def test_complete_answer_without_finish_reason_is_accepted(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    # A whole JSON answer with "finish_reason": null is complete; the reason is just unknown.
    server.script([no_finish()])
    outcome = await run(make_agent(openai_shape(server, client)), "generate")
    assert outcome.text == DEFAULT_TEXT
    assert outcome.result is not None
    assert outcome.result.finish_reason == "unknown"
    assert server.request_count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_in_band_error_is_retried(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([inband_error(after_chunks=1), None])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert "overloaded" in str(error)
    assert error.is_retryable
    if mode == "stream":
        assert error.partial_text == "Hello"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_utf8_split_across_writes_arrives_exact(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([split_utf8()])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    assert outcome.text == UTF8_TEXT
    assert "\ufffd" not in outcome.text
    if mode == "stream":
        assert outcome.delivered == UTF8_TEXT
    assert server.request_count == 1
    assert sleeps == []


# --- timeouts and broken connections --------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_slow_drip_past_the_read_timeout_is_retried(
    server: FaultServer, sleeps: list[float], mode: str
) -> None:
    server.script([slow_drip(delay_s=1.0, chunks=3), None])
    async with httpx2.AsyncClient(verify=False, timeout=SLOW_TIMEOUT) as slow_client:
        outcome = await run(make_agent(openai_shape(server, slow_client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert "ReadTimeout" in str(error)
    assert error.is_retryable


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_slow_drip_exhausts_the_retries(server: FaultServer, sleeps: list[float], mode: str) -> None:
    server.script([slow_drip(delay_s=1.0, chunks=3)] * 3)
    start = time.monotonic()
    async with httpx2.AsyncClient(verify=False, timeout=SLOW_TIMEOUT) as slow_client:
        outcome = await run(make_agent(openai_shape(server, slow_client)), mode)
    error = outcome.failure(RetryError)
    assert server.request_count == 3
    assert sleeps == [1.0, 2.0]
    assert all("ReadTimeout" in str(attempt) for attempt in error.errors)
    assert "failed after 3 attempts" in str(error)
    # Each attempt gave up after the read timeout, not after the 2 s the drip would take.
    assert time.monotonic() - start < 3 * 1.0


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_connection_reset_is_retried(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([connection_reset(), None])
    outcome = await run(make_agent(openai_shape(server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert error.status_code is None
    assert error.is_retryable
    assert any(name in str(error) for name in ("RemoteProtocolError", "ReadError", "ConnectError"))


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_huge_response_is_refused_at_the_limit(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str
) -> None:
    server.script([huge(5_000_000)])
    agent = make_agent(openai_shape(server, client, max_response_bytes=LIMIT))
    tracemalloc.start()
    try:
        outcome = await run(agent, mode)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    error = outcome.failure(InvalidResponseError)
    assert f"exceeds the limit of {LIMIT} bytes" in str(error)
    assert len(str(error)) < 1000  # the message does not carry the body
    assert server.request_count == 1
    assert sleeps == []
    # Reading stopped at the limit: far less than the 5 MB body was ever held in memory.
    assert peak < 4 * LIMIT


# --- the Anthropic and Gemini wire shapes (a representative subset) --------------------------------


def shaped(shape: str, server: FaultServer, client: httpx2.AsyncClient) -> Provider:
    if shape == "anthropic":
        from reverie.providers import anthropic

        return anthropic.Provider(base_url=server.url + "/v1", api_key="k", async_http_client=client)
    from reverie.providers import google

    return google.Provider(base_url=server.url + "/v1beta", api_key="k", async_http_client=client)


SHAPES = [("anthropic", "anthropic"), ("google", "gemini")]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("provider", "shape"), SHAPES)
async def test_other_shapes_answer(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str, provider: str, shape: str
) -> None:
    outcome = await run(make_agent(shaped(provider, server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert outcome.result is not None
    assert outcome.result.finish_reason == "stop"
    assert [request.shape for request in server.requests] == [shape]
    assert sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("provider", "shape"), SHAPES)
async def test_other_shapes_rate_limit(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str, provider: str, shape: str
) -> None:
    server.script([rate_limited(retry_after=2), None])
    outcome = await run(make_agent(shaped(provider, server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [2.0]
    (error,) = retry_errors(outcome)
    assert error.status_code == 429


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("provider", "shape"), SHAPES)
async def test_other_shapes_in_band_error(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str, provider: str, shape: str
) -> None:
    server.script([inband_error(), None])
    outcome = await run(make_agent(shaped(provider, server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert "overloaded" in str(error).lower()
    assert error.is_retryable


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(("provider", "shape"), SHAPES)
async def test_other_shapes_cut_stream(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], mode: str, provider: str, shape: str
) -> None:
    server.script([cut_stream(after_events=4), None])
    outcome = await run(make_agent(shaped(provider, server, client)), mode)
    assert outcome.text == DEFAULT_TEXT
    assert server.request_count == 2
    assert sleeps == [1.0]
    (error,) = retry_errors(outcome)
    assert "RemoteProtocolError" in str(error)
    server.script([cut_stream(after_events=4)])
    outcome = await run(make_agent(shaped(provider, server, client), RetryPolicy(max_retries=0)), mode)
    error = outcome.failure(ProviderError)
    assert error.partial_text == outcome.delivered
    if mode == "stream":
        assert outcome.delivered  # the cut came after some text
        assert DEFAULT_TEXT.startswith(outcome.delivered)

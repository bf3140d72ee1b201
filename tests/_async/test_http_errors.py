"""httpx2 exceptions beyond transport failures, through the public API: corrupt compressed
bodies (``httpx2.DecodingError``) and redirect loops (``httpx2.TooManyRedirects``).

Each goes through the engine's one error map (``reverie._http.errors``), so none escapes as
a raw httpx2 exception, and a stream keeps the text it delivered before the failure.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx2
import pytest

from reverie import Agent, ProviderError, RetryError, RetryPolicy, TextDeltaPart
from reverie.providers import openaicompat

URL = "http://test/v1/chat/completions"
GARBAGE = b"\xff" * 64
"""Not a deflate block: inflating it fails at once."""


def gzip_prefix(data: bytes) -> bytes:
    """``data`` gzip-compressed and flushed, so it decodes fully, but without the gzip trailer."""
    compressor = zlib.compressobj(wbits=31)  # 31: a gzip header and trailer
    return compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)


async def corrupt_gzip(data: bytes) -> AsyncIterator[bytes]:
    """A valid gzip start that decodes to ``data``, then garbage."""
    yield gzip_prefix(data)
    yield GARBAGE


def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
    payload = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def make_agent(handler: Callable[[httpx2.Request], httpx2.Response], retries: int = 0) -> Agent:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
    return Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=retries))


@pytest.mark.anyio
async def test_a_corrupt_gzip_answer_is_a_retryable_provider_error(sleeps: list[float]) -> None:
    requests: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        return httpx2.Response(200, headers=headers, content=corrupt_gzip(b'{"id": "chatcmpl-1", "cho'))

    with pytest.raises(ProviderError) as info:
        await make_agent(handler).generate_async("hi")
    error = info.value
    assert "DecodingError while reading the response" in str(error)
    assert isinstance(error.__cause__, httpx2.DecodingError)
    assert error.is_retryable
    assert error.url == URL
    assert error.request_body is not None and json.loads(error.request_body)["model"] == "m"
    assert len(requests) == 1


@pytest.mark.anyio
async def test_a_corrupt_gzip_answer_is_retried_then_a_retry_error(sleeps: list[float]) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "application/json", "content-encoding": "gzip"}
        return httpx2.Response(200, headers=headers, content=corrupt_gzip(b"{"))

    with pytest.raises(RetryError) as info:
        await make_agent(handler, retries=2).generate_async("hi")
    assert len(info.value.errors) == 3
    assert all("DecodingError" in str(error) for error in info.value.errors)
    assert len(sleeps) == 2


@pytest.mark.anyio
async def test_a_gzip_stream_corrupted_mid_way_keeps_the_text_already_streamed() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
        body = chunk({"role": "assistant", "content": "Hel"}) + chunk({"content": "lo"})
        return httpx2.Response(200, headers=headers, content=corrupt_gzip(body))

    texts: list[str] = []
    with pytest.raises(ProviderError) as info:
        async for part in make_agent(handler).stream_async("hi"):
            if isinstance(part, TextDeltaPart):
                texts.append(part.delta)
    error = info.value
    assert texts == ["Hel", "lo"]  # delivered before the error was raised
    assert error.partial_text == "Hello"
    assert "DecodingError while reading the stream" in str(error)
    assert isinstance(error.__cause__, httpx2.DecodingError)
    assert error.is_retryable
    assert error.url == URL


@pytest.mark.anyio
async def test_a_whole_gzip_answer_still_decodes() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = chunk({"role": "assistant", "content": "Olá"}) + chunk({}, "stop")
        compressor = zlib.compressobj(wbits=31)
        content = compressor.compress(body) + compressor.flush()
        headers = {"content-type": "text/event-stream", "content-encoding": "gzip"}
        return httpx2.Response(200, headers=headers, content=content)

    result = await make_agent(handler).stream_async("hi").result()
    assert result.text == "Olá"


@pytest.mark.anyio
async def test_a_redirect_loop_is_a_provider_error_that_is_not_retried(sleeps: list[float]) -> None:
    requests: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return httpx2.Response(307, headers={"location": URL})

    client = httpx2.AsyncClient(
        transport=httpx2.MockTransport(handler), follow_redirects=True, max_redirects=3
    )
    provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
    agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=2))
    with pytest.raises(ProviderError) as info:
        await agent.generate_async("hi")
    assert "TooManyRedirects while sending the request" in str(info.value)
    assert not info.value.is_retryable
    assert len(requests) == 4  # the first request and three redirects, once: no retry
    assert sleeps == []

"""Time and size bounds: a stream's total size, request timeouts, run deadlines, tool timeouts.

Nothing here waits on a wall clock: servers are scripted ``httpx2.MockTransport`` handlers,
and time is read from injected clocks.
"""

from __future__ import annotations

import gzip
import json

import httpx2
import pytest

from reverie import Agent, InvalidResponseError
from reverie.providers import openaicompat


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

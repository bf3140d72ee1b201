"""The headers a server sees: the engine's own request building matches httpx2's ``build_request``.

The engine builds its ``httpx2.Request`` with the client's headers merged once per header set
(``reverie._http.endpoint.merged_headers``); a client of a subclass goes through httpx2's own
``build_request``. Both must put the same headers, in the same order, on the wire: with the
client's defaults, client headers that the provider's override, credentials the client sets
itself, cookies, query parameters, streams, and client headers changed between requests.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from reverie import Agent, RetryPolicy
from reverie.providers import openaicompat

COMPLETION = {
    "id": "c1",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
STREAM = (
    b'data: {"choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)


class SubclassedClient(httpx2.AsyncClient):
    """A client of another class: the engine leaves building its requests to httpx2."""


Seen = list[tuple[str, list[tuple[bytes, bytes]], bytes]]


async def _requests(client_type: type[httpx2.AsyncClient], **client_options: Any) -> Seen:
    seen: Seen = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append((str(request.url), request.headers.raw, request.content))
        if request.headers.get("accept") == "text/event-stream":
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=STREAM)
        return httpx2.Response(200, json=COMPLETION)

    async with client_type(transport=httpx2.MockTransport(handler), **client_options) as client:
        provider = openaicompat.Provider(
            base_url="http://test/v1",
            api_key="sk-test",
            async_http_client=client,
            headers={"X-Provider": "p"},
        )
        agent = Agent(
            provider.language_model("m"), retry=RetryPolicy(max_retries=0), headers={"x-agent": "a"}
        )
        await agent.generate_async("hi")
        await agent.generate_async("hi", headers={"X-Call": "c", "User-Agent": "caller"})
        await agent.generate_async("hi")  # the same header set again
        client.headers["X-Later"] = "changed on the client"
        await agent.generate_async("hi")
        await agent.stream_async("hi").result()
    return seen


@pytest.mark.anyio
@pytest.mark.parametrize(
    "client_options",
    [
        {},
        {"headers": {"User-Agent": "mine", "X-Team": "t", "Accept": "text/plain"}},
        {"headers": {"Authorization": "Bearer from-the-client"}},
        {"cookies": {"session": "s1"}},
        {"params": {"q": "1"}},
        {"base_url": "http://elsewhere/v2"},
    ],
    ids=["defaults", "client-headers", "client-credentials", "cookies", "params", "base-url"],
)
async def test_the_server_sees_the_headers_httpx2_builds(client_options: dict[str, Any]) -> None:
    ours = await _requests(httpx2.AsyncClient, **client_options)
    httpx2s = await _requests(SubclassedClient, **client_options)
    assert len(ours) == 5
    assert ours == httpx2s


@pytest.mark.anyio
async def test_the_key_and_the_client_headers_arrive() -> None:
    seen = await _requests(httpx2.AsyncClient, headers={"X-Team": "t"})
    headers = [dict((name.lower(), value) for name, value in raw) for _, raw, _ in seen]
    assert all(sent[b"authorization"] == b"Bearer sk-test" for sent in headers)
    assert all(sent[b"x-team"] == b"t" and sent[b"x-provider"] == b"p" for sent in headers)
    assert b"x-later" not in headers[2] and headers[3][b"x-later"] == b"changed on the client"
    assert headers[1][b"user-agent"] == b"caller" and headers[1][b"x-call"] == b"c"

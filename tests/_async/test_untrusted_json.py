"""Untrusted JSON from a provider never escapes as a raw Python error, through the public API."""

from __future__ import annotations

import json

import httpx2
import pytest

from reverie import Agent, InvalidResponseError, RetryPolicy, tool
from reverie.providers import openaicompat

DEEP = "[" * 100_000 + "]" * 100_000


def _completion(content: str, *, tool_call: bool = False) -> dict[str, object]:
    message: dict[str, object] = {"role": "assistant", "content": content}
    finish = "stop"
    if tool_call:
        message["tool_calls"] = [
            {"id": "call_1", "type": "function", "function": {"name": "odd", "arguments": "{}"}}
        ]
        finish = "tool_calls"
    return {"id": "c", "model": "m", "choices": [{"index": 0, "message": message, "finish_reason": finish}]}


@pytest.mark.anyio
async def test_a_body_nested_too_deep_is_an_invalid_response() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=DEEP.encode())

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=0))
        with pytest.raises(InvalidResponseError, match="not valid JSON"):
            await agent.generate_async("hi")


@pytest.mark.anyio
async def test_a_stream_event_nested_too_deep_is_an_invalid_response() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = f"data: {DEEP}\n\n".encode()
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=0))
        with pytest.raises(InvalidResponseError, match="malformed JSON"):
            await agent.stream_async("hi").result()


@pytest.mark.anyio
async def test_a_json_body_starting_with_a_byte_order_mark_is_read() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        body = b"\xef\xbb\xbf" + json.dumps(_completion("hello")).encode()
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=body)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        result = await Agent(provider.language_model("m")).generate_async("hi")
    assert result.text == "hello"


@pytest.mark.anyio
async def test_model_text_with_lone_surrogates_is_sent_back_replaced() -> None:
    sent: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        first = len(sent) == 1
        # ``\ud800`` escaped in JSON decodes to a lone surrogate, which UTF-8 cannot encode.
        body = json.dumps(_completion("bad \ud800 text", tool_call=first))
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=body.encode())

    @tool
    def odd() -> str:
        """Return text with a lone surrogate."""
        return "tool \udfff text"

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        result = await Agent(provider.language_model("m"), tools=[odd]).generate_async("hi")
    assert len(sent) == 2
    second = json.loads(sent[1])
    assert second["messages"][1]["content"] == "bad \ufffd text"
    assert second["messages"][2]["content"] == "tool \ufffd text"
    assert result.text == "bad \ud800 text"


@pytest.mark.anyio
async def test_a_tool_returning_an_object_that_cannot_be_encoded_gives_an_error_result() -> None:
    sent: list[bytes] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        body = json.dumps(_completion("done", tool_call=len(sent) == 1))
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=body.encode())

    @tool
    def odd() -> object:
        """Return something JSON cannot hold."""
        return {"handle": object()}

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        result = await Agent(provider.language_model("m"), tools=[odd]).generate_async("hi")
    tool_result = result.steps[0].tool_results[0]
    assert tool_result.is_error
    assert "cannot be sent as JSON" in tool_result.output
    assert result.text == "done"

"""Errors and bad input through the public API: an OpenRouter provider on a scripted ``httpx2.MockTransport``.

Each case asserts the error type, what it carries and how many requests were made, so a
regression in the mapping, the message or the retry decision fails a test.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import httpx2
import pytest
from pydantic import Field

from reverie import (
    Agent,
    AgentResult,
    AgentStreamPart,
    InvalidResponseError,
    MissingAPIKeyError,
    ProviderError,
    RetryError,
    RetryPart,
    RetryPolicy,
    ReverieError,
    TextDeltaPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
    UserError,
    tool,
)
from reverie.providers import openai, openrouter

URL = "https://openrouter.ai/api/v1/chat/completions"
MODES = ["generate", "stream"]
CANARY = "sk-canary-123"

ToolCalls = list[tuple[str, str, str]]
"""(call id, tool name, JSON arguments) of one answer."""
ScriptItem = httpx2.Response | BaseException | str | ToolCalls | Callable[[httpx2.Request], httpx2.Response]


# --- a scripted OpenRouter ----------------------------------------------------------------


def completion(text: str | None, calls: ToolCalls) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            for call_id, name, arguments in calls
        ]
    return {
        "id": "gen-1",
        "object": "chat.completion",
        "model": "test/model",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def chunk(delta: dict[str, Any] | None = None, finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "model": "test/model",
        "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish_reason}],
    }


def sse(*events: dict[str, Any] | str) -> bytes:
    return b"".join(
        f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode() for event in events
    )


def streamed(text: str | None, calls: ToolCalls) -> bytes:
    events: list[dict[str, Any] | str] = []
    if text:
        events.append(chunk({"role": "assistant", "content": text}))
    for index, (call_id, name, arguments) in enumerate(calls):
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        events.append(chunk({"tool_calls": [head]}))
        events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]}))
    events.append(chunk(finish_reason="tool_calls" if calls else "stop"))
    events.append("[DONE]")
    return sse(*events)


def event_stream(content: bytes | AsyncIterator[bytes]) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content)


class Server:
    """Answers each request with the next script item, in the mode the request asks for."""

    def __init__(self, *script: ScriptItem) -> None:
        self.script = list(script)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        assert len(self.requests) <= len(self.script), f"unexpected request #{len(self.requests)}"
        item = self.script[len(self.requests) - 1]
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, httpx2.Response):
            return item
        if callable(item):
            return item(request)
        text, calls = (item, []) if isinstance(item, str) else (None, item)
        if json.loads(request.content).get("stream"):
            return event_stream(streamed(text, calls))
        return httpx2.Response(200, json=completion(text, calls))

    @property
    def count(self) -> int:
        return len(self.requests)

    def body(self, index: int) -> dict[str, Any]:
        return json.loads(self.requests[index].content)


def make_provider(server: Server, api_key: str = "sk-test") -> openrouter.Provider:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    return openrouter.Provider(api_key=api_key, async_http_client=client)


def make_agent(
    server: Server,
    *,
    tools: list[Tool] | None = None,
    retry: RetryPolicy | None = None,
    api_key: str = "sk-test",
    **options: Any,
) -> Agent:
    model = make_provider(server, api_key).language_model("test/model")
    return Agent(model, tools=tools or [], retry=retry, **options)


async def run(agent: Agent, mode: str, parts: list[AgentStreamPart] | None = None) -> AgentResult:
    """Run ``agent`` in ``mode``; streamed parts are appended to ``parts`` as they arrive."""
    if mode == "generate":
        return await agent.generate_async("hi")
    stream = agent.stream_async("hi")
    async for part in stream:
        if parts is not None:
            parts.append(part)
    return await stream.result()


# --- HTTP error answers -----------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_401_is_a_provider_error_and_not_retried(mode: str, sleeps: list[float]) -> None:
    body = {"error": {"message": "No auth credentials found", "code": 401}}
    server = Server(httpx2.Response(401, json=body), "never")
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server), mode)
    error = info.value
    assert type(error) is ProviderError
    assert error.status_code == 401
    assert error.url == URL
    assert error.message == "No auth credentials found"
    assert str(error) == f"HTTP 401: No auth credentials found ({URL})"
    assert error.response_headers["content-type"] == "application/json"
    assert not error.is_retryable
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_400_error_body_surfaces_openrouter_metadata_raw(mode: str) -> None:
    raw = json.dumps({"error": {"message": "max_tokens must be at most 8192", "type": "invalid_request"}})
    body = {
        "error": {
            "message": "Provider returned error",
            "code": 400,
            "metadata": {"raw": raw, "provider_name": "Groq"},
        }
    }
    server = Server(httpx2.Response(400, headers={"X-Generation-ID": "gen-42"}, json=body))
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server), mode)
    error = info.value
    assert error.status_code == 400
    assert "Provider returned error" in error.message
    assert "max_tokens must be at most 8192" in error.message
    assert "Groq" in error.message
    assert "max_tokens must be at most 8192" in str(error)
    assert error.response_headers["x-generation-id"] == "gen-42"
    assert all(name == name.lower() for name in error.response_headers)
    assert json.loads(error.response_body or "") == body
    sent = json.loads(error.request_body or "")
    assert sent["model"] == "test/model"
    assert sent["messages"] == [{"role": "user", "content": "hi"}]
    assert sent.get("stream", False) is (mode == "stream")
    assert server.count == 1


@pytest.mark.anyio
async def test_context_too_large_is_flagged() -> None:
    body = {"error": {"message": "This model's maximum context length is 8192 tokens", "code": 400}}
    server = Server(httpx2.Response(400, json=body))
    with pytest.raises(ProviderError) as info:
        await make_agent(server).generate_async("hi")
    assert info.value.is_context_too_large
    assert not info.value.is_retryable


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_html_502_is_retried_then_retry_error_mentions_html(mode: str, sleeps: list[float]) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>"
    server = Server(
        *(httpx2.Response(502, headers={"content-type": "text/html"}, text=page) for _ in range(4))
    )
    with pytest.raises(RetryError) as info:
        await run(make_agent(server), mode)
    error = info.value
    assert server.count == 4
    assert len(error.errors) == 4
    assert "HTML" in str(error)
    assert "502 Bad Gateway" in str(error)
    for attempt in error.errors:
        assert isinstance(attempt, ProviderError)
        assert attempt.status_code == 502
        assert attempt.response_body == page
        assert "HTML" in attempt.message
    assert sleeps == [5.0, 10.0, 20.0]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_html_400_is_not_retried(mode: str, sleeps: list[float]) -> None:
    page = "<!DOCTYPE html><html><body><h1>400 Bad Request</h1></body></html>"
    server = Server(httpx2.Response(400, headers={"content-type": "text/html"}, text=page), "never")
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server), mode)
    assert type(info.value) is ProviderError
    assert info.value.status_code == 400
    assert "HTML" in info.value.message
    assert "400 Bad Request" in info.value.message
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_plain_text_error_body_is_quoted() -> None:
    server = Server(httpx2.Response(418, headers={"content-type": "text/plain"}, text="I'm a teapot"))
    with pytest.raises(ProviderError) as info:
        await make_agent(server).generate_async("hi")
    assert info.value.status_code == 418
    assert "non-JSON" in info.value.message
    assert "I'm a teapot" in info.value.message


@pytest.mark.anyio
async def test_huge_error_body_is_clipped_in_the_message_but_kept_whole() -> None:
    page = "<html>" + "x" * 5000 + "</html>"
    server = Server(httpx2.Response(400, headers={"content-type": "text/html"}, text=page))
    with pytest.raises(ProviderError) as info:
        await make_agent(server).generate_async("hi")
    assert len(str(info.value)) < 1000
    assert info.value.response_body == page


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_empty_error_body(mode: str) -> None:
    server = Server(httpx2.Response(400, content=b""))
    with pytest.raises(ProviderError) as info:
        await run(make_agent(server), mode)
    assert info.value.status_code == 400
    assert "empty response body" in info.value.message
    assert info.value.response_body == ""


# --- unreadable successful answers ------------------------------------------------------


@pytest.mark.anyio
async def test_empty_200_body_is_invalid_response_and_not_retried(sleeps: list[float]) -> None:
    server = Server(httpx2.Response(200, content=b""), "never")
    with pytest.raises(InvalidResponseError) as info:
        await make_agent(server).generate_async("hi")
    assert "empty response body" in str(info.value)
    assert info.value.url == URL
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_invalid_json_200_is_invalid_response_and_not_retried(sleeps: list[float]) -> None:
    server = Server(httpx2.Response(200, text='{"choices": [oops'), "never")
    with pytest.raises(InvalidResponseError) as info:
        await make_agent(server).generate_async("hi")
    assert "not valid JSON" in str(info.value)
    assert info.value.body == '{"choices": [oops'
    assert '{"choices": [oops' in str(info.value)
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("payload", "problem"),
    [([1, 2, 3], "expected a JSON object"), ({"id": "gen-1", "choices": []}, "no choices")],
    ids=["array", "no-choices"],
)
async def test_wrong_shape_200_is_invalid_response(payload: Any, problem: str) -> None:
    server = Server(httpx2.Response(200, json=payload), "never")
    with pytest.raises(InvalidResponseError) as info:
        await make_agent(server).generate_async("hi")
    assert problem in str(info.value)
    assert server.count == 1


@pytest.mark.anyio
async def test_empty_event_stream_is_an_incomplete_stream_and_retried(sleeps: list[float]) -> None:
    server = Server(event_stream(b""), "second try")
    result = await make_agent(server).stream_async("hi").result()
    assert result.text == "second try"
    assert server.count == 2
    assert sleeps == [5.0]


@pytest.mark.anyio
async def test_malformed_stream_chunk_is_invalid_response(sleeps: list[float]) -> None:
    server = Server(
        event_stream(sse(chunk({"content": "Hel"}), "{not json", chunk({"content": "lo"}))), "never"
    )
    parts: list[AgentStreamPart] = []
    with pytest.raises(InvalidResponseError) as info:
        await run(make_agent(server), "stream", parts)
    error = info.value
    assert "malformed JSON in stream event" in str(error)
    assert "{not json" in str(error)
    assert error.body == "{not json"
    assert error.partial_text == "Hel"
    assert [p.delta for p in parts if isinstance(p, TextDeltaPart)] == ["Hel"]
    assert server.count == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_stream_chunk_that_is_not_an_object_is_invalid_response() -> None:
    server = Server(event_stream(sse("[1, 2]")), "never")
    with pytest.raises(InvalidResponseError) as info:
        await make_agent(server).stream_async("hi").result()
    assert "not a JSON object" in str(info.value)
    assert server.count == 1


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_in_band_error_carries_the_request_context(mode: str, sleeps: list[float]) -> None:
    inband = {"error": {"message": "Upstream idle timeout", "code": 502}}
    first = event_stream(sse(inband)) if mode == "stream" else httpx2.Response(200, json=inband)
    server = Server(first, "ok")
    retries: list[RetryPart] = []
    result = await run(make_agent(server, retry=RetryPolicy(max_retries=1), on_retry=retries.append), mode)
    assert result.text == "ok"
    assert server.count == 2
    assert len(retries) == 1
    error = retries[0].error
    assert isinstance(error, ProviderError)
    assert error.status_code == 502
    assert error.message == "Upstream idle timeout"
    assert error.url == URL
    assert json.loads(error.request_body or "")["model"] == "test/model"


@pytest.mark.anyio
async def test_json_error_answer_to_a_stream_request_is_read_as_in_band(sleeps: list[float]) -> None:
    # Some gateways answer a streaming request with HTTP 200 and a JSON error report.
    inband = {"error": {"message": "Upstream overloaded", "code": 503}}
    server = Server(httpx2.Response(200, json=inband), "ok")
    result = await make_agent(server).stream_async("hi").result()
    assert result.text == "ok"
    assert server.count == 2
    assert sleeps == [5.0]


@pytest.mark.anyio
async def test_json_error_answer_to_a_stream_request_keeps_its_status(sleeps: list[float]) -> None:
    inband = {"error": {"message": "Invalid model id", "code": 400}}
    server = Server(httpx2.Response(200, json=inband), "never")
    with pytest.raises(ProviderError) as info:
        await make_agent(server).stream_async("hi").result()
    assert info.value.status_code == 400
    assert info.value.message == "Invalid model id"
    assert info.value.url == URL
    assert server.count == 1


async def cut_body(data: bytes) -> AsyncIterator[bytes]:
    yield data
    raise httpx2.ReadError("connection reset by peer")


@pytest.mark.anyio
async def test_body_cut_while_reading_a_json_answer(sleeps: list[float]) -> None:
    server = Server(lambda request: httpx2.Response(200, content=cut_body(b'{"id": "gen-1", "cho')))
    with pytest.raises(ProviderError) as info:
        await make_agent(server, retry=RetryPolicy(max_retries=0)).generate_async("hi")
    assert "ReadError" in str(info.value)
    assert "connection reset by peer" in str(info.value)
    assert isinstance(info.value.__cause__, httpx2.ReadError)
    assert info.value.is_retryable
    assert info.value.url == URL
    assert server.count == 1


# --- the error tree and missing keys -----------------------------------------------------


def test_errors_share_one_base() -> None:
    for kind in (ProviderError, RetryError, InvalidResponseError, MissingAPIKeyError, UserError):
        assert issubclass(kind, ReverieError)
    assert issubclass(MissingAPIKeyError, UserError)


@pytest.mark.parametrize(
    ("module", "env_var"),
    [(openrouter, "OPENROUTER_API_KEY"), (openai, "OPENAI_API_KEY")],
    ids=["openrouter", "openai"],
)
@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_missing_api_key(
    module: Any, env_var: str, value: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    if value is None:
        monkeypatch.delenv(env_var, raising=False)
    else:
        monkeypatch.setenv(env_var, value)
    with pytest.raises(MissingAPIKeyError) as info:
        module.Provider()
    assert "api_key" in str(info.value)
    assert env_var in str(info.value)
    assert info.value.parameter == "api_key"
    assert info.value.env_var == env_var


@pytest.mark.anyio
async def test_api_key_from_the_environment_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-from-env")
    server = Server("hello")
    provider = openrouter.Provider(
        async_http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    )
    result = await Agent(provider.language_model("test/model")).generate_async("hi")
    assert result.text == "hello"
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"


# --- bad tool calls ------------------------------------------------------------------------


@tool
def add(a: int, b: Annotated[int, Field(description="The second term")]) -> int:
    """Add two integers."""
    return a + b


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"boom: {reason}")


@tool
async def explode_async(reason: str) -> str:
    """Always fails, asynchronously."""
    raise ValueError(f"async boom: {reason}")


def tool_messages(server: Server, index: int) -> list[dict[str, Any]]:
    return [message for message in server.body(index)["messages"] if message["role"] == "tool"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("subtract", '{"a": 1, "b": 2}', ["unknown tool 'subtract'", "add"]),
        ("add", '{"a": 1, "b": ', ["not valid JSON"]),
        ("add", '{"a": "one", "b": 2}', ["'add'", "a:", "valid integer"]),
        ("add", '{"a": 1}', ["b:", "Field required"]),
    ],
    ids=["unknown-tool", "invalid-json", "wrong-type", "missing-field"],
)
async def test_invalid_tool_call_gets_an_error_result_and_the_run_goes_on(
    name: str, arguments: str, expected: list[str], mode: str
) -> None:
    seen: list[ToolCallPart] = []
    server = Server([("call_1", name, arguments)], "sorry, let me fix that")
    agent = make_agent(server, tools=[add], on_tool_call=seen.append)
    parts: list[AgentStreamPart] = []
    result = await run(agent, mode, parts)
    assert result.text == "sorry, let me fix that"
    assert server.count == 2
    (call,) = result.steps[0].tool_calls
    assert call.invalid
    assert call.error is not None
    for fragment in expected:
        assert fragment in call.error
    assert seen == [call]
    (tool_result,) = result.steps[0].tool_results
    assert tool_result.is_error
    assert tool_result.tool_call_id == "call_1"
    assert tool_result.output == call.error
    # The model is told what went wrong, in the tool message of the next request.
    assert tool_messages(server, 1) == [{"role": "tool", "tool_call_id": "call_1", "content": call.error}]
    assistant = server.body(1)["messages"][1]
    assert assistant["tool_calls"][0]["function"] == {"name": name, "arguments": arguments}
    if mode == "stream":
        streamed_calls = [part for part in parts if isinstance(part, ToolCallPart)]
        assert [part.invalid for part in streamed_calls] == [True]
        assert [part for part in parts if isinstance(part, ToolResultPart)] == [tool_result]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_invalid_call_does_not_stop_a_valid_one(mode: str) -> None:
    server = Server([("call_1", "add", '{"a": 2, "b": 3}'), ("call_2", "nope", "{}")], "5")
    result = await run(make_agent(server, tools=[add]), mode)
    assert [call.invalid for call in result.steps[0].tool_calls] == [False, True]
    assert [(r.output, r.is_error) for r in result.steps[0].tool_results] == [
        ("5", False),
        (result.steps[0].tool_calls[1].error, True),
    ]
    assert [m["content"] for m in tool_messages(server, 1)] == ["5", result.steps[0].tool_calls[1].error]
    assert result.text == "5"


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("failing", "expected"),
    [(explode, "RuntimeError: boom: fuse"), (explode_async, "ValueError: async boom: fuse")],
    ids=["sync-tool", "async-tool"],
)
async def test_tool_that_raises_gives_an_error_result_and_the_run_goes_on(
    failing: Tool, expected: str, mode: str
) -> None:
    server = Server([("call_1", failing.name, '{"reason": "fuse"}')], "the tool failed, sorry")
    result = await run(make_agent(server, tools=[failing]), mode)
    (call,) = result.steps[0].tool_calls
    assert not call.invalid
    (tool_result,) = result.steps[0].tool_results
    assert tool_result.is_error
    assert tool_result.output == expected
    assert tool_messages(server, 1) == [{"role": "tool", "tool_call_id": "call_1", "content": expected}]
    assert result.text == "the tool failed, sorry"
    assert len(result.steps) == 2
    assert server.count == 2


# --- secrets ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_api_key_never_leaks(caplog: pytest.LogCaptureFixture, sleeps: list[float]) -> None:
    caplog.set_level(logging.DEBUG)
    server = Server(
        httpx2.Response(401, json={"error": {"message": "bad key", "code": 401}}),
        httpx2.ConnectError("connection refused"),
        httpx2.Response(503, text="<html>busy</html>", headers={"content-type": "text/html"}),
        httpx2.Response(200, content=b""),
        event_stream(sse(chunk({"content": "Hi"}), "{not json")),
        "fine",
    )
    provider = make_provider(server, CANARY)
    model = provider.language_model("test/model")
    agent = Agent(model, retry=RetryPolicy(max_retries=1))
    failures: list[BaseException] = []
    for mode in ("generate", "generate", "generate", "stream"):
        with pytest.raises(ReverieError) as info:
            await run(agent, mode)
        failures.append(info.value)
    parts: list[AgentStreamPart] = []
    await run(agent, "stream", parts)
    # The key did travel, so a leak would have had something to leak.
    assert all(request.headers["authorization"] == f"Bearer {CANARY}" for request in server.requests)
    assert server.count == 6
    errors: list[BaseException] = []
    for failure in failures:
        errors.append(failure)
        errors.extend(getattr(failure, "errors", []))
    assert {type(error) for error in errors} == {ProviderError, RetryError, InvalidResponseError}
    texts = [repr(provider), repr(model), repr(agent), caplog.text, repr(parts)]
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error)), repr(vars(error))]
        if isinstance(error, ProviderError):
            assert error.request_body is not None
            texts += [error.request_body, repr(error.response_headers), error.response_body or ""]
    for text in texts:
        assert CANARY not in text

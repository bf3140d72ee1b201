"""Tests of the fault server itself, driven with plain ``httpx2`` (sync)."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest

from .server import (
    DEFAULT_TEXT,
    TOOL_FINAL_TEXT,
    UTF8_TEXT,
    CutStream,
    FaultServer,
    RateLimited,
    Shape,
    Status,
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
    ok,
    parse_fault_header,
    rate_limited,
    slow_drip,
    split_utf8,
    status,
)

SHAPES: list[Shape] = ["openai", "anthropic", "gemini"]
USER_MSG = {"role": "user", "content": "Say hi"}


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def request_for(shape: Shape, stream: bool = False, **extra: Any) -> tuple[str, dict[str, Any]]:
    """Path and JSON body of a minimal request in ``shape``."""
    if shape == "openai":
        return "/v1/chat/completions", {
            "model": "gpt-test",
            "messages": [USER_MSG],
            "stream": stream,
            **extra,
        }
    if shape == "anthropic":
        body = {"model": "claude-test", "max_tokens": 64, "messages": [USER_MSG], "stream": stream, **extra}
        return "/v1/messages", body
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"/v1beta/models/gemini-test:{method}", {
        "contents": [{"role": "user", "parts": [{"text": "Say hi"}]}]
    }


def parse_sse(raw: str) -> list[tuple[str | None, str]]:
    """Split an SSE body into ``(event name, data)`` pairs."""
    events: list[tuple[str | None, str]] = []
    for block in re.split(r"\r\n\r\n|\n\n", raw):
        if not block.strip():
            continue
        name: str | None = None
        data: list[str] = []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        events.append((name, "\n".join(data)))
    return events


def stream_text(shape: Shape, events: list[tuple[str | None, str]]) -> str:
    """Concatenate the text deltas of a parsed stream."""
    out: list[str] = []
    for _name, data in events:
        if data == "[DONE]":
            continue
        obj = json.loads(data)
        if shape == "openai":
            for choice in obj.get("choices", []):
                out.append(choice["delta"].get("content") or "")
        elif shape == "anthropic":
            if obj["type"] == "content_block_delta":
                out.append(obj["delta"]["text"])
        else:
            for cand in obj.get("candidates", []):
                out.extend(p.get("text", "") for p in cand["content"]["parts"])
    return "".join(out)


def json_text(shape: Shape, obj: dict[str, Any]) -> str:
    """The answer text of a non-stream response body."""
    if shape == "openai":
        return obj["choices"][0]["message"]["content"]
    if shape == "anthropic":
        return obj["content"][0]["text"]
    return obj["candidates"][0]["content"]["parts"][0]["text"]


def post(client: httpx2.Client, shape: Shape, **kwargs: Any) -> httpx2.Response:
    path, body = request_for(shape)
    return client.post(path, json=body, **kwargs)


def read_stream(client: httpx2.Client, shape: Shape, **kwargs: Any) -> tuple[httpx2.Response, str]:
    path, body = request_for(shape, stream=True)
    with client.stream("POST", path, json=body, **kwargs) as response:
        return response, response.read().decode()


def make_client(base_url: str) -> httpx2.Client:
    """A plain-HTTP client (``verify=False`` skips loading CA certificates: ~25 ms per client)."""
    return httpx2.Client(base_url=base_url, timeout=5.0, verify=False)


def fault_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("fault-server")}


# ---------------------------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(server: FaultServer) -> Iterator[None]:
    server.reset()
    yield
    assert server.errors == []


@pytest.fixture
def client(server: FaultServer) -> Iterator[httpx2.Client]:
    with make_client(server.url) as c:
        yield c


# ---------------------------------------------------------------------------------------------
# normal answers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_normal_json_answer(client: httpx2.Client, shape: Shape) -> None:
    r = post(client, shape)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert json_text(shape, body) == DEFAULT_TEXT
    if shape == "openai":
        assert body["object"] == "chat.completion"
        assert body["model"] == "gpt-test"
        assert body["choices"][0]["finish_reason"] == "stop"
        assert (
            body["usage"]["total_tokens"]
            == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
        )
    elif shape == "anthropic":
        assert body["type"] == "message"
        assert body["content"] == [{"type": "text", "text": DEFAULT_TEXT}]
        assert body["stop_reason"] == "end_turn"
        assert set(body["usage"]) == {"input_tokens", "output_tokens"}
    else:
        assert body["candidates"][0]["finishReason"] == "STOP"
        assert body["modelVersion"] == "gemini-test"
        assert body["usageMetadata"]["totalTokenCount"] > 0


@pytest.mark.parametrize("shape", SHAPES)
def test_normal_stream(client: httpx2.Client, shape: Shape) -> None:
    r, raw = read_stream(client, shape)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    events = parse_sse(raw)
    assert stream_text(shape, events) == DEFAULT_TEXT
    if shape == "openai":
        assert events[-1][1] == "[DONE]"
        chunks = [json.loads(d) for _, d in events[:-1]]
        assert all(c["object"] == "chat.completion.chunk" for c in chunks)
        assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
        assert sum(1 for c in chunks if c["choices"][0]["delta"].get("content")) > 1  # several chunks
    elif shape == "anthropic":
        names = [n for n, _ in events]
        n_deltas = names.count("content_block_delta")
        assert n_deltas > 1
        assert names == [
            "message_start",
            "content_block_start",
            *["content_block_delta"] * n_deltas,
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
        delta = json.loads(events[-2][1])
        assert delta["delta"]["stop_reason"] == "end_turn"
        assert delta["usage"]["output_tokens"] == n_deltas
    else:
        assert "\r\n\r\n" in raw and "\n\n" not in raw.replace("\r\n\r\n", "")
        last = json.loads(events[-1][1])
        assert last["candidates"][0]["finishReason"] == "STOP"
        assert "candidatesTokenCount" in last["usageMetadata"]
        assert all("finishReason" not in json.loads(d)["candidates"][0] for _, d in events[:-1])


def test_openai_usage_chunk_only_when_requested(client: httpx2.Client) -> None:
    path, body = request_for("openai", stream=True, stream_options={"include_usage": True})
    events = parse_sse(client.post(path, json=body).text)
    usage_chunk = json.loads(events[-2][1])
    assert usage_chunk["choices"] == [] and usage_chunk["usage"]["completion_tokens"] > 0
    _, plain = read_stream(client, "openai")
    assert '"usage"' not in plain


def test_configurable_text_and_ok_override() -> None:
    with FaultServer(text="Custom answer here") as srv, make_client(srv.url) as c:
        assert json_text("openai", post(c, "openai").json()) == "Custom answer here"
        srv.script([ok("Bonjour tout le monde")])
        _, raw = read_stream(c, "anthropic")
        assert stream_text("anthropic", parse_sse(raw)) == "Bonjour tout le monde"


def test_openai_tool_call_script(client: httpx2.Client) -> None:
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    first = client.post(
        "/v1/chat/completions", json={"model": "m", "messages": [USER_MSG], "tools": tools}
    ).json()
    choice = first["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "Florence"}

    messages = [
        USER_MSG,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "40 C"},
    ]
    final = client.post("/v1/chat/completions", json={"model": "m", "messages": messages, "tools": tools})
    assert final.json()["choices"][0]["message"]["content"] == TOOL_FINAL_TEXT

    # streamed tool call: arguments arrive in fragments
    body = {"model": "m", "messages": [USER_MSG], "tools": tools, "stream": True}
    events = parse_sse(client.post("/v1/chat/completions", json=body).text)
    chunks = [json.loads(d) for _, d in events if d != "[DONE]"]
    calls = [tc for c in chunks for tc in c["choices"][0]["delta"].get("tool_calls", [])]
    assert calls[0]["function"]["name"] == "weather"
    assert json.loads("".join(tc["function"]["arguments"] for tc in calls)) == {"location": "Florence"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


# ---------------------------------------------------------------------------------------------
# scripting
# ---------------------------------------------------------------------------------------------


def test_script_is_a_queue_consumed_per_request(server: FaultServer, client: httpx2.Client) -> None:
    server.script([status(500), None, rate_limited(), ok()])
    assert server.pending_faults == 4
    codes = [post(client, "openai").status_code for _ in range(5)]
    assert codes == [500, 200, 429, 200, 200]
    assert server.pending_faults == 0
    faults = [r.fault for r in server.requests]
    assert isinstance(faults[0], Status) and faults[1] is None and isinstance(faults[2], RateLimited)
    assert faults[3] is None and faults[4] is None
    assert server.request_count == 5


def test_x_fault_header_is_ad_hoc_and_does_not_consume_script(
    server: FaultServer, client: httpx2.Client
) -> None:
    server.script([status(502)])
    assert post(client, "gemini", headers={"x-fault": "status;503"}).status_code == 503
    r = post(client, "openai", headers={"x-fault": "rate_limited;retry_after=7"})
    assert r.status_code == 429 and r.headers["retry-after"] == "7"
    assert server.pending_faults == 1
    assert post(client, "openai").status_code == 502
    bad = post(client, "openai", headers={"x-fault": "nonsense"})
    assert bad.status_code == 400 and "unknown fault" in bad.json()["error"]["message"]


def test_parse_fault_header() -> None:
    assert parse_fault_header("status;503") == status(503)
    assert parse_fault_header("cut_stream;after_events=1;mid_event=false") == CutStream(1, False)
    assert parse_fault_header("slow_drip;delay_s=0.25;chunks=3") == slow_drip(0.25, 3)
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_fault_header(f"rate_limited;retry_after={date}") == rate_limited(date)
    assert parse_fault_header("ok") == ok()
    with pytest.raises(ValueError, match="unknown fault"):
        parse_fault_header("nope")
    with pytest.raises(ValueError, match="bad arguments"):
        parse_fault_header("status;code=500;colour=red")


# ---------------------------------------------------------------------------------------------
# HTTP error faults
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_rate_limited(server: FaultServer, client: httpx2.Client, shape: Shape) -> None:
    server.script(
        [rate_limited(retry_after=2, retry_after_ms=1500), rate_limited(http_date(30)), rate_limited()]
    )
    r = post(client, shape)
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    assert r.headers["retry-after-ms"] == "1500"
    body = r.json()
    if shape == "openai":
        assert body["error"]["code"] == "rate_limit_exceeded"
    elif shape == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "rate_limit_error"
    else:
        assert body["error"]["status"] == "RESOURCE_EXHAUSTED" and body["error"]["code"] == 429
        assert body["error"]["details"][0]["retryDelay"] == "2s"
    r = post(client, shape)
    assert r.status_code == 429 and r.headers["retry-after"].endswith(" GMT")
    r = post(client, shape)
    assert r.status_code == 429 and "retry-after" not in r.headers and "retry-after-ms" not in r.headers


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("code", [500, 502, 503, 401])
def test_status_default_error_bodies(
    server: FaultServer, client: httpx2.Client, shape: Shape, code: int
) -> None:
    server.script([status(code)])
    r = post(client, shape)
    assert r.status_code == code
    err = r.json()["error"]
    if shape == "openai":
        assert err["type"] == ("invalid_request_error" if code == 401 else "server_error")
    elif shape == "anthropic":
        assert err["type"] == ("authentication_error" if code == 401 else "api_error")
    else:
        expected = {500: "INTERNAL", 502: "INTERNAL", 503: "UNAVAILABLE", 401: "UNAUTHENTICATED"}[code]
        assert err["status"] == expected and err["code"] == code


def test_status_custom_body_type_and_headers(server: FaultServer, client: httpx2.Client) -> None:
    server.script(
        [
            status(400, {"error": {"message": "custom"}}),
            status(503, "try later", content_type="text/plain", headers={"x-custom": "yes"}),
            status(529, b"\x00\x01", content_type="application/octet-stream"),
        ]
    )
    assert post(client, "openai").json() == {"error": {"message": "custom"}}
    r = post(client, "openai")
    assert (r.status_code, r.text, r.headers["content-type"], r.headers["x-custom"]) == (
        503,
        "try later",
        "text/plain",
        "yes",
    )
    r = post(client, "anthropic")
    assert (r.status_code, r.content, r.reason_phrase) == (529, b"\x00\x01", "Overloaded")


@pytest.mark.parametrize("shape", SHAPES)
def test_context_length_exceeded(server: FaultServer, client: httpx2.Client, shape: Shape) -> None:
    server.script([context_length_exceeded()])
    r = post(client, shape)
    assert r.status_code == 400
    body = r.json()
    if shape == "openai":
        assert body["error"]["code"] == "context_length_exceeded"
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["message"].startswith("This model's maximum context length is 128000 tokens")
    elif shape == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
        assert body["error"]["message"].startswith("prompt is too long: ")
    else:
        assert body["error"]["status"] == "INVALID_ARGUMENT" and body["error"]["code"] == 400
        assert body["error"]["message"].startswith("The input token count exceeds the maximum")


def test_html_error(server: FaultServer, client: httpx2.Client) -> None:
    server.script([html_error(), html_error(504)])
    r = post(client, "openai")
    assert r.status_code == 502 and r.headers["content-type"] == "text/html"
    assert r.text.startswith("<html>") and "502 Bad Gateway" in r.text
    with pytest.raises(json.JSONDecodeError):
        r.json()
    assert "504 Gateway Timeout" in post(client, "gemini").text


def test_invalid_json(server: FaultServer, client: httpx2.Client) -> None:
    server.script([invalid_json(), invalid_json()])
    r = post(client, "anthropic")
    assert r.status_code == 200 and r.content == b"{not json"
    with pytest.raises(json.JSONDecodeError):
        r.json()
    _, raw = read_stream(client, "openai")
    assert parse_sse(raw) == [(None, "{not json")]


def test_empty_body(server: FaultServer, client: httpx2.Client) -> None:
    server.script([empty_body(), empty_body()])
    r = post(client, "gemini")
    assert (r.status_code, r.headers["content-length"], r.content) == (200, "0", b"")
    r, raw = read_stream(client, "openai")
    assert (r.status_code, raw) == (200, "")


# ---------------------------------------------------------------------------------------------
# stream faults
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_cut_stream_mid_event(server: FaultServer, client: httpx2.Client, shape: Shape) -> None:
    server.script([cut_stream(after_events=2)])
    path, body = request_for(shape, stream=True)
    received = b""
    with pytest.raises(httpx2.RemoteProtocolError), client.stream("POST", path, json=body) as r:
        assert r.status_code == 200
        for piece in r.iter_raw():
            received += piece
    text = received.decode()
    sep = "\r\n\r\n" if shape == "gemini" else "\n\n"
    complete, _, partial = text.rpartition(sep)
    assert len(parse_sse(complete)) == 2
    assert "data: " in partial or partial.startswith("event:")
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial.split("data: ", 1)[-1])
    # the server is still fine afterwards
    assert post(client, shape).status_code == 200


def test_cut_stream_at_event_boundary_and_non_stream(server: FaultServer, client: httpx2.Client) -> None:
    server.script([cut_stream(after_events=3, mid_event=False), cut_stream()])
    path, body = request_for("openai", stream=True)
    received = b""
    with pytest.raises(httpx2.RemoteProtocolError), client.stream("POST", path, json=body) as r:
        for piece in r.iter_raw():
            received += piece
    assert received.endswith(b"\n\n") and len(parse_sse(received.decode())) == 3
    with pytest.raises(httpx2.RemoteProtocolError):
        post(client, "openai")  # Content-Length announced, half the body sent


@pytest.mark.parametrize("shape", SHAPES)
def test_no_finish(server: FaultServer, client: httpx2.Client, shape: Shape) -> None:
    server.script([no_finish()])
    _, raw = read_stream(client, shape)  # ends cleanly: no exception
    events = parse_sse(raw)
    assert stream_text(shape, events) == DEFAULT_TEXT
    if shape == "openai":
        assert "[DONE]" not in raw
        assert all(json.loads(d)["choices"][0]["finish_reason"] is None for _, d in events)
    elif shape == "anthropic":
        names = [n for n, _ in events]
        assert "message_stop" not in names and "message_delta" not in names
    else:
        assert "finishReason" not in raw
    # the connection was kept alive (clean chunked end)
    assert post(client, shape).status_code == 200
    assert server.total_connections == 1


@pytest.mark.parametrize("shape", SHAPES)
def test_inband_error(server: FaultServer, client: httpx2.Client, shape: Shape) -> None:
    server.script([inband_error(), inband_error()])
    r, raw = read_stream(client, shape)
    assert r.status_code == 200
    events = parse_sse(raw)
    assert stream_text(shape, events[:-1]) == "Hello"
    name, data = events[-1]
    err = json.loads(data)
    if shape == "openai":
        assert err == {"error": {"message": "overloaded", "type": "server_error"}}
    elif shape == "anthropic":
        assert name == "error"
        assert err == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    else:
        assert err == {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    r = post(client, shape)
    assert r.status_code == 200 and r.json() == err


@pytest.mark.parametrize("shape", SHAPES)
def test_split_utf8_stream(server: FaultServer, client: httpx2.Client, shape: Shape) -> None:
    server.script([split_utf8()])
    path, body = request_for(shape, stream=True)
    with client.stream("POST", path, json=body) as r:
        pieces = list(r.iter_raw())
    broken = 0
    for piece in pieces:
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            broken += 1
    assert broken > 0, "no TCP read ended inside a multi-byte character"
    assert stream_text(shape, parse_sse(b"".join(pieces).decode())) == UTF8_TEXT


def test_split_utf8_json(server: FaultServer, client: httpx2.Client) -> None:
    server.script([split_utf8("Ça marche — 日本語 ✓")])
    path, body = request_for("anthropic")
    with client.stream("POST", path, json=body) as r:
        pieces = list(r.iter_raw())
    assert len(pieces) > 3
    assert json_text("anthropic", json.loads(b"".join(pieces))) == "Ça marche — 日本語 ✓"


def test_slow_drip_trips_read_timeout(server: FaultServer, client: httpx2.Client) -> None:
    timeout = httpx2.Timeout(2.0, read=0.1)
    server.script([slow_drip(delay_s=0.5), slow_drip(delay_s=0.5), slow_drip(initial_delay_s=0.5)])
    path, body = request_for("openai", stream=True)
    with pytest.raises(httpx2.ReadTimeout), client.stream("POST", path, json=body, timeout=timeout) as r:
        assert r.status_code == 200  # headers and first event arrive at once
        for _ in r.iter_raw():
            pass
    with pytest.raises(httpx2.ReadTimeout):
        post(client, "anthropic", timeout=timeout)
    with pytest.raises(httpx2.ReadTimeout):
        post(client, "gemini", timeout=timeout)  # no status line within the read timeout


def test_open_connections_drop_when_client_abandons_a_drip() -> None:
    with FaultServer() as srv, make_client(srv.url) as c:
        srv.script([slow_drip(delay_s=5)])
        path, body = request_for("anthropic", stream=True)
        with c.stream("POST", path, json=body) as r:
            pieces = r.iter_raw()  # keep a reference: a collected iterator closes the response
            assert next(pieces).startswith(b"event: message_start")  # then the server waits 5 s
            time.sleep(0.1)
            assert srv.open_connections == 1
        start = time.monotonic()
        assert srv.wait_for_connections_closed(2.0)  # noticed while the server is still "sleeping"
        assert time.monotonic() - start < 1.0


def test_slow_drip_completes_slowly(server: FaultServer, client: httpx2.Client) -> None:
    server.script([slow_drip(delay_s=0.03, chunks=3)])
    start = time.monotonic()
    path, body = request_for("gemini", stream=True)
    arrivals: list[float] = []
    received = b""
    with client.stream("POST", path, json=body) as r:
        for piece in r.iter_raw():
            arrivals.append(time.monotonic() - start)
            received += piece
    # gemini: one event per text chunk; the first one is sent with the headers, then 2 delays
    events = parse_sse(received.decode())
    assert len(events) == 3 and len(arrivals) >= 3
    assert arrivals[-1] - arrivals[0] >= 0.05
    assert stream_text("gemini", events) == DEFAULT_TEXT


def test_connection_reset(server: FaultServer, client: httpx2.Client) -> None:
    server.script([connection_reset()])
    with pytest.raises(httpx2.TransportError) as info:
        post(client, "openai")
    assert isinstance(info.value, httpx2.ReadError | httpx2.RemoteProtocolError)
    assert server.request_count == 1  # the request was read before the reset
    assert post(client, "openai").status_code == 200


def test_huge_json(server: FaultServer, client: httpx2.Client) -> None:
    server.script([huge(3_000_000), huge()])
    r = post(client, "openai")
    assert r.status_code == 200
    content = json_text("openai", r.json())
    assert len(content) == 3_000_000 and int(r.headers["content-length"]) > 3_000_000
    # the default (50 MB) is announced up front; the client may give up without reading it
    path, body = request_for("anthropic")
    with client.stream("POST", path, json=body) as r:
        assert int(r.headers["content-length"]) > 50_000_000
        first = next(r.iter_raw())
        assert first.startswith(b'{"id":"msg_fault_')
    assert post(client, "anthropic").status_code == 200


@pytest.mark.parametrize("single_event", [True, False])
def test_huge_stream(server: FaultServer, client: httpx2.Client, single_event: bool) -> None:
    server.script([huge(1_000_000, single_event=single_event)])
    _, raw = read_stream(client, "openai")
    events = parse_sse(raw)
    assert len(stream_text("openai", events)) == 1_000_000
    data_events = [d for _, d in events if '"content":"a' in d]
    assert len(data_events) == (1 if single_event else 62)
    assert events[-1][1] == "[DONE]"


# ---------------------------------------------------------------------------------------------
# introspection, routing, lifecycle
# ---------------------------------------------------------------------------------------------


def test_requests_are_recorded(server: FaultServer, client: httpx2.Client) -> None:
    path, body = request_for("gemini", stream=True)
    client.post(path, json=body, headers={"X-Api-Key": "secret"})
    (rec,) = server.requests
    assert (rec.method, rec.path, rec.query, rec.shape) == ("POST", path.split("?")[0], "alt=sse", "gemini")
    assert rec.headers["x-api-key"] == "secret" and rec.headers["content-type"] == "application/json"
    assert rec.json == body and json.loads(rec.body) == body


def test_chunked_request_body(server: FaultServer, client: httpx2.Client) -> None:
    payload = json.dumps({"model": "m", "messages": [USER_MSG]}).encode()
    r = client.post("/v1/chat/completions", content=iter([payload[:10], payload[10:]]))
    assert r.status_code == 200
    assert server.requests[0].headers["transfer-encoding"] == "chunked"
    assert server.requests[0].json["model"] == "m"


def test_raw_http_expect_continue_and_connection_close(server: FaultServer) -> None:
    body = json.dumps({"model": "m", "messages": [USER_MSG]}).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(head.encode())
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        data = b""
        while chunk := sock.recv(65536):  # the server closes after answering
            data += chunk
    status_line, _, rest = data.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert json_text("openai", json.loads(rest.split(b"\r\n\r\n", 1)[1])) == DEFAULT_TEXT


def test_routes(server: FaultServer, client: httpx2.Client) -> None:
    server.script([status(500)])
    assert client.get("/health").json() == {"status": "ok"}
    assert client.post("/v2/unknown", json={}).status_code == 404
    assert client.get("/v1/chat/completions").status_code == 405
    assert client.post("/v1/messages", content=b"{broken").status_code == 400
    assert server.pending_faults == 1  # none of these consumed the script
    assert (
        client.post("/api/v1/chat/completions", json={"messages": []}).status_code == 500
    )  # prefixed base URL
    assert server.request_count == 5


def test_connection_accounting() -> None:
    with FaultServer() as srv:
        assert (srv.open_connections, srv.total_connections) == (0, 0)
        with make_client(srv.url) as a, make_client(srv.url) as b:
            for _ in range(3):  # keep-alive: one connection per client
                assert post(a, "openai").status_code == 200
                assert read_stream(b, "anthropic")[0].status_code == 200
            assert srv.open_connections == 2
            assert srv.total_connections == 2
        assert srv.wait_for_connections_closed(2.0)
        assert srv.open_connections == 0
        assert srv.max_open_connections == 2
        assert srv.request_count == 6
        # raw sockets: accept increments, close decrements
        socks = [socket.create_connection((srv.host, srv.port)) for _ in range(3)]
        deadline = time.monotonic() + 2
        while srv.open_connections < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert srv.open_connections == 3 and srv.max_open_connections == 3
        for s in socks:
            s.close()
        assert srv.wait_for_connections_closed(2.0)
        assert srv.total_connections == 5


def test_close_joins_threads_and_refuses_connections() -> None:
    before = fault_threads()
    srv = FaultServer()
    assert fault_threads() - before  # accept + watchdog threads are running
    with make_client(srv.url) as c:
        assert post(c, "openai").status_code == 200
        srv.script([slow_drip(delay_s=10)])
        path, body = request_for("openai", stream=True)
        start = time.monotonic()
        with pytest.raises(httpx2.TransportError), c.stream("POST", path, json=body) as r:
            srv.close()  # interrupts the drip at once
            for _ in r.iter_raw():
                pass
        assert time.monotonic() - start < 2
    assert srv.closed and srv.closed_reason == "closed"
    assert not fault_threads() - before
    assert srv.open_connections == 0
    srv.close()  # idempotent
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(srv.url + "/health", verify=False)


def test_watchdog_closes_idle_or_old_server() -> None:
    before = fault_threads()
    idle = FaultServer(idle_timeout=0.2)
    old = FaultServer(idle_timeout=None, max_lifetime=0.3)
    with make_client(old.url) as c:
        deadline = time.monotonic() + 3
        while not (idle.closed and old.closed) and time.monotonic() < deadline:
            if not old.closed:
                # activity does not extend the max lifetime (the server may close mid-request)
                with contextlib.suppress(httpx2.TransportError):
                    c.get("/health")
            time.sleep(0.02)
    assert idle.closed_reason == "watchdog: idle for 0.2 s"
    assert old.closed_reason == "watchdog: max lifetime 0.3 s"
    idle.close()
    old.close()
    assert not fault_threads() - before

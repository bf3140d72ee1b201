"""Mock OpenAI-compatible chat-completions server for the benchmarks (standard library only).

A raw HTTP/1.1 server on an ``asyncio.Protocol``: keep-alive, one process, response bytes precomputed
per (mode, chunk count, streaming, model) and memoised per request body, so the server spends a few
microseconds per request and is never the bottleneck (the harness reports its CPU beside the clients').

Routes:

* ``POST /v1/chat/completions`` - JSON, or an SSE stream when the body has ``"stream": true``.
  The chunk count comes from the model name suffix (``bench-1000``) or the ``x-bench-chunks`` header.
  With ``tools`` and no ``role: "tool"`` message the answer is a ``weather`` tool call; with a tool
  message it is the final answer (``It is 40 C in Florence.`` when the tool result says ``40 C``).
* ``GET /__stats`` - the server's own CPU time (rusage) and request count, as JSON.
* ``GET /health`` - ``ok``.

It listens on 127.0.0.1 only, prints ``LISTENING <port>`` once ready, and stops by itself after
``--idle-timeout`` seconds without a request, after ``--max-duration`` seconds, when its parent
process dies, or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import sys
import time
from collections import OrderedDict
from typing import Any

from common import (
    AGENT_ANSWER,
    TOOL_CALL_ID,
    TOOL_LOCATION,
    TOOL_NAME,
    TOOL_RESULT,
    text_piece,
    tokens_for_model,
)

CREATED = 1_700_000_000
COMPLETION_ID = "chatcmpl-bench"
FINGERPRINT = "fp_bench"
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
BODY_CACHE_SIZE = 1024
Response = tuple[bytes, bool]


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": 10,
        "completion_tokens": completion_tokens,
        "total_tokens": 10 + completion_tokens,
    }


def _http(status: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
        f"x-request-id: req_bench\r\n{extra}\r\n"
    )
    return head.encode("ascii") + body


def _json_response(obj: object, status: str = "200 OK") -> bytes:
    return _http(status, "application/json", _dumps(obj).encode())


def _tool_call(arguments: str) -> dict[str, Any]:
    return {"id": TOOL_CALL_ID, "type": "function", "function": {"name": TOOL_NAME, "arguments": arguments}}


def _completion(model: str, message: dict[str, Any], finish: str, tokens: int) -> dict[str, Any]:
    return {
        "id": COMPLETION_ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": _usage(tokens),
        "system_fingerprint": FINGERPRINT,
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> str:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _dumps(
        {
            "id": COMPLETION_ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": model,
            "system_fingerprint": FINGERPRINT,
            "choices": [choice],
        }
    )


def _sse(model: str, deltas: list[dict[str, Any]], finish: str) -> bytes:
    """An SSE body: role chunk, one chunk per delta, finish chunk, usage chunk, ``[DONE]``."""
    events = [_chunk(model, {"role": "assistant", "content": "", "refusal": None})]
    events.extend(_chunk(model, delta) for delta in deltas)
    events.append(_chunk(model, {}, finish))
    usage = {
        "id": COMPLETION_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": FINGERPRINT,
        "choices": [],
        "usage": _usage(len(deltas)),
    }
    events.append(_dumps(usage))
    events.append("[DONE]")
    body = "".join(f"data: {event}\n\n" for event in events).encode()
    return _http("200 OK", "text/event-stream; charset=utf-8", body, "cache-control: no-cache\r\n")


def build_response(mode: str, tokens: int, stream: bool, model: str, final_text: str) -> bytes:
    """Build the full HTTP response bytes for one kind of answer."""
    if mode == "tool_call":
        arguments = _dumps({"location": TOOL_LOCATION})
        if stream:
            half = len(arguments) // 2
            first = {"tool_calls": [{"index": 0, **_tool_call("")}]}
            parts = [
                {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}
                for a in (arguments[:half], arguments[half:])
            ]
            return _sse(model, [first, *parts], "tool_calls")
        message = {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "tool_calls": [_tool_call(arguments)],
        }
        return _json_response(_completion(model, message, "tool_calls", 12))
    if mode == "final":
        pieces = [piece + " " for piece in final_text.split(" ")]
        pieces[-1] = pieces[-1][:-1]
        if stream:
            return _sse(model, [{"content": piece} for piece in pieces], "stop")
        message = {"role": "assistant", "content": final_text, "refusal": None}
        return _json_response(_completion(model, message, "stop", len(pieces)))
    if stream:
        return _sse(model, [{"content": text_piece(i)} for i in range(tokens)], "stop")
    content = "".join(text_piece(i) for i in range(tokens))
    message = {"role": "assistant", "content": content, "refusal": None}
    return _json_response(_completion(model, message, "stop", tokens))


def _tool_message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def classify(request: dict[str, Any]) -> tuple[str, str]:
    """Return (mode, final text) for a chat-completions request body."""
    messages = request.get("messages") or []
    tool_messages = [m for m in messages if isinstance(m, dict) and m.get("role") == "tool"]
    if tool_messages:
        ok = all(TOOL_RESULT in _tool_message_text(m) for m in tool_messages) and len(tool_messages) == 1
        return "final", AGENT_ANSWER if ok else "Unexpected tool messages."
    tools = request.get("tools") or []
    names = {t.get("function", {}).get("name") for t in tools if isinstance(t, dict)}
    if TOOL_NAME in names:
        return "tool_call", ""
    if tools:
        return "final", "No weather tool was offered."
    return "text", ""


class ServerState:
    """Response caches, counters and the activity clock shared by all connections."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.last_activity = self.started
        self.requests = 0
        self.connections = 0
        self._responses: dict[tuple[str, int, bool, str, str], bytes] = {}
        self._by_body: OrderedDict[tuple[bytes, bytes], bytes] = OrderedDict()

    def stats(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "requests": self.requests,
            "connections": self.connections,
            "uptime_s": time.monotonic() - self.started,
            "maxrss_kb": usage.ru_maxrss,
        }

    def handle(self, method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes) -> Response:
        """Answer one request; returns (response bytes, close connection afterwards)."""
        self.last_activity = time.monotonic()
        close = headers.get(b"connection", b"").lower() == b"close"
        route = path.split(b"?", 1)[0]
        if method == b"POST" and route in (b"/v1/chat/completions", b"/chat/completions"):
            self.requests += 1
            return self._chat(body, headers.get(b"x-bench-chunks", b"")), close
        if method == b"GET" and route == b"/__stats":
            return _json_response(self.stats()), close
        if method == b"GET" and route == b"/health":
            return _http("200 OK", "text/plain", b"ok"), close
        error = {"error": {"message": f"no route {method.decode()} {route.decode()}", "type": "not_found"}}
        return _json_response(error, "404 Not Found"), close

    def _chat(self, body: bytes, chunks_header: bytes) -> bytes:
        key = (body, chunks_header)
        cached = self._by_body.get(key)
        if cached is not None:
            return cached
        response = self._chat_uncached(body, chunks_header)
        self._by_body[key] = response
        if len(self._by_body) > BODY_CACHE_SIZE:
            self._by_body.popitem(last=False)
        return response

    def _chat_uncached(self, body: bytes, chunks_header: bytes) -> bytes:
        try:
            request = json.loads(body)
            model = str(request.get("model", "bench"))
        except (ValueError, AttributeError) as exc:
            return _json_response({"error": {"message": f"bad JSON: {exc}"}}, "400 Bad Request")
        tokens = int(chunks_header) if chunks_header.isdigit() else tokens_for_model(model)
        mode, final_text = classify(request)
        key = (mode, tokens, bool(request.get("stream")), model, final_text)
        response = self._responses.get(key)
        if response is None:
            response = self._responses[key] = build_response(mode, tokens, key[2], model, final_text)
        return response


def _parse_head(head: bytes) -> tuple[bytes, bytes, dict[bytes, bytes]]:
    lines = head.split(b"\r\n")
    method, path, _ = lines[0].split(b" ", 2)
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return method, path, headers


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked request body starting at ``start``; None while incomplete."""
    body = bytearray()
    pos = start
    while True:
        eol = buffer.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buffer[pos:eol]).split(b";", 1)[0], 16)
        if size == 0:
            end = buffer.find(b"\r\n\r\n", eol)
            return (bytes(body), end + 4) if end >= 0 else None
        if len(buffer) < eol + 2 + size + 2:
            return None
        body += buffer[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


class HttpProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; handles pipelined requests in order."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.state.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections -= 1
        self.transport = None

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and self._handle_one():
            pass

    def _handle_one(self) -> bool:
        """Handle one complete request from the buffer; False when more data is needed."""
        assert self.transport is not None
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEADER_BYTES:
                self.transport.close()
            return False
        try:
            method, path, headers = _parse_head(bytes(self.buffer[:end]))
            if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
                decoded = _dechunk(self.buffer, end + 4)
                if decoded is None:
                    return False
                body, consumed = decoded
            else:
                length = int(headers.get(b"content-length", b"0"))
                if length > MAX_BODY_BYTES:
                    raise ValueError("body too large")
                if len(self.buffer) < end + 4 + length:
                    return False
                body, consumed = bytes(self.buffer[end + 4 : end + 4 + length]), end + 4 + length
        except ValueError:
            self.transport.write(
                _http("400 Bad Request", "text/plain", b"bad request", "connection: close\r\n")
            )
            self.transport.close()
            return False
        del self.buffer[:consumed]
        response, close = self.state.handle(method, path, headers, body)
        self.transport.write(response)
        if close:
            self.transport.close()
            return False
        return True


async def _watchdog(state: ServerState, stop: asyncio.Event, args: argparse.Namespace) -> None:
    """Stop the server when idle, too old, or orphaned."""
    while not stop.is_set():
        now = time.monotonic()
        orphaned = args.parent_pid and os.getppid() != args.parent_pid
        if (
            orphaned
            or now - state.last_activity > args.idle_timeout
            or now - state.started > args.max_duration
        ):
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


async def serve(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    state = ServerState()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = await loop.create_server(lambda: HttpProtocol(state), "127.0.0.1", args.port, backlog=2048)
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)
    async with server:
        await _watchdog(state, stop, args)
    print(f"STOPPED {_dumps(state.stats())}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: pick a free one)")
    parser.add_argument("--idle-timeout", type=float, default=300.0, help="seconds without a request")
    parser.add_argument("--max-duration", type=float, default=3 * 3600.0, help="seconds of lifetime at most")
    parser.add_argument("--parent-pid", type=int, default=0, help="stop when this parent process is gone")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Mock OpenAI-compatible chat-completions server for the benchmarks (standard library only).

A raw HTTP/1.1 server on an ``asyncio.Protocol``: keep-alive, one process, response bytes precomputed
per (mode, chunk count, streaming, model) and memoised per request body, so the server spends a few
microseconds per request and is never the bottleneck (the harness reports its CPU beside the clients').

Routes:

* ``POST /v1/chat/completions`` - JSON, or an SSE stream when the body has ``"stream": true``.
  The chunk count comes from the model name suffix (``bench-1000``) or the ``x-bench-chunks`` header.
  With ``tools`` and no ``role: "tool"`` message the answer is a ``weather`` tool call; with a tool
  message it is the final answer (``It is 40 C in Florence.`` when the tool result says ``40 C``).
  With an ``x-bench-tool-steps: N`` header (and the ``weather`` tool offered) it answers N tool
  calls, one per request (ids ``call_bench_weather_0``, ``_1``, ...), then the final answer once N
  tool messages carry ``40 C``. An ``x-bench-delay-ms`` header delays the answer (the connection
  stays open, as an LLM thinking). Text streams longer than ``LAZY_STREAM_TOKENS`` chunks are
  generated while they are sent (same bytes, same ``Content-Length``), not held in memory.
* ``GET /__stats`` - the server's own CPU time (rusage), request count and ``body_digest``, a sum
  (mod 2**64) of a hash of every chat request body as canonical JSON: two clients that sent
  JSON-equal bodies in a window add the same amount, whatever their order or formatting.
* ``GET /health`` - ``ok``.

It listens on 127.0.0.1 only, prints ``LISTENING <port>`` once ready, and stops by itself after
``--idle-timeout`` seconds without a request, after ``--max-duration`` seconds, when its parent
process dies, or on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import resource
import signal
import sys
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from common import (
    AGENT_ANSWER,
    TOOL_CALL_ID,
    TOOL_LOCATION,
    TOOL_NAME,
    TOOL_RESULT,
    raise_open_files_limit,
    text_piece,
    tokens_for_model,
)

CREATED = 1_700_000_000
COMPLETION_ID = "chatcmpl-bench"
FINGERPRINT = "fp_bench"
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
BODY_CACHE_SIZE = 1024
LAZY_STREAM_TOKENS = 20_000
"""Text streams with more chunks are generated while sent (a 500k-chunk stream is ~100 MB)."""
LAZY_BLOCK_CHUNKS = 2_000
DIGEST_MODULUS = 2**64
PIECE_MARK = "@PIECE@"


@dataclass(frozen=True)
class LazyStream:
    """A long text stream: its HTTP head and SSE bytes, produced block by block when sent."""

    model: str
    tokens: int

    def _parts(self) -> tuple[str, str, str, str]:
        """(first event, text event prefix, text event suffix, last events) as SSE text."""
        full = _sse_text(self.model, [{"content": PIECE_MARK}], "stop", self.tokens)
        first, text_event, last = full.split("\n\n", 2)  # compact JSON has no blank lines
        prefix, suffix = text_event.split(PIECE_MARK)
        return first + "\n\n", prefix, suffix + "\n\n", last

    def blocks(self) -> Iterator[bytes]:
        """The whole HTTP response: head, then the body in blocks of ``LAZY_BLOCK_CHUNKS`` events."""
        first, prefix, suffix, last = self._parts()
        fixed = len(prefix) + len(suffix)
        length = len(first) + len(last) + sum(fixed + len(text_piece(i)) for i in range(self.tokens))
        head = _http_head("200 OK", "text/event-stream; charset=utf-8", length, "cache-control: no-cache\r\n")
        yield head + first.encode()
        for start in range(0, self.tokens, LAZY_BLOCK_CHUNKS):
            end = min(start + LAZY_BLOCK_CHUNKS, self.tokens)
            yield "".join(f"{prefix}{text_piece(i)}{suffix}" for i in range(start, end)).encode()
        yield last.encode()


Body = bytes | LazyStream
Response = tuple[Body, bool, float]
"""(response, close the connection afterwards, delay in seconds)."""


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _usage(completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": 10,
        "completion_tokens": completion_tokens,
        "total_tokens": 10 + completion_tokens,
    }


def _http_head(status: str, content_type: str, length: int, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {length}\r\n"
        f"x-request-id: req_bench\r\n{extra}\r\n"
    )
    return head.encode("ascii")


def _http(status: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    return _http_head(status, content_type, len(body), extra) + body


def _json_response(obj: object, status: str = "200 OK") -> bytes:
    return _http(status, "application/json", _dumps(obj).encode())


def _tool_call(arguments: str, call_id: str = TOOL_CALL_ID) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": TOOL_NAME, "arguments": arguments}}


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


def _sse_text(model: str, deltas: list[dict[str, Any]], finish: str, tokens: int | None = None) -> str:
    """An SSE body: role chunk, one chunk per delta, finish chunk, usage chunk, ``[DONE]``.

    ``tokens`` is the completion token count of the usage chunk (default: one per delta).
    """
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
        "usage": _usage(len(deltas) if tokens is None else tokens),
    }
    events.append(_dumps(usage))
    events.append("[DONE]")
    return "".join(f"data: {event}\n\n" for event in events)


def _sse(model: str, deltas: list[dict[str, Any]], finish: str) -> bytes:
    body = _sse_text(model, deltas, finish).encode()
    return _http("200 OK", "text/event-stream; charset=utf-8", body, "cache-control: no-cache\r\n")


def build_response(mode: str, tokens: int, stream: bool, model: str, final_text: str) -> Body:
    """Build the full HTTP response bytes for one kind of answer (``final_text``: for a tool call,
    its id, "" for the default one); a long text stream is a ``LazyStream``."""
    if mode == "tool_call":
        arguments = _dumps({"location": TOOL_LOCATION})
        call_id = final_text or TOOL_CALL_ID
        if stream:
            half = len(arguments) // 2
            first = {"tool_calls": [{"index": 0, **_tool_call("", call_id)}]}
            parts = [
                {"tool_calls": [{"index": 0, "function": {"arguments": a}}]}
                for a in (arguments[:half], arguments[half:])
            ]
            return _sse(model, [first, *parts], "tool_calls")
        message = {
            "role": "assistant",
            "content": None,
            "refusal": None,
            "tool_calls": [_tool_call(arguments, call_id)],
        }
        return _json_response(_completion(model, message, "tool_calls", 12))
    if mode == "final":
        pieces = [piece + " " for piece in final_text.split(" ")]
        pieces[-1] = pieces[-1][:-1]
        if stream:
            return _sse(model, [{"content": piece} for piece in pieces], "stop")
        message = {"role": "assistant", "content": final_text, "refusal": None}
        return _json_response(_completion(model, message, "stop", len(pieces)))
    if stream and tokens > LAZY_STREAM_TOKENS:
        return LazyStream(model, tokens)
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


def classify(request: dict[str, Any], tool_steps: int | None = None) -> tuple[str, str]:
    """Return (mode, final text) for a chat-completions request body; for a tool call, the text is
    the call's id ("" for the default one). ``tool_steps``: the ``x-bench-tool-steps`` header."""
    messages = request.get("messages") or []
    tool_messages = [m for m in messages if isinstance(m, dict) and m.get("role") == "tool"]
    tools = request.get("tools") or []
    names = {t.get("function", {}).get("name") for t in tools if isinstance(t, dict)}
    if tool_steps is not None and TOOL_NAME in names:
        done = len(tool_messages)
        if done < tool_steps:
            return "tool_call", f"{TOOL_CALL_ID}_{done}"
        ok = done == tool_steps and all(TOOL_RESULT in _tool_message_text(m) for m in tool_messages)
        return "final", AGENT_ANSWER if ok else "Unexpected tool messages."
    if tool_messages:
        ok = all(TOOL_RESULT in _tool_message_text(m) for m in tool_messages) and len(tool_messages) == 1
        return "final", AGENT_ANSWER if ok else "Unexpected tool messages."
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
        self.body_digest = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self._responses: dict[tuple[str, int, bool, str, str], Body] = {}
        self._by_body: OrderedDict[tuple[bytes, bytes, bytes], tuple[Body, int]] = OrderedDict()

    def stats(self) -> dict[str, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "requests": self.requests,
            "connections": self.connections,
            "uptime_s": time.monotonic() - self.started,
            "maxrss_kb": usage.ru_maxrss,
            "body_digest": self.body_digest,
        }

    def handle(self, method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes) -> Response:
        """Answer one request; returns (response, close connection afterwards, delay in seconds)."""
        self.last_activity = time.monotonic()
        close = headers.get(b"connection", b"").lower() == b"close"
        route = path.split(b"?", 1)[0]
        if method == b"POST" and route in (b"/v1/chat/completions", b"/chat/completions"):
            self.requests += 1
            delay = headers.get(b"x-bench-delay-ms", b"")
            key = (body, headers.get(b"x-bench-chunks", b""), headers.get(b"x-bench-tool-steps", b""))
            return self._chat(key), close, int(delay) / 1000 if delay.isdigit() else 0.0
        if method == b"GET" and route == b"/__stats":
            return _json_response(self.stats()), close, 0.0
        if method == b"GET" and route == b"/health":
            return _http("200 OK", "text/plain", b"ok"), close, 0.0
        error = {"error": {"message": f"no route {method.decode()} {route.decode()}", "type": "not_found"}}
        return _json_response(error, "404 Not Found"), close, 0.0

    def _chat(self, key: tuple[bytes, bytes, bytes]) -> Body:
        cached = self._by_body.get(key)
        if cached is None:
            cached = self._by_body[key] = self._chat_uncached(*key)
            if len(self._by_body) > BODY_CACHE_SIZE:
                self._by_body.popitem(last=False)
        response, digest = cached
        self.body_digest = (self.body_digest + digest) % DIGEST_MODULUS
        return response

    def _chat_uncached(self, body: bytes, chunks_header: bytes, steps_header: bytes) -> tuple[Body, int]:
        """The response to a chat request body and the body's digest (see ``body_digest``)."""
        try:
            request = json.loads(body)
            model = str(request.get("model", "bench"))
        except (ValueError, AttributeError) as exc:
            error = {"error": {"message": f"bad JSON: {exc}"}}
            return _json_response(error, "400 Bad Request"), body_digest(body)
        digest = body_digest(json.dumps(request, sort_keys=True, separators=(",", ":")).encode())
        tokens = int(chunks_header) if chunks_header.isdigit() else tokens_for_model(model)
        mode, final_text = classify(request, int(steps_header) if steps_header.isdigit() else None)
        key = (mode, tokens, bool(request.get("stream")), model, final_text)
        response = self._responses.get(key)
        if response is None:
            response = self._responses[key] = build_response(mode, tokens, key[2], model, final_text)
        return response, digest


def body_digest(canonical: bytes) -> int:
    """A 64-bit hash of a request body (as canonical JSON), summed over requests into ``body_digest``."""
    return int.from_bytes(hashlib.blake2b(canonical, digest_size=8).digest(), "big")


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
    """One keep-alive HTTP/1.1 connection; handles pipelined requests in order.

    A delayed or generated (``LazyStream``) response is sent by a task; the next request of the
    connection waits for it, and generated blocks wait while the transport's buffer is full.
    """

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.sending = False
        self.writable = asyncio.Event()
        self.writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.state.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.state.connections -= 1
        self.transport = None
        self.writable.set()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._handle_buffered()

    def _handle_buffered(self) -> None:
        while self.transport is not None and not self.sending and self._handle_one():
            pass

    async def _send_later(self, response: Body, close: bool, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
            blocks = [response] if isinstance(response, bytes) else response.blocks()
            for block in blocks:
                if self.transport is None:
                    return
                self.transport.write(block)
                await self.writable.wait()
            if close and self.transport is not None:
                self.transport.close()
        finally:
            self.sending = False
        self._handle_buffered()

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
        response, close, delay = self.state.handle(method, path, headers, body)
        if delay > 0 or not isinstance(response, bytes):
            self.sending = True
            task = asyncio.get_running_loop().create_task(self._send_later(response, close, delay))
            self.state.tasks.add(task)
            task.add_done_callback(self.state.tasks.discard)
            return False
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
    server = await loop.create_server(lambda: HttpProtocol(state), "127.0.0.1", args.port, backlog=8192)
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
    raise_open_files_limit()
    asyncio.run(serve(parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

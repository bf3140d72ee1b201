"""A loopback chat-completions server whose answers follow each run's own conversation.

Many runs share it at once, so it keeps no script queue: it answers a request by what the
request holds. The run is named by its first user message; its step is the number of tool
messages so far. Step 0 calls ``lookup``, step 1 calls ``slow_lookup``, step 2 calls
``lookup`` again, and step 3 answers with text that quotes every tool result, so a run's
result shows that each tool result reached the model. JSON, or SSE when the body asks to
stream. It counts the requests per run and step (``count``), which tells whether a request
was sent again, and keeps when each came and from which worker process (``requests``; the
tests' agent names its process in an ``x-worker-pid`` header).

A test can slow one step of a run down (``pace``): wait before answering at all (a model that
thinks before its first token), and stream the answer in small chunks with a pause between them.
Only the first request of that step is slowed: a request sent again, or the in-process run a
test compares with, is answered at full speed.

It listens on ``127.0.0.1`` (an ephemeral port) in daemon threads of the test process and
stops by itself: on ``close()`` (or leaving ``with``), or ``lifetime`` seconds after it started.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
TOOLS_BY_STEP = ("lookup", "slow_lookup", "lookup")
"""The tool each step calls; the step after the last answers with text."""


@dataclass(frozen=True)
class Pace:
    """How slowly the first request of a step is answered."""

    first_byte: float = 0.0
    """Seconds before the response starts (headers included)."""
    between_chunks: float = 0.0
    """Seconds between two chunks of a streamed answer's text."""
    chunk_size: int = 8
    """Characters of text per chunk."""


@dataclass
class Request:
    """One request the server received: when, from which worker, and how far its answer got."""

    at: float
    """``time.monotonic()`` when it arrived (the server runs in the test's process)."""
    worker: int | None
    """The sender's ``x-worker-pid`` header."""
    chunks_sent: int = 0
    """Text chunks streamed so far."""
    finished: bool = False
    """Whether the whole answer was sent."""
    dropped: bool = False
    """Whether the client went away before the end."""


def final_text(results: list[str]) -> str:
    """What the last step answers, given the run's tool results in order."""
    return "answer: " + " | ".join(results)


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    block_on_close = False
    model: ModelServer


class _Handler(BaseHTTPRequestHandler):
    server: _Listener

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        messages: list[dict[str, Any]] = body.get("messages") or []
        prompt = next((str(item.get("content")) for item in messages if item.get("role") == "user"), "")
        results = [str(item.get("content")) for item in messages if item.get("role") == "tool"]
        step = len(results)
        worker = self.headers.get("x-worker-pid")
        request, pace = self.server.model.record(prompt, step, int(worker) if worker else None)
        if pace.first_byte and self.server.model.closed.wait(pace.first_byte):
            return  # the server closed while the model was "thinking"
        if step < len(TOOLS_BY_STEP):
            call = (TOOLS_BY_STEP[step], {"item": f"{prompt}#{step}"})
            text = ""
        else:
            call = None
            text = final_text(results)
        try:
            if body.get("stream"):
                self._stream(step, text, call, request, pace)
            else:
                self._whole(step, text, call)
            request.finished = True
        except (BrokenPipeError, ConnectionResetError):
            request.dropped = True

    def _whole(self, step: int, text: str, call: tuple[str, dict[str, Any]] | None) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if call is not None:
            function = {"name": call[0], "arguments": json.dumps(call[1])}
            message["tool_calls"] = [{"id": f"call_{step}", "type": "function", "function": function}]
        else:
            message["content"] = text
        payload = {
            "id": f"chatcmpl-{step}",
            "model": "stub-model",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if call else "stop"}],
            "usage": USAGE,
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(
        self, step: int, text: str, call: tuple[str, dict[str, Any]] | None, request: Request, pace: Pace
    ) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()

        def send(delta: dict[str, Any], reason: str | None = None) -> None:
            chunk = {
                "id": f"chatcmpl-{step}",
                "model": "stub-model",
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        send({"role": "assistant", "content": ""})
        if call is not None:
            first = {"index": 0, "id": f"call_{step}", "type": "function", "function": {"name": call[0]}}
            first["function"]["arguments"] = ""
            send({"tool_calls": [first]})
            send({"tool_calls": [{"index": 0, "function": {"arguments": json.dumps(call[1])}}]})
            reason = "tool_calls"
        else:
            for start in range(0, len(text), pace.chunk_size):
                if start and pace.between_chunks:
                    time.sleep(pace.between_chunks)
                send({"content": text[start : start + pace.chunk_size]})
                request.chunks_sent += 1
            reason = "stop"
        send({}, reason)
        usage = {"id": f"chatcmpl-{step}", "choices": [], "usage": USAGE}
        self.wfile.write(f"data: {json.dumps(usage)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class ModelServer:
    """The server; ``url`` is its OpenAI-compatible base URL."""

    def __init__(self, *, lifetime: float = 180.0) -> None:
        self._counts: Counter[tuple[str, int]] = Counter()
        self._requests: defaultdict[tuple[str, int], list[Request]] = defaultdict(list)
        self._paces: dict[tuple[str, int], Pace] = {}
        self._lock = threading.Lock()
        self.closed = threading.Event()
        self._listener = _Listener(("127.0.0.1", 0), _Handler)
        self._listener.model = self
        host, port = self._listener.server_address[:2]
        self.url = f"http://{host!s}:{port}/v1"
        self._thread = threading.Thread(target=self._listener.serve_forever, daemon=True)
        self._thread.start()
        self._watchdog = threading.Timer(lifetime, self.close)
        self._watchdog.daemon = True
        self._watchdog.start()

    def pace(self, prompt: str, step: int, pace: Pace) -> None:
        """Answer the first request of run ``prompt``'s ``step`` at ``pace``."""
        with self._lock:
            self._paces[(prompt, step)] = pace

    def record(self, prompt: str, step: int, worker: int | None) -> tuple[Request, Pace]:
        """Count a request; it and the pace to answer it at."""
        with self._lock:
            self._counts[(prompt, step)] += 1
            request = Request(at=time.monotonic(), worker=worker)
            self._requests[(prompt, step)].append(request)
            first = self._counts[(prompt, step)] == 1
            return request, (self._paces.get((prompt, step), Pace()) if first else Pace())

    def requests(self, prompt: str, step: int) -> list[Request]:
        """The requests run ``prompt`` sent for ``step``, in the order they came."""
        with self._lock:
            return list(self._requests[(prompt, step)])

    def count(self, prompt: str, step: int) -> int:
        """How many requests run ``prompt`` sent for ``step``."""
        with self._lock:
            return self._counts[(prompt, step)]

    def close(self) -> None:
        self.closed.set()
        self._watchdog.cancel()
        self._listener.shutdown()
        self._listener.server_close()

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

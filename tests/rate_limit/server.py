"""A loopback chat-completions server that enforces a rate limit and says so in its headers.

It allows ``limit`` requests per fixed window of ``window`` seconds (counted from its start),
answers the rest with a 429, and sends OpenAI's headers with every answer:
``x-ratelimit-limit-requests``, ``x-ratelimit-remaining-requests``,
``x-ratelimit-reset-requests`` (``"123ms"``, rounded up: the window really is over then),
and ``retry-after-ms`` on a 429. It counts what it accepted and refused per window.

It runs on ``127.0.0.1`` (an ephemeral port) in daemon threads of the test process (the
standard library's threading HTTP server, HTTP/1.1 keep-alive), and stops by itself:
``close()`` (also by leaving ``with``), or a watchdog after ``max_lifetime`` seconds.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

TEXT = "within the limit"


def _completion() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": TEXT}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        }
    ).encode()


def _stream() -> bytes:
    chunks = [
        {"id": "c", "choices": [{"index": 0, "delta": {"content": TEXT}, "finish_reason": None}]},
        {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    return (
        b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks) + b"data: [DONE]\n\n"
    )


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # a crowd connecting at once must not overflow the backlog
    limited: LimitedServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall between them
    server: _Listener

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        status, headers = self.server.limited.admit()
        if status == 429:
            content = b'{"error": {"message": "Rate limit reached", "type": "requests"}}'
            headers["content-type"] = "application/json"
        elif json.loads(body).get("stream"):
            content = _stream()
            headers["content-type"] = "text/event-stream"
        else:
            content = _completion()
            headers["content-type"] = "application/json"
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests count, they do not read logs


class LimitedServer:
    """``limit`` requests per ``window`` seconds on ``127.0.0.1``; see the module docstring."""

    def __init__(self, *, limit: int, window: float, max_lifetime: float = 120.0) -> None:
        self.limit = limit
        self.window = window
        self.accepted: Counter[int] = Counter()
        """Requests answered normally, per window number."""
        self.refused: Counter[int] = Counter()
        """Requests answered with a 429, per window number."""
        self._lock = threading.Lock()
        self._closing = threading.Lock()
        self._listener = _Listener(("127.0.0.1", 0), _Handler)
        self._listener.limited = self
        self._started = time.monotonic()
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._listener.serve_forever, name="limited-server", daemon=True
        )
        self._thread.start()
        self._watchdog = threading.Thread(target=self._watch, args=(max_lifetime,), daemon=True)
        self._watchdog.start()

    @property
    def url(self) -> str:
        """The base URL of the OpenAI-style API (``.../v1``)."""
        host, port = self._listener.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def admit(self) -> tuple[int, dict[str, str]]:
        """Count one request: its status and rate-limit headers."""
        with self._lock:
            elapsed = time.monotonic() - self._started
            number = int(elapsed // self.window)
            reset = math.ceil(((number + 1) * self.window - elapsed) * 1000)
            headers = {
                "x-ratelimit-limit-requests": str(self.limit),
                "x-ratelimit-reset-requests": f"{reset}ms",
            }
            if self.accepted[number] >= self.limit:
                self.refused[number] += 1
                headers["x-ratelimit-remaining-requests"] = "0"
                headers["retry-after-ms"] = str(reset)
                return 429, headers
            self.accepted[number] += 1
            headers["x-ratelimit-remaining-requests"] = str(self.limit - self.accepted[number])
            return 200, headers

    def _watch(self, max_lifetime: float) -> None:
        if not self._stopped.wait(max_lifetime):
            self.close()

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        with self._closing:
            if self._stopped.is_set():
                return
            self._stopped.set()
            self._listener.shutdown()
            self._listener.server_close()

    def __enter__(self) -> LimitedServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

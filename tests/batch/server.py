"""A loopback chat-completions server for batches: answers by prompt, injects failures, counts per item.

``BatchServer`` listens on ``127.0.0.1`` (an ephemeral port) in daemon threads of the test
process (HTTP/1.1 keep-alive) and answers ``POST .../chat/completions``, streamed or not. The
prompt (the last user message) decides the answer:

* a prompt containing ``"always-fail"`` is answered with a 500, every time;
* a prompt for which ``throttled(prompt)`` holds gets a 429 on its first request, one for which
  ``flaky(prompt)`` holds a 503 on its first request; every error carries ``retry-after-ms: 1``;
* any other request is answered ``"answer to <prompt>"`` (or, when the request forces a tool
  or asks for JSON, the object ``{"echo": <prompt>}``), with usage.

``delay`` seconds pass between a request and its answer (each request in its own thread).
It counts, per prompt, every request (``requests``) and every successful answer
(``answers``). ``pause_after(n)`` holds every request that comes after the ``n``-th answer
until ``release()``, then drops it unanswered and uncounted (the test has interrupted the
client by then). The server stops by itself: ``close()`` (also by leaving ``with``) or a
watchdog after ``max_lifetime`` seconds.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

USAGE = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}


def every(step: int, salt: int) -> Callable[[str], bool]:
    """A rule that picks about one prompt in ``step``, the same ones every time."""
    return lambda prompt: zlib.crc32(prompt.encode()) % step == salt


class _Listener(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    owner: BatchServer


def _prompt_of(body: dict[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(str(part.get("text", "")) for part in content)  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType, reportUnknownArgumentType]
            return str(content)
    return ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Listener

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        prompt = _prompt_of(body)
        status = self.server.owner.admit(prompt)
        if status is None:  # held past the pause, then dropped
            self.close_connection = True
            return
        if self.server.owner.delay:
            time.sleep(self.server.owner.delay)
        try:
            if status != 200:
                self._send(status, {"error": {"message": f"injected {status}", "type": "server"}}, retry=True)
            elif body.get("stream"):
                self._stream(body, prompt)
            else:
                self._send(200, self._completion(body, prompt))
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _message(self, body: dict[str, Any], prompt: str) -> tuple[dict[str, Any], str]:
        choice = body.get("tool_choice")
        tools = body.get("tools") or []
        if choice == "required" and len(tools) == 1:
            choice = {"function": {"name": tools[0]["function"]["name"]}}
        if isinstance(choice, dict):
            name = choice.get("function", {}).get("name")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            call = {
                "id": "call_1",
                "type": "function",
                "function": {"name": name, "arguments": json.dumps({"echo": prompt})},
            }
            return {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
        if body.get("response_format"):
            return {"role": "assistant", "content": json.dumps({"echo": prompt})}, "stop"
        return {"role": "assistant", "content": f"answer to {prompt}"}, "stop"

    def _completion(self, body: dict[str, Any], prompt: str) -> dict[str, Any]:
        message, reason = self._message(body, prompt)
        return {
            "id": "chatcmpl-batch",
            "model": body.get("model", "m"),
            "choices": [{"index": 0, "message": message, "finish_reason": reason}],
            "usage": USAGE,
        }

    def _send(self, status: int, payload: dict[str, Any], *, retry: bool = False) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        if retry:
            self.send_header("retry-after-ms", "1")
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, body: dict[str, Any], prompt: str) -> None:
        message, reason = self._message(body, prompt)
        delta: dict[str, Any] = {"role": "assistant", "content": message["content"] or ""}
        if message.get("tool_calls"):
            delta["tool_calls"] = [{"index": 0, **message["tool_calls"][0]}]
        chunks = [
            {"id": "c", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
            {"id": "c", "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]},
            {"id": "c", "choices": [], "usage": USAGE},
        ]
        data = (
            b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks)
            + b"data: [DONE]\n\n"
        )
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class BatchServer:
    """The server; see the module docstring."""

    def __init__(
        self,
        *,
        throttled: Callable[[str], bool] | None = None,
        flaky: Callable[[str], bool] | None = None,
        max_lifetime: float = 120.0,
        delay: float = 0.0,
    ) -> None:
        self.delay = delay
        self.throttled = throttled or every(5, 1)
        self.flaky = flaky or every(7, 2)
        self.requests: Counter[str] = Counter()
        """Every request, per prompt."""
        self.answers: Counter[str] = Counter()
        """Successful answers, per prompt."""
        self.held = 0
        """Requests held by the pause right now."""
        self._lock = threading.Lock()
        self._pause_after: int | None = None
        self._released = threading.Event()
        self._listener = _Listener(("127.0.0.1", 0), _Handler)
        self._listener.owner = self
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listener.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        self._watchdog = threading.Timer(max_lifetime, self.close)
        self._watchdog.daemon = True
        self._watchdog.start()

    @property
    def url(self) -> str:
        """The base URL of the OpenAI-style API (``.../v1``)."""
        return f"http://127.0.0.1:{self._listener.server_address[1]}/v1"

    @property
    def answered(self) -> int:
        """Successful answers so far, over every prompt."""
        with self._lock:
            return sum(self.answers.values())

    def pause_after(self, answers: int) -> None:
        """Hold every request after the ``answers``-th successful answer until ``release()``."""
        with self._lock:
            self._pause_after = answers
            self._released.clear()

    def release(self) -> None:
        """Drop the held requests and stop pausing."""
        with self._lock:
            self._pause_after = None
        self._released.set()

    def admit(self, prompt: str) -> int | None:
        """Count one request; its status, or ``None`` for a request held and dropped."""
        with self._lock:
            if self._pause_after is not None and sum(self.answers.values()) >= self._pause_after:
                self.held += 1
                hold = True
            else:
                hold = False
                self.requests[prompt] += 1
                first = self.requests[prompt] == 1
                if "always-fail" in prompt:
                    return 500
                if first and self.throttled(prompt):
                    return 429
                if first and self.flaky(prompt):
                    return 503
                self.answers[prompt] += 1
                return 200
        if hold:
            self._released.wait(30)
            with self._lock:
                self.held -= 1
        return None

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
        self._released.set()
        self._watchdog.cancel()
        self._listener.shutdown()
        self._listener.server_close()

    def __enter__(self) -> BatchServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

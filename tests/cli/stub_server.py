"""A loopback OpenAI-compatible chat-completions stub for driving the ``reverie`` command.

``StubServer`` listens on ``127.0.0.1`` (an ephemeral port) in daemon threads of the test
process and answers ``POST .../chat/completions``: JSON, or SSE when the body says
``"stream": true``. Each request takes the next scripted ``Reply`` (the default reply when
the script is empty, or what ``answer`` chooses for it) and is recorded, headers and JSON
body, in ``requests``.

A reply can stream reasoning, text in given pieces, a tool call, or an object (as a call of
the tool the request forces, else as JSON text); it can wait between pieces (``delay``) or
after the first piece until the test opens a gate; or answer with an error status.

The server stops by itself: on leaving ``with``, and at the latest ``lifetime`` seconds after
it started. A client that hangs up mid-stream ends that answer.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
DEFAULT_TEXT = "Hello from the stub."


@dataclass
class Reply:
    """One scripted answer."""

    text: str | list[str] = DEFAULT_TEXT
    """The answer text, or the pieces it streams in (a string streams in 4-character pieces)."""
    reasoning: str = ""
    tool_call: tuple[str, dict[str, Any]] | None = None
    """A call ``(tool name, arguments)`` instead of text."""
    object: Any = None
    """An object: a call of the forced tool if the request forces one, else JSON text."""
    delay: float = 0.0
    """Seconds to wait before each piece after the first."""
    gate: threading.Event | None = None
    """Held closed, the rest of the answer waits after its first piece (at most 10 s)."""
    status: int = 200
    error: str = "stub error"
    call_id: str = "call_1"
    """The id of the tool call (``tool_call``)."""


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


Answerer = Callable[[Recorded], Reply]
"""Chooses the reply to a request from the request itself (instead of the script)."""


@dataclass
class _State:
    script: deque[Reply] = field(default_factory=deque[Reply])
    answer: Answerer | None = None
    requests: list[Recorded] = field(default_factory=list[Recorded])
    lock: threading.Lock = field(default_factory=threading.Lock)


def _pieces(text: str | list[str]) -> list[str]:
    if isinstance(text, list):
        return text
    return [text[index : index + 4] for index in range(0, len(text), 4)] or [""]


def _forced_tool(body: dict[str, Any]) -> str | None:
    choice = body.get("tool_choice")
    if isinstance(choice, dict):
        return choice.get("function", {}).get("name")
    tools = body.get("tools") or []
    if choice == "required" and len(tools) == 1:
        return tools[0]["function"]["name"]
    return None


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        state = self.server.state
        with state.lock:
            recorded = Recorded(
                self.path, {name.lower(): value for name, value in self.headers.items()}, body
            )
            state.requests.append(recorded)
            answer = state.answer
            reply = state.script.popleft() if state.script else Reply()
        if answer is not None:
            reply = answer(recorded)  # outside the lock: it may take its time
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"no route {self.path}"}})
            return
        if reply.status != 200:
            self._json(
                reply.status, {"error": {"message": reply.error, "type": "stub", "code": reply.status}}
            )
            return
        call = reply.tool_call
        text: str | list[str] = reply.text
        if reply.object is not None:
            forced = _forced_tool(body)
            if forced:
                call = (forced, reply.object)
            else:
                text = json.dumps(reply.object)
        try:
            if body.get("stream"):
                self._stream(reply, text, call)
            else:
                self._whole(reply, text, call)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up (Ctrl-C)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _whole(self, reply: Reply, text: str | list[str], call: tuple[str, dict[str, Any]] | None) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if reply.reasoning:
            message["reasoning_content"] = reply.reasoning
        if call is not None:
            name, arguments = call
            function = {"name": name, "arguments": json.dumps(arguments)}
            message["tool_calls"] = [{"id": reply.call_id, "type": "function", "function": function}]
            reason = "tool_calls"
        else:
            message["content"] = "".join(_pieces(text))
            reason = "stop"
        self._json(
            200,
            {
                "id": "chatcmpl-stub",
                "model": "stub-model",
                "choices": [{"index": 0, "message": message, "finish_reason": reason}],
                "usage": USAGE,
            },
        )

    def _stream(self, reply: Reply, text: str | list[str], call: tuple[str, dict[str, Any]] | None) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()

        def send(delta: dict[str, Any], reason: str | None = None, **extra: Any) -> None:
            chunk = {
                "id": "chatcmpl-stub",
                "model": "stub-model",
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
                **extra,
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        send({"role": "assistant", "content": ""})
        for piece in _pieces(reply.reasoning) if reply.reasoning else []:
            send({"reasoning_content": piece})
        if call is not None:
            name, arguments = call
            first = {
                "index": 0,
                "id": reply.call_id,
                "type": "function",
                "function": {"name": name, "arguments": ""},
            }
            send({"tool_calls": [first]})
            send({"tool_calls": [{"index": 0, "function": {"arguments": json.dumps(arguments)}}]})
            reason = "tool_calls"
        else:
            for number, piece in enumerate(_pieces(text)):
                if number == 1 and reply.gate is not None:
                    reply.gate.wait(10)
                if number and reply.delay and self.server.stopping.wait(reply.delay):
                    return  # the server is closing
                send({"content": piece})
            reason = "stop"
        send({}, reason)
        self.wfile.write(
            f"data: {json.dumps({'id': 'chatcmpl-stub', 'choices': [], 'usage': USAGE})}\n\n".encode()
        )
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a slow answer must not hold up close()

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = _State()
        self.stopping = threading.Event()


class StubServer:
    """The stub, running until ``close()`` or ``lifetime`` seconds after ``start()``."""

    def __init__(self, lifetime: float = 120.0, answer: Answerer | None = None) -> None:
        self._server = _Server()
        self._server.state.answer = answer
        self._lifetime = lifetime
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._timer = threading.Timer(lifetime, self.close)
        self._timer.daemon = True
        self._closed = False

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[Recorded]:
        with self._server.state.lock:
            return list(self._server.state.requests)

    def script(self, replies: Iterable[Reply]) -> None:
        with self._server.state.lock:
            self._server.state.script.extend(replies)

    def start(self) -> StubServer:
        self._thread.start()
        self._timer.start()
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._timer.cancel()
        self._server.stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

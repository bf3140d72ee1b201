"""A real HTTP/1.1 fault server that speaks the OpenAI, Anthropic and Gemini wire shapes.

The server runs on ``127.0.0.1`` (ephemeral port) in daemon threads of the test process, is
written with the standard library only (hand-written HTTP/1.1 on raw sockets, keep-alive,
chunked streams) so that it can misbehave at the byte level: cut a stream mid-event, reset
the connection, split UTF-8 characters across TCP writes, drip slowly, send huge bodies.

Routing (by path suffix, so base URLs with a prefix such as ``/api/v1`` also work):

* ``POST .../chat/completions``: OpenAI chat (``"stream": true`` in the body -> SSE).
* ``POST .../messages``: Anthropic messages (``"stream": true`` -> named SSE events).
* ``POST .../models/<model>:generateContent`` and ``...:streamGenerateContent?alt=sse``:
  Gemini (SSE events separated by ``\\r\\n\\r\\n``).
* ``GET /`` or ``GET /health``: ``{"status": "ok"}`` (does not consume a scripted fault).

Faults are scripted per request with :meth:`FaultServer.script` (a queue, one entry per
provider request; ``None``/:func:`ok` means a normal answer; an empty queue means normal
answers), or ad hoc with a request header ``x-fault: name;arg;key=value`` (see
:func:`parse_fault_header`); a header fault does not consume the queue.

Example::

    with FaultServer() as server:
        server.script([rate_limited(retry_after=1), None])
        r = httpx2.post(server.url + "/v1/chat/completions", json={"model": "m", "messages": []})
        assert r.status_code == 429

The server stops by itself: :meth:`FaultServer.close` (also via ``with``), plus a watchdog
that closes it after ``idle_timeout`` seconds without activity (default 120 s) or after
``max_lifetime`` seconds in total. All threads are daemons and are joined on close.
"""

from __future__ import annotations

import contextlib
import email.utils
import http
import json
import re
import select
import selectors
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

__all__ = [
    "DEFAULT_TEXT",
    "TOOL_FINAL_TEXT",
    "UTF8_TEXT",
    "ConnectionReset",
    "ContextLengthExceeded",
    "CutStream",
    "EmptyBody",
    "Fault",
    "FaultServer",
    "HtmlError",
    "Huge",
    "InbandError",
    "InvalidJson",
    "NoFinish",
    "Ok",
    "RateLimited",
    "RecordedRequest",
    "Shape",
    "SlowDrip",
    "SplitUtf8",
    "Status",
    "connection_reset",
    "context_length_exceeded",
    "cut_stream",
    "empty_body",
    "html_error",
    "http_date",
    "huge",
    "inband_error",
    "invalid_json",
    "no_finish",
    "ok",
    "parse_fault_header",
    "rate_limited",
    "slow_drip",
    "split_utf8",
    "status",
]

Shape = Literal["openai", "anthropic", "gemini"]
"""The three wire shapes the server speaks."""

DEFAULT_TEXT = "Hello from the fault server"
"""Default answer text (split into several chunks when streaming)."""

TOOL_FINAL_TEXT = "It is 40 C in Florence."
"""OpenAI-shape answer to a request that carries a ``role: tool`` message."""

TOOL_NAME = "weather"
TOOL_ARGUMENTS = '{"location":"Florence"}'

UTF8_TEXT = "Olá — ünïcödé 🎉"
"""Default text of :func:`split_utf8` (2-, 3- and 4-byte UTF-8 characters)."""

_BLOCK = 64 * 1024
_MAX_HEAD = 64 * 1024
_MAX_BODY = 256 * 1024 * 1024


# ---------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """Base class of every scripted fault (use the lowercase factory functions)."""

    name: ClassVar[str] = "fault"


@dataclass(frozen=True)
class Ok(Fault):
    """A normal answer; ``text`` overrides the server's default answer text."""

    name: ClassVar[str] = "ok"
    text: str | None = None


@dataclass(frozen=True)
class RateLimited(Fault):
    """HTTP 429 with ``Retry-After`` / ``retry-after-ms`` headers and a shape-specific body."""

    name: ClassVar[str] = "rate_limited"
    retry_after: float | str | None = None
    retry_after_ms: int | None = None


@dataclass(frozen=True)
class Status(Fault):
    """An error status; ``body=None`` means the shape's typical error body for ``code``."""

    name: ClassVar[str] = "status"
    code: int
    body: str | bytes | Mapping[str, Any] | None = None
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ContextLengthExceeded(Fault):
    """HTTP 400 with each shape's typical "prompt too long" error body."""

    name: ClassVar[str] = "context_length_exceeded"


@dataclass(frozen=True)
class HtmlError(Fault):
    """An error status with an HTML page (as sent by a proxy / load balancer)."""

    name: ClassVar[str] = "html_error"
    code: int = 502


@dataclass(frozen=True)
class InvalidJson(Fault):
    """HTTP 200 whose body is ``{not json`` (as one SSE event for stream requests)."""

    name: ClassVar[str] = "invalid_json"


@dataclass(frozen=True)
class EmptyBody(Fault):
    """HTTP 200 with ``Content-Length: 0``."""

    name: ClassVar[str] = "empty_body"


@dataclass(frozen=True)
class CutStream(Fault):
    """Send ``after_events`` whole events (then half of the next one) and close the socket.

    The chunked body is never terminated. For a non-stream request the JSON body is
    announced with its full ``Content-Length`` and cut in the middle.
    """

    name: ClassVar[str] = "cut_stream"
    after_events: int = 2
    mid_event: bool = True


@dataclass(frozen=True)
class NoFinish(Fault):
    """A stream that ends cleanly but carries no finish event (and no ``[DONE]``)."""

    name: ClassVar[str] = "no_finish"


@dataclass(frozen=True)
class InbandError(Fault):
    """A 200 stream with ``after_chunks`` text chunk(s) followed by an error event.

    For a non-stream request: a 200 response whose JSON body is the error object.
    """

    name: ClassVar[str] = "inband_error"
    after_chunks: int = 1


@dataclass(frozen=True)
class SplitUtf8(Fault):
    """Answer ``text`` with separate TCP writes that split inside multi-byte characters."""

    name: ClassVar[str] = "split_utf8"
    text: str = UTF8_TEXT
    write_delay_s: float = 0.005


@dataclass(frozen=True)
class SlowDrip(Fault):
    """Send the answer in ``chunks`` pieces with ``delay_s`` between them.

    Streams: the text is split in ``chunks`` events; every event after the first one is
    preceded by ``delay_s``. Non-stream: the JSON body is written in ``chunks`` pieces.
    ``initial_delay_s`` delays the status line itself.
    """

    name: ClassVar[str] = "slow_drip"
    delay_s: float = 0.5
    chunks: int = 5
    initial_delay_s: float = 0.0


@dataclass(frozen=True)
class ConnectionReset(Fault):
    """Read the request, then close the socket with RST (``SO_LINGER`` 0), no response."""

    name: ClassVar[str] = "connection_reset"


@dataclass(frozen=True)
class Huge(Fault):
    """A 200 answer whose text is ``n_bytes`` long, generated lazily while writing.

    Non-stream: one JSON body with an ``n_bytes`` string (exact ``Content-Length``).
    Stream: one event with an ``n_bytes`` data line (``single_event=True``) or many
    16 KiB text events totalling ``n_bytes``.
    """

    name: ClassVar[str] = "huge"
    n_bytes: int = 50_000_000
    single_event: bool = True


def ok(text: str | None = None) -> Ok:
    """Normal answer (optionally with another ``text``); same as a ``None`` script entry."""
    return Ok(text)


def rate_limited(retry_after: float | str | None = None, retry_after_ms: int | None = None) -> RateLimited:
    """HTTP 429. ``retry_after``: seconds (number) or an HTTP-date string (see :func:`http_date`)."""
    return RateLimited(retry_after, retry_after_ms)


def status(
    code: int,
    body: str | bytes | Mapping[str, Any] | None = None,
    content_type: str = "application/json",
    headers: Mapping[str, str] | None = None,
) -> Status:
    """Respond ``code``; ``body`` None -> the shape's typical error body, a mapping -> JSON."""
    return Status(code, body, content_type, tuple((headers or {}).items()))


def context_length_exceeded() -> ContextLengthExceeded:
    """HTTP 400 with each shape's typical context-length error body."""
    return ContextLengthExceeded()


def html_error(code: int = 502) -> HtmlError:
    """Respond ``code`` with an nginx-like HTML error page."""
    return HtmlError(code)


def invalid_json() -> InvalidJson:
    """HTTP 200 with the body ``{not json``."""
    return InvalidJson()


def empty_body() -> EmptyBody:
    """HTTP 200 with ``Content-Length: 0``."""
    return EmptyBody()


def cut_stream(after_events: int = 2, mid_event: bool = True) -> CutStream:
    """Stream ``after_events`` events, then half an event (if ``mid_event``), then close."""
    return CutStream(after_events, mid_event)


def no_finish() -> NoFinish:
    """A stream that ends cleanly without its finish event and without ``[DONE]``."""
    return NoFinish()


def inband_error(after_chunks: int = 1) -> InbandError:
    """A 200 stream with a text chunk then an in-band error event."""
    return InbandError(after_chunks)


def split_utf8(text: str = UTF8_TEXT, write_delay_s: float = 0.005) -> SplitUtf8:
    """Answer ``text`` with TCP writes that split inside its multi-byte characters."""
    return SplitUtf8(text, write_delay_s)


def slow_drip(delay_s: float = 0.5, chunks: int = 5, initial_delay_s: float = 0.0) -> SlowDrip:
    """Send the answer in ``chunks`` pieces with ``delay_s`` between them."""
    return SlowDrip(delay_s, chunks, initial_delay_s)


def connection_reset() -> ConnectionReset:
    """Accept the request, then reset the connection (RST) without a response."""
    return ConnectionReset()


def huge(n_bytes: int = 50_000_000, single_event: bool = True) -> Huge:
    """A 200 answer of about ``n_bytes`` bytes, generated lazily."""
    return Huge(n_bytes, single_event)


def http_date(seconds_from_now: float) -> str:
    """An RFC 9110 HTTP-date ``seconds_from_now`` in the future (for ``Retry-After``)."""
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


_FACTORIES: dict[str, Callable[..., Fault]] = {
    "ok": ok,
    "rate_limited": rate_limited,
    "status": status,
    "context_length_exceeded": context_length_exceeded,
    "html_error": html_error,
    "invalid_json": invalid_json,
    "empty_body": empty_body,
    "cut_stream": cut_stream,
    "no_finish": no_finish,
    "inband_error": inband_error,
    "split_utf8": split_utf8,
    "slow_drip": slow_drip,
    "connection_reset": connection_reset,
    "huge": huge,
}


def _coerce(raw: str) -> Any:
    value = raw.strip()
    low = value.lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_fault_header(value: str) -> Fault:
    """Parse an ``x-fault`` header: ``name`` then ``;``-separated positional or ``key=value`` args.

    Examples: ``status;503``, ``rate_limited;retry_after=2;retry_after_ms=1500``,
    ``slow_drip;delay_s=0.2;chunks=3``, ``cut_stream;after_events=1;mid_event=false``.

    Raises:
        ValueError: unknown fault name or bad arguments.
    """
    name, *items = [part.strip() for part in value.split(";")]
    factory = _FACTORIES.get(name.strip().lower())
    if factory is None:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(_FACTORIES))}")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for item in items:
        if not item:
            continue
        key, eq, raw = item.partition("=")
        if eq and key.strip().isidentifier():
            kwargs[key.strip()] = _coerce(raw)
        else:
            args.append(_coerce(item))
    try:
        return factory(*args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"bad arguments for fault {name!r}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received by the server.

    Attributes:
        method: HTTP method.
        path: Path without the query string.
        headers: Header names lower-cased (repeated headers joined with ``", "``).
        json: The parsed JSON body (None if absent or not JSON).
        query: The raw query string ("" if none).
        body: The raw body bytes.
        shape: The wire shape routed to (None for health checks / unknown routes).
        fault: The fault applied (None for a normal answer or a non-provider route).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any
    query: str = ""
    body: bytes = b""
    shape: Shape | None = None
    fault: Fault | None = None


# ---------------------------------------------------------------------------------------------
# Wire shapes
# ---------------------------------------------------------------------------------------------


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _split_words(text: str) -> list[str]:
    """Split ``text`` into word chunks with leading spaces: "a b" -> ["a", " b"]."""
    pieces = re.findall(r"\s*\S+", text)
    if not pieces:
        return [text] if text else []
    tail = text[len("".join(pieces)) :]
    pieces[-1] += tail
    return pieces


def _split_n(text: str, n: int) -> list[str]:
    """Split ``text`` into ``n`` (or fewer, if shorter) contiguous pieces of near-equal length."""
    n = max(1, min(n, len(text) or 1))
    size, extra = divmod(len(text), n)
    out: list[str] = []
    start = 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(text[start:end])
        start = end
    return out


def _count_words(value: Any) -> int:
    """Roughly count prompt "tokens": whitespace-separated words in every string of a JSON value."""
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(v) for v in value)
    if isinstance(value, dict):
        return sum(_count_words(v) for k, v in value.items() if k not in ("model", "role", "type"))
    return 0


@dataclass(frozen=True)
class _Answer:
    text: str | None
    tool_call: bool = False


@dataclass(frozen=True)
class _Ctx:
    shape: Shape
    model: str
    stream: bool
    body: dict[str, Any]
    index: int
    default_text: str
    include_usage: bool = False
    prompt_tokens: int = 1

    @property
    def ident(self) -> str:
        return f"{self.index:06d}"


def _sse(shape: Shape, obj: Any, event: str | None = None) -> bytes:
    if shape == "anthropic":
        return b"event: " + (event or "message").encode() + b"\ndata: " + _dumps(obj) + b"\n\n"
    if shape == "gemini":
        return b"data: " + _dumps(obj) + b"\r\n\r\n"
    return b"data: " + _dumps(obj) + b"\n\n"


_DONE = b"data: [DONE]\n\n"

_GEMINI_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

_ANTHROPIC_TYPE = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def _phrase(code: int) -> str:
    if code == 529:
        return "Overloaded"
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Unknown"


def _error_body(shape: Shape | None, code: int, message: str | None = None) -> dict[str, Any]:
    """The shape's typical error body for ``code``."""
    if code == 429:
        default = "Rate limit reached. Please try again later."
    elif code == 401:
        default = "Incorrect API key provided."
    else:
        default = f"{code} {_phrase(code)}"
    msg = message or default
    if shape == "anthropic":
        etype = _ANTHROPIC_TYPE.get(code, "api_error" if code >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": etype, "message": msg}}
    if shape == "gemini":
        gstatus = _GEMINI_STATUS.get(code, "INTERNAL" if code >= 500 else "UNKNOWN")
        return {"error": {"code": code, "message": msg, "status": gstatus}}
    if code == 429:
        etype, ecode = "requests", "rate_limit_exceeded"
    elif code == 401:
        etype, ecode = "invalid_request_error", "invalid_api_key"
    elif code >= 500:
        etype, ecode = "server_error", None
    else:
        etype, ecode = "invalid_request_error", None
    return {"error": {"message": msg, "type": etype, "param": None, "code": ecode}}


def _context_length_body(shape: Shape) -> dict[str, Any]:
    if shape == "anthropic":
        return {
            "type": "error",
            "error": {
                "type": "invalid_request_error",
                "message": "prompt is too long: 215432 tokens > 200000 maximum",
            },
        }
    if shape == "gemini":
        return {
            "error": {
                "code": 400,
                "message": "The input token count exceeds the maximum number of tokens allowed (1048576).",
                "status": "INVALID_ARGUMENT",
            }
        }
    return {
        "error": {
            "message": "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 215432 tokens. Please reduce the length of the messages.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }


def _inband_error_event(shape: Shape) -> bytes:
    if shape == "anthropic":
        body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
        return _sse(shape, body, "error")
    if shape == "gemini":
        return _sse(shape, {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}})
    return _sse(shape, {"error": {"message": "overloaded", "type": "server_error"}})


def _inband_error_body(shape: Shape) -> dict[str, Any]:
    if shape == "anthropic":
        return {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    if shape == "gemini":
        return {"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}
    return {"error": {"message": "overloaded", "type": "server_error"}}


def _final_body(ctx: _Ctx, answer: _Answer, finish: bool = True) -> dict[str, Any]:
    """The non-stream response body."""
    text = answer.text or ""
    out_tokens = max(1, len(_split_words(text))) if not answer.tool_call else 8
    if ctx.shape == "anthropic":
        return {
            "id": f"msg_fault_{ctx.ident}",
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn" if finish else None,
            "stop_sequence": None,
            "usage": {"input_tokens": ctx.prompt_tokens, "output_tokens": out_tokens},
        }
    if ctx.shape == "gemini":
        candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = "STOP"
        return {
            "candidates": [candidate],
            "usageMetadata": {
                "promptTokenCount": ctx.prompt_tokens,
                "candidatesTokenCount": out_tokens,
                "totalTokenCount": ctx.prompt_tokens + out_tokens,
            },
            "modelVersion": ctx.model,
            "responseId": f"fault_{ctx.ident}",
        }
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    reason = "stop"
    if answer.tool_call:
        reason = "tool_calls"
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": f"call_fault_{ctx.ident}",
                "type": "function",
                "function": {"name": TOOL_NAME, "arguments": TOOL_ARGUMENTS},
            }
        ]
    return {
        "id": f"chatcmpl-fault-{ctx.ident}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": ctx.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reason if finish else None}
        ],
        "usage": {
            "prompt_tokens": ctx.prompt_tokens,
            "completion_tokens": out_tokens,
            "total_tokens": ctx.prompt_tokens + out_tokens,
        },
    }


def _stream_events(
    ctx: _Ctx, answer: _Answer, pieces: Sequence[str], finish: bool = True
) -> tuple[list[bytes], int]:
    """Build a stream as a list of complete SSE events.

    Returns:
        ``(events, n_preamble)`` where ``events[n_preamble]`` is the first content event.
    """
    shape = ctx.shape
    n_out = max(1, len(pieces))
    events: list[bytes] = []
    if shape == "anthropic":
        start = {
            "type": "message_start",
            "message": {
                "id": f"msg_fault_{ctx.ident}",
                "type": "message",
                "role": "assistant",
                "model": ctx.model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": ctx.prompt_tokens, "output_tokens": 1},
            },
        }
        events.append(_sse(shape, start, "message_start"))
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        events.append(_sse(shape, block, "content_block_start"))
        for piece in pieces:
            text_delta = {"type": "text_delta", "text": piece}
            delta = {"type": "content_block_delta", "index": 0, "delta": text_delta}
            events.append(_sse(shape, delta, "content_block_delta"))
        events.append(_sse(shape, {"type": "content_block_stop", "index": 0}, "content_block_stop"))
        if finish:
            end = {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": n_out},
            }
            events.append(_sse(shape, end, "message_delta"))
            events.append(_sse(shape, {"type": "message_stop"}, "message_stop"))
        return events, 2

    if shape == "gemini":
        for i, piece in enumerate(pieces or [""]):
            candidate: dict[str, Any] = {"content": {"parts": [{"text": piece}], "role": "model"}, "index": 0}
            chunk: dict[str, Any] = {"candidates": [candidate]}
            last = i == max(0, len(pieces) - 1)
            if last and finish:
                candidate["finishReason"] = "STOP"
                chunk["usageMetadata"] = {
                    "promptTokenCount": ctx.prompt_tokens,
                    "candidatesTokenCount": n_out,
                    "totalTokenCount": ctx.prompt_tokens + n_out,
                }
            else:
                chunk["usageMetadata"] = {
                    "promptTokenCount": ctx.prompt_tokens,
                    "totalTokenCount": ctx.prompt_tokens,
                }
            chunk["modelVersion"] = ctx.model
            chunk["responseId"] = f"fault_{ctx.ident}"
            events.append(_sse(shape, chunk))
        return events, 0

    base = {
        "id": f"chatcmpl-fault-{ctx.ident}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": ctx.model,
    }

    def chunk_of(delta: dict[str, Any], reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        return _sse(shape, {**base, "choices": [choice]})

    if answer.tool_call:
        events.append(chunk_of({"role": "assistant", "content": None}))
        head = {
            "index": 0,
            "id": f"call_fault_{ctx.ident}",
            "type": "function",
            "function": {"name": TOOL_NAME, "arguments": ""},
        }
        events.append(chunk_of({"tool_calls": [head]}))
        for piece in pieces:
            events.append(chunk_of({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}))
        n_pre, reason = 2, "tool_calls"
    else:
        events.append(chunk_of({"role": "assistant", "content": ""}))
        for piece in pieces:
            events.append(chunk_of({"content": piece}))
        n_pre, reason = 1, "stop"
    if finish:
        events.append(chunk_of({}, reason))
        if ctx.include_usage:
            usage = {
                "prompt_tokens": ctx.prompt_tokens,
                "completion_tokens": n_out,
                "total_tokens": ctx.prompt_tokens + n_out,
            }
            events.append(_sse(shape, {**base, "choices": [], "usage": usage}))
        events.append(_DONE)
    return events, n_pre


_GEMINI_PATH = re.compile(r"/models/([^/:]+):(generateContent|streamGenerateContent)$")


def _route(path: str) -> tuple[Shape | None, str | None, bool]:
    """Return ``(shape, model from path, stream-by-path)`` for a request path."""
    if path.endswith("/chat/completions"):
        return "openai", None, False
    if path.endswith("/messages"):
        return "anthropic", None, False
    match = _GEMINI_PATH.search(path)
    if match:
        return "gemini", match.group(1), match.group(2) == "streamGenerateContent"
    return None, None, False


def _utf8_split_points(data: bytes) -> list[int]:
    """Offsets just after the lead byte of every multi-byte UTF-8 character in ``data``."""
    return [i + 1 for i, b in enumerate(data) if b >= 0xC0]


def _split_at(data: bytes, points: Iterable[int]) -> list[bytes]:
    out: list[bytes] = []
    start = 0
    for p in points:
        if start < p < len(data):
            out.append(data[start:p])
            start = p
    out.append(data[start:])
    return out


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 plumbing
# ---------------------------------------------------------------------------------------------


class _BadRequest(Exception):
    pass


@dataclass
class _Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


class _Conn:
    """One accepted client socket: request reader and response writer."""

    def __init__(self, server: FaultServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.buf = bytearray()
        self.request_index = 0

    # -- reading -------------------------------------------------------------------------------

    def _fill(self) -> bool:
        data = self.sock.recv(_BLOCK)
        if not data:
            return False
        self.buf += data
        return True

    def _read_until(self, sep: bytes, limit: int) -> bytes | None:
        while True:
            idx = self.buf.find(sep)
            if idx >= 0:
                out = bytes(self.buf[:idx])
                del self.buf[: idx + len(sep)]
                return out
            if len(self.buf) > limit:
                raise _BadRequest("request head too large")
            if not self._fill():
                if self.buf:
                    raise _BadRequest("connection closed mid-request")
                return None

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise _BadRequest("connection closed mid-body")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_request(self) -> _Request | None:
        """Read one request; None on a clean EOF between requests."""
        while self.buf[:2] == b"\r\n":
            del self.buf[:2]
        head = self._read_until(b"\r\n\r\n", _MAX_HEAD)
        if head is None:
            return None
        lines = head.decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError as exc:
            raise _BadRequest(f"bad request line {lines[0]!r}") from exc
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if not colon:
                raise _BadRequest(f"bad header line {line!r}")
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            self.sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            total = 0
            while True:
                size_line = self._read_until(b"\r\n", 1024)
                if size_line is None:
                    raise _BadRequest("connection closed mid-body")
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError as exc:
                    raise _BadRequest("bad chunk size") from exc
                if size == 0:
                    while self._read_until(b"\r\n", _MAX_HEAD):  # trailers
                        pass
                    break
                total += size
                if total > _MAX_BODY:
                    raise _BadRequest("body too large")
                parts.append(self._read_exact(size))
                self._read_exact(2)
            body = b"".join(parts)
        else:
            try:
                length = int(headers.get("content-length", "0") or "0")
            except ValueError as exc:
                raise _BadRequest("bad content-length") from exc
            if length < 0 or length > _MAX_BODY:
                raise _BadRequest("bad content-length")
            body = self._read_exact(length)
        conn_tokens = {t.strip().lower() for t in headers.get("connection", "").split(",")}
        keep_alive = "keep-alive" in conn_tokens if version == "HTTP/1.0" else "close" not in conn_tokens
        return _Request(method.upper(), target, version, headers, body, keep_alive)

    # -- writing -------------------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Write ``data`` (one ``sendall``) and mark the server as active."""
        if data:
            self.sock.sendall(data)
        self.server._touch()

    def head(
        self,
        code: int,
        content_type: str | None,
        *,
        length: int | None = None,
        close: bool = False,
        extra: Iterable[tuple[str, str]] = (),
    ) -> bytes:
        """Build a status line + headers (chunked when ``length`` is None)."""
        lines = [f"HTTP/1.1 {code} {_phrase(code)}", "Server: reverie-fault-server"]
        lines.append(f"Date: {email.utils.formatdate(usegmt=True)}")
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        if length is None:
            lines.append("Transfer-Encoding: chunked")
            lines.append("Cache-Control: no-cache")
        else:
            lines.append(f"Content-Length: {length}")
        lines.append(f"x-request-id: req_fault_{self.request_index:06d}")
        lines.extend(f"{k}: {v}" for k, v in extra)
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def respond(
        self,
        code: int,
        body: bytes,
        content_type: str | None = "application/json",
        *,
        close: bool = False,
        extra: Iterable[tuple[str, str]] = (),
    ) -> None:
        """Send a complete fixed-length response (head and body in one write)."""
        self.send(self.head(code, content_type, length=len(body), close=close, extra=extra) + body)

    @staticmethod
    def chunk(data: bytes) -> bytes:
        """Frame ``data`` as one HTTP/1.1 chunk (empty data -> nothing)."""
        return b"%x\r\n" % len(data) + data + b"\r\n" if data else b""

    def sleep(self, seconds: float) -> None:
        """Sleep, but raise ``OSError`` soon if the server is closing or the client hung up.

        Watching the socket for EOF keeps :attr:`FaultServer.open_connections` accurate while
        a response is dripping to a client that already gave up.
        """
        deadline = time.monotonic() + seconds
        watch = True
        while (left := deadline - time.monotonic()) > 0:
            if self.server._stop.is_set():
                raise ConnectionAbortedError("server closing")
            if not watch:
                self.server._stop.wait(min(left, 0.05))
                continue
            readable, _, _ = select.select([self.sock], [], [], min(left, 0.05))
            if readable:
                if not self.sock.recv(1, socket.MSG_PEEK):
                    raise ConnectionAbortedError("client closed the connection")
                watch = False  # a pipelined request is waiting: stop polling, just sleep
        if self.server._stop.is_set():
            raise ConnectionAbortedError("server closing")

    def reset(self) -> None:
        """Arm the socket so that closing it sends RST instead of FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# ---------------------------------------------------------------------------------------------
# Server
# ---------------------------------------------------------------------------------------------

_SSE_TYPE = "text/event-stream; charset=utf-8"
_HTML = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@dataclass
class _Stats:
    open: int = 0
    max_open: int = 0
    total: int = 0
    errors: list[str] = field(default_factory=list)


class FaultServer:
    """Threaded HTTP/1.1 fake LLM provider with scriptable faults (starts in the constructor).

    Args:
        text: Default answer text.
        model: Model name echoed when the request does not name one.
        idle_timeout: Close the server after this many seconds without any activity
            (None disables).
        max_lifetime: Close the server after this many seconds in total (None disables).
        io_timeout: Socket timeout for client sockets (idle keep-alive connections are closed
            after it; a blocked write fails after it).
        host: Interface to bind (the port is always ephemeral).
    """

    def __init__(
        self,
        *,
        text: str = DEFAULT_TEXT,
        model: str = "fault-model",
        idle_timeout: float | None = 120.0,
        max_lifetime: float | None = 1800.0,
        io_timeout: float = 30.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.text = text
        self.model = model
        self.idle_timeout = idle_timeout
        self.max_lifetime = max_lifetime
        self.io_timeout = io_timeout
        self.closed_reason: str | None = None

        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._close_done = threading.Event()
        self._closing = False
        self._script: deque[Fault | None] = deque()
        self._requests: list[RecordedRequest] = []
        self._stats = _Stats()
        self._socks: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._counter = 0
        self._started = time.monotonic()
        self._last_activity = self._started

        self._listener = socket.create_server((host, 0))
        self._listener.setblocking(False)
        self._wake_r, self._wake_w = socket.socketpair()
        self.host, self.port = self._listener.getsockname()[:2]
        prefix = f"fault-server-{self.port}"
        self._acceptor = threading.Thread(target=self._accept_loop, name=f"{prefix}-accept", daemon=True)
        self._watchdog = threading.Thread(target=self._watch, name=f"{prefix}-watchdog", daemon=True)
        self._acceptor.start()
        self._watchdog.start()

    # -- public API ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    @property
    def closed(self) -> bool:
        """True once :meth:`close` started (explicitly or by the watchdog)."""
        return self._closing

    def script(self, faults: Iterable[Fault | None]) -> None:
        """Replace the fault queue; each provider request consumes one entry (None = normal)."""
        with self._lock:
            self._script = deque(faults)

    def add(self, *faults: Fault | None) -> None:
        """Append entries to the fault queue."""
        with self._lock:
            self._script.extend(faults)

    @property
    def pending_faults(self) -> int:
        """Number of script entries not consumed yet."""
        with self._lock:
            return len(self._script)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """Number of requests received."""
        with self._lock:
            return len(self._requests)

    @property
    def open_connections(self) -> int:
        """Client sockets currently open (incremented on accept, decremented on close)."""
        with self._lock:
            return self._stats.open

    @property
    def max_open_connections(self) -> int:
        """Highest number of simultaneously open client sockets (since start or :meth:`reset`)."""
        with self._lock:
            return self._stats.max_open

    @property
    def total_connections(self) -> int:
        """Client sockets accepted (since start or :meth:`reset`)."""
        with self._lock:
            return self._stats.total

    @property
    def errors(self) -> list[str]:
        """Unexpected exceptions raised inside the server (should stay empty)."""
        with self._lock:
            return list(self._stats.errors)

    def reset(self) -> None:
        """Clear the script, the request log, errors and counters (open connections stay counted)."""
        with self._lock:
            self._script.clear()
            self._requests.clear()
            self._stats.errors.clear()
            self._stats.total = 0
            self._stats.max_open = self._stats.open

    def wait_for_connections_closed(self, timeout: float = 5.0) -> bool:
        """Wait until no client socket is open; return False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._stats.open:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self, timeout: float = 5.0) -> None:
        """Stop accepting, cut every open connection and join all server threads (idempotent)."""
        with self._lock:
            if self._closing:
                first = False
            else:
                first = True
                self._closing = True
                self.closed_reason = self.closed_reason or "closed"
                self._stop.set()
                for sock in self._socks:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
        me = threading.current_thread()
        if not first:
            if me is not self._watchdog:
                self._close_done.wait(timeout)
            return
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        deadline = time.monotonic() + timeout
        if me is not self._acceptor:
            self._acceptor.join(max(0.0, deadline - time.monotonic()))
        self._listener.close()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            if thread is not me:
                thread.join(max(0.0, deadline - time.monotonic()))
                if thread.is_alive():
                    self._error(f"thread {thread.name} did not stop within {timeout} s")
        if me is not self._watchdog:
            self._watchdog.join(max(0.0, deadline - time.monotonic()))
        self._wake_r.close()
        self._wake_w.close()
        self._close_done.set()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"closed: {self.closed_reason}" if self._closing else "running"
        return f"<FaultServer {self.url} {state}>"

    # -- internals -----------------------------------------------------------------------------

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _error(self, message: str) -> None:
        with self._lock:
            self._stats.errors.append(message)

    def _watch(self) -> None:
        limits = [t for t in (self.idle_timeout, self.max_lifetime) if t is not None]
        interval = max(0.05, min([1.0, *(t / 4 for t in limits)]))
        while not self._stop.wait(interval):
            now = time.monotonic()
            reason = None
            if self.idle_timeout is not None and now - self._last_activity > self.idle_timeout:
                reason = f"idle for {self.idle_timeout} s"
            elif self.max_lifetime is not None and now - self._started > self.max_lifetime:
                reason = f"max lifetime {self.max_lifetime} s"
            if reason:
                self.closed_reason = f"watchdog: {reason}"
                self.close()
                return

    def _accept_loop(self) -> None:
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=1.0):
                    if key.fileobj is self._wake_r:
                        return
                    try:
                        sock, _addr = self._listener.accept()
                    except OSError:
                        continue
                    self._start_connection(sock)
        except Exception as exc:  # pragma: no cover - defensive
            self._error(f"accept loop: {exc!r}")
        finally:
            selector.close()

    def _start_connection(self, sock: socket.socket) -> None:
        sock.settimeout(self.io_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._closing:
                sock.close()
                return
            self._socks.add(sock)
            stats = self._stats
            stats.open += 1
            stats.total += 1
            stats.max_open = max(stats.max_open, stats.open)
            self._threads = {t for t in self._threads if t.is_alive()}
            name = f"fault-server-{self.port}-conn-{stats.total}"
            thread = threading.Thread(target=self._serve, args=(sock,), name=name, daemon=True)
            self._threads.add(thread)
        self._touch()
        thread.start()

    def _release(self, sock: socket.socket) -> None:
        with self._cond:
            self._socks.discard(sock)
            sock.close()
            self._stats.open -= 1
            self._cond.notify_all()

    def _serve(self, sock: socket.socket) -> None:
        conn = _Conn(self, sock)
        try:
            while not self._stop.is_set():
                try:
                    req = conn.read_request()
                except _BadRequest as exc:
                    body = _dumps({"error": {"message": f"bad request: {exc}"}})
                    conn.respond(400, body, close=True)
                    break
                if req is None:
                    break
                self._touch()
                if not self._handle(conn, req) or not req.keep_alive:
                    break
        except OSError:
            pass  # client went away, reset, timeout or server closing
        except Exception as exc:
            self._error(f"connection handler: {exc!r}")
        finally:
            self._release(sock)

    def _record(
        self,
        conn: _Conn,
        req: _Request,
        path: str,
        query: str,
        parsed: Any,
        shape: Shape | None,
        fault: Fault | None,
    ) -> int:
        record = RecordedRequest(req.method, path, dict(req.headers), parsed, query, req.body, shape, fault)
        with self._lock:
            self._requests.append(record)
            self._counter += 1
            conn.request_index = self._counter
            return self._counter

    def _handle(self, conn: _Conn, req: _Request) -> bool:
        """Answer one request; return False if the connection must be closed."""
        path, _, query = req.target.partition("?")
        parsed: Any = None
        if req.body:
            try:
                parsed = json.loads(req.body)
            except ValueError:
                parsed = None
        shape, path_model, path_stream = _route(path)
        if shape is None:
            self._record(conn, req, path, query, parsed, None, None)
            if req.method == "GET" and path in ("/", "/health"):
                conn.respond(200, _dumps({"status": "ok"}))
            else:
                msg = f"no route for {req.method} {path}"
                conn.respond(404, _dumps({"error": {"message": msg, "type": "not_found"}}))
            return True
        if req.method != "POST":
            self._record(conn, req, path, query, parsed, shape, None)
            conn.respond(405, _dumps(_error_body(shape, 405, f"method {req.method} not allowed")))
            return True
        if not isinstance(parsed, dict):
            self._record(conn, req, path, query, parsed, shape, None)
            conn.respond(400, _dumps(_error_body(shape, 400, "request body is not a JSON object")))
            return True
        header = req.headers.get("x-fault")
        fault: Fault | None
        if header is not None:
            try:
                fault = parse_fault_header(header)
            except ValueError as exc:
                self._record(conn, req, path, query, parsed, shape, None)
                conn.respond(400, _dumps(_error_body(shape, 400, f"x-fault: {exc}")))
                return True
        else:
            with self._lock:
                fault = self._script.popleft() if self._script else None
        if isinstance(fault, Ok) and fault.text is None:
            fault = None
        index = self._record(conn, req, path, query, parsed, shape, fault)

        body: dict[str, Any] = parsed
        stream = path_stream if shape == "gemini" else body.get("stream") is True
        stream_options = body.get("stream_options")
        include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
        body_model = body.get("model")
        model = path_model or (body_model if isinstance(body_model, str) and body_model else self.model)
        ctx = _Ctx(
            shape=shape,
            model=model,
            stream=stream,
            body=body,
            index=index,
            default_text=self.text,
            include_usage=include_usage,
            prompt_tokens=max(1, _count_words(body.get("contents") or body.get("messages") or [])),
        )
        return self._answer(conn, ctx, fault)

    # -- answers -------------------------------------------------------------------------------

    def _normal_answer(self, ctx: _Ctx) -> _Answer:
        if ctx.shape == "openai":
            messages = ctx.body.get("messages")
            msgs = messages if isinstance(messages, list) else []
            if any(isinstance(m, dict) and m.get("role") == "tool" for m in msgs):
                return _Answer(TOOL_FINAL_TEXT)
            if ctx.body.get("tools"):
                return _Answer(None, tool_call=True)
        return _Answer(ctx.default_text)

    @staticmethod
    def _pieces(answer: _Answer) -> list[str]:
        if answer.tool_call:
            return ['{"location":', '"Florence"}']
        return _split_words(answer.text or "")

    def _answer(self, conn: _Conn, ctx: _Ctx, fault: Fault | None) -> bool:
        shape = ctx.shape
        answer = self._normal_answer(ctx)
        if isinstance(fault, Ok) and fault.text is not None:
            answer = _Answer(fault.text)

        if fault is None or isinstance(fault, Ok):
            return self._send_answer(conn, ctx, answer, finish=True)

        if isinstance(fault, NoFinish):
            return self._send_answer(conn, ctx, answer, finish=False)

        if isinstance(fault, RateLimited):
            extra: list[tuple[str, str]] = []
            body = _error_body(shape, 429)
            if fault.retry_after is not None:
                ra = fault.retry_after
                if isinstance(ra, float) and ra.is_integer():
                    ra = int(ra)
                extra.append(("Retry-After", str(ra)))
                if shape == "gemini" and isinstance(ra, int | float):
                    body["error"]["details"] = [
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{ra}s"}
                    ]
            if fault.retry_after_ms is not None:
                extra.append(("retry-after-ms", str(fault.retry_after_ms)))
            conn.respond(429, _dumps(body), extra=extra)
            return True

        if isinstance(fault, Status):
            raw = fault.body
            if raw is None:
                data = _dumps(_error_body(shape, fault.code))
            elif isinstance(raw, bytes):
                data = raw
            elif isinstance(raw, str):
                data = raw.encode()
            else:
                data = _dumps(dict(raw))
            conn.respond(fault.code, data, fault.content_type, extra=fault.headers)
            return True

        if isinstance(fault, ContextLengthExceeded):
            conn.respond(400, _dumps(_context_length_body(shape)))
            return True

        if isinstance(fault, HtmlError):
            page = _HTML.format(code=fault.code, phrase=_phrase(fault.code)).encode()
            conn.respond(fault.code, page, "text/html")
            return True

        if isinstance(fault, InvalidJson):
            if ctx.stream:
                event = b"data: {not json" + (b"\r\n\r\n" if shape == "gemini" else b"\n\n")
                conn.send(conn.head(200, _SSE_TYPE) + conn.chunk(event) + b"0\r\n\r\n")
            else:
                conn.respond(200, b"{not json")
            return True

        if isinstance(fault, EmptyBody):
            conn.respond(200, b"", _SSE_TYPE if ctx.stream else "application/json")
            return True

        if isinstance(fault, InbandError):
            if not ctx.stream:
                conn.respond(200, _dumps(_inband_error_body(shape)))
                return True
            events, n_pre = _stream_events(ctx, answer, self._pieces(answer), finish=False)
            keep = [*events[: n_pre + max(0, fault.after_chunks)], _inband_error_event(shape)]
            conn.send(conn.head(200, _SSE_TYPE) + b"".join(conn.chunk(e) for e in keep) + b"0\r\n\r\n")
            return True

        if isinstance(fault, CutStream):
            if not ctx.stream:
                data = _dumps(_final_body(ctx, answer))
                conn.send(conn.head(200, "application/json", length=len(data)) + data[: len(data) // 2])
                return False
            events, _ = _stream_events(ctx, answer, self._pieces(answer))
            n = max(0, min(fault.after_events, len(events)))
            out = [conn.head(200, _SSE_TYPE)] + [conn.chunk(e) for e in events[:n]]
            if fault.mid_event and n < len(events):
                nxt = events[n]
                out.append(conn.chunk(nxt[: max(1, len(nxt) // 2)]))
            conn.send(b"".join(out))
            return False

        if isinstance(fault, ConnectionReset):
            conn.reset()
            return False

        if isinstance(fault, SplitUtf8):
            return self._send_split_utf8(conn, ctx, fault)

        if isinstance(fault, SlowDrip):
            return self._send_slow_drip(conn, ctx, answer, fault)

        if isinstance(fault, Huge):
            return self._send_huge(conn, ctx, fault)

        raise TypeError(f"unsupported fault {fault!r}")

    def _send_answer(self, conn: _Conn, ctx: _Ctx, answer: _Answer, *, finish: bool) -> bool:
        if not ctx.stream:
            conn.respond(200, _dumps(_final_body(ctx, answer, finish=finish)))
            return True
        events, _ = _stream_events(ctx, answer, self._pieces(answer), finish=finish)
        conn.send(conn.head(200, _SSE_TYPE) + b"".join(conn.chunk(e) for e in events) + b"0\r\n\r\n")
        return True

    def _send_split_utf8(self, conn: _Conn, ctx: _Ctx, fault: SplitUtf8) -> bool:
        answer = _Answer(fault.text)
        if not ctx.stream:
            data = _dumps(_final_body(ctx, answer))
            conn.send(conn.head(200, "application/json", length=len(data)))
            for i, piece in enumerate(_split_at(data, _utf8_split_points(data))):
                if i:
                    conn.sleep(fault.write_delay_s)
                conn.send(piece)
            return True
        events, _ = _stream_events(ctx, answer, _split_words(fault.text))
        conn.send(conn.head(200, _SSE_TYPE))
        for event in events:
            for piece in _split_at(event, _utf8_split_points(event)):
                conn.sleep(fault.write_delay_s)
                conn.send(conn.chunk(piece))
        conn.send(b"0\r\n\r\n")
        return True

    def _send_slow_drip(self, conn: _Conn, ctx: _Ctx, answer: _Answer, fault: SlowDrip) -> bool:
        conn.sleep(fault.initial_delay_s)
        if not ctx.stream:
            data = _dumps(_final_body(ctx, answer))
            step = max(1, -(-len(data) // max(1, fault.chunks)))
            conn.send(conn.head(200, "application/json", length=len(data)))
            for i in range(0, len(data), step):
                if i:
                    conn.sleep(fault.delay_s)
                conn.send(data[i : i + step])
            return True
        pieces = self._pieces(answer) if answer.tool_call else _split_n(answer.text or "", fault.chunks)
        events, _ = _stream_events(ctx, answer, pieces)
        conn.send(conn.head(200, _SSE_TYPE) + conn.chunk(events[0]))
        for event in events[1:]:
            conn.sleep(fault.delay_s)
            conn.send(conn.chunk(event))
        conn.send(b"0\r\n\r\n")
        return True

    def _send_huge(self, conn: _Conn, ctx: _Ctx, fault: Huge) -> bool:
        sentinel = "\x00HUGE\x00"
        marker = _dumps(sentinel)[1:-1]  # the escaped sentinel as it appears inside a JSON string
        block = b"a" * _BLOCK

        def filler(n: int) -> Iterator[bytes]:
            while n > 0:
                take = min(n, _BLOCK)
                yield block if take == _BLOCK else block[:take]
                n -= take

        if not ctx.stream:
            prefix, suffix = _dumps(_final_body(ctx, _Answer(sentinel))).split(marker)
            length = len(prefix) + fault.n_bytes + len(suffix)
            conn.send(conn.head(200, "application/json", length=length) + prefix)
            for part in filler(fault.n_bytes):
                conn.send(part)
            conn.send(suffix)
            return True

        answer = _Answer(sentinel)
        events, n_pre = _stream_events(ctx, answer, [sentinel, ""])
        prefix, suffix = events[n_pre].split(marker)
        conn.send(conn.head(200, _SSE_TYPE) + b"".join(conn.chunk(e) for e in events[:n_pre]))
        if fault.single_event:
            conn.send(conn.chunk(prefix))
            for part in filler(fault.n_bytes):
                conn.send(conn.chunk(part))
            conn.send(conn.chunk(suffix))
        else:
            step = 16 * 1024
            for offset in range(0, fault.n_bytes, step):
                conn.send(conn.chunk(prefix + block[: min(step, fault.n_bytes - offset)] + suffix))
        conn.send(b"".join(conn.chunk(e) for e in events[n_pre + 1 :]) + b"0\r\n\r\n")
        return True

r"""A sans-IO decoder for server-sent events (the WHATWG ``text/event-stream`` format).

Feed it bytes as they arrive, in chunks split anywhere (inside a line, inside a UTF-8
character); it returns the complete events. Lines end with ``\\n``, ``\\r\\n`` or ``\\r``
(Gemini separates events with ``\\r\\n\\r\\n``). Comment lines (OpenRouter's
``: OPENROUTER PROCESSING``) are skipped. The OpenAI ``data: [DONE]`` sentinel is dropped,
unless the decoder is made with ``keep_done=True``: then it is dispatched like any event
(data ``"[DONE]"``), so a decoder that knows the marker can tell a complete stream from a
cut one. An event cut off by the end of the stream is discarded, as the specification
says, so a truncated stream shows up as a missing finish rather than as broken JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from reverie._errors import InvalidResponseError
from reverie._record import Record

_DONE = "[DONE]"
_BOM = b"\xef\xbb\xbf"
_DEFAULT_MAX_BUFFER = 64 * 1024 * 1024


@dataclass(slots=True, repr=False, eq=False)
class SSEEvent(Record):
    r"""One dispatched event: its name (``"message"`` by default) and its data lines joined by ``\\n``."""

    event: str
    data: str
    id: str | None = None


class SSEDecoder:
    """Turns a byte stream into ``SSEEvent`` objects."""

    __slots__ = (
        "_at_start",
        "_buffer",
        "_data",
        "_event",
        "_id",
        "_keep_done",
        "_max_buffer",
        "_pending",
        "_pending_size",
        "_start",
    )

    def __init__(self, *, max_buffer: int = _DEFAULT_MAX_BUFFER, keep_done: bool = False) -> None:
        """Make a decoder.

        Args:
            max_buffer: The longest line accepted, so a stream without newlines cannot
                exhaust memory.
            keep_done: Dispatch the ``[DONE]`` sentinel as an event instead of dropping it.
        """
        self._max_buffer = max_buffer
        self._keep_done = keep_done
        self._buffer = b""
        # Chunks of a line still without its end. They are joined once, when the line ends,
        # so a long line arriving in many chunks is copied and scanned a bounded number of
        # times instead of once per chunk (which made decoding quadratic).
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._at_start = True
        self._start = b""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume ``chunk`` and return the events it completes."""
        if self._at_start:
            chunk = self._skip_bom(chunk)
            if not chunk:
                return []
        if b"\n" not in chunk and b"\r" not in chunk and not self._buffer.endswith(b"\r"):
            # Only this chunk is scanned: the held part of the line has no line end (a held
            # CR, the possible first half of a CRLF, is resolved by the next chunk).
            self._pending_size += len(chunk)
            if self._pending_size + len(self._buffer) > self._max_buffer:
                raise InvalidResponseError(f"stream line exceeds the limit of {self._max_buffer} bytes")
            self._pending.append(chunk)
            return []
        if self._pending:
            chunk = b"".join(self._pending) + chunk
            self._pending, self._pending_size = [], 0
        buffer = self._buffer + chunk if self._buffer else chunk
        tail = b""
        if b"\r" in buffer:
            # A trailing CR may be the first half of a CRLF split across chunks.
            if buffer.endswith(b"\r"):
                buffer, tail = buffer[:-1], b"\r"
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        complete = buffer.rfind(b"\n")
        self._buffer = buffer[complete + 1 :] + tail
        if len(self._buffer) > self._max_buffer:
            raise InvalidResponseError(f"stream line exceeds the limit of {self._max_buffer} bytes")
        if complete < 0:
            return []
        # The complete lines are decoded at once: a line end is never inside a UTF-8
        # character, so this is what decoding each line would give, for one call per chunk.
        lines = buffer[:complete].decode("utf-8", errors="replace").split("\n")
        events: list[SSEEvent] = []
        data = self._data
        for line in lines:
            # The two lines of nearly every LLM event, "data: {...}" and the blank line that
            # ends it, are handled here (this runs per token); anything else goes through
            # the generic parse.
            if line.startswith("data: "):
                data.append(line[6:])
            elif not line:
                if data:
                    text = data[0] if len(data) == 1 else "\n".join(data)
                    data.clear()  # the same list for the next event: no allocation per event
                    event = self._event
                    if event:
                        self._event = ""
                    if text != _DONE or self._keep_done:
                        events.append(SSEEvent(event or "message", text, self._id))
                else:
                    self._event = ""
            else:
                self._line(line)
                data = self._data
        return events

    def _skip_bom(self, chunk: bytes) -> bytes:
        """Drop a leading UTF-8 byte order mark, which may itself arrive split across chunks."""
        self._start += chunk
        if len(self._start) < len(_BOM) and _BOM.startswith(self._start):
            return b""  # too early to tell
        self._at_start = False
        start, self._start = self._start, b""
        return start[len(_BOM) :] if start.startswith(_BOM) else start

    def end(self) -> list[SSEEvent]:
        """Signal the end of the stream; return the event completed by a held-back final CR, if any."""
        remainder = self._buffer + b"".join(self._pending)
        self._buffer, self._pending, self._pending_size = b"", [], 0
        events: list[SSEEvent] = []
        if remainder.endswith(b"\r"):
            # The CR held back as a possible CRLF half ends its line after all, e.g. the
            # blank line of "data: x\r\r"; a line without any terminator is incomplete.
            event = self._line(remainder[:-1].decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        # An event never terminated by a blank line is discarded (WHATWG §9.2.6).
        self._event, self._data, self._id = "", [], None
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":  # "data" without a colon: an empty data line
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, event, self._data, self._event = self._data, self._event, [], ""
        if not data:
            return None
        text = data[0] if len(data) == 1 else "\n".join(data)
        if text == _DONE and not self._keep_done:
            return None
        return SSEEvent(event or "message", text, self._id)

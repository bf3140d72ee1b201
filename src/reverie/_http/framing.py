"""How a streamed response body is cut into events: the framings a codec can choose.

A framing names the ``accept`` header of streaming requests and builds a fresh sans-IO
decoder per response. The decoder is fed raw bytes as they arrive and returns
``SSEEvent`` objects, so a codec's ``StreamDecoder`` reads every framing alike:

- ``SSE``: server-sent events (``text/event-stream``), what every provider speaks today;
- ``SSE_WITH_DONE``: the same, passing the chat-completions ``data: [DONE]`` marker on
  as an event, for decoders that treat it as the end of a complete stream;
- ``AWS_EVENT_STREAM``: Bedrock's binary ``application/vnd.amazon.eventstream``.

A codec picks one with a ``framing`` attribute (``SSE`` when it has none; see
``reverie._codec.stream_framing``). This module does no I/O; the engine drives the decoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from reverie._http.sse import SSEDecoder, SSEEvent
from reverie._record import FrozenRecord

EVENT_STREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"


class FrameDecoder(Protocol):
    """Stateful: bytes of one response in, complete events out."""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume ``chunk`` (split anywhere) and return the events it completes."""
        ...

    def end(self) -> list[SSEEvent]:
        """The body is over: return what a final terminator completes, or raise if it was cut."""
        ...


class Framing(Protocol):
    """A stream framing: its ``accept`` header and a decoder factory."""

    @property
    def accept(self) -> str:
        """The ``accept`` header of a streaming request."""
        ...

    def decoder(self, *, max_bytes: int) -> FrameDecoder:
        """A fresh decoder for one response; no single event may exceed ``max_bytes``."""
        ...


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class SSEFraming(FrozenRecord):
    """Server-sent events, decoded by ``SSEDecoder``."""

    accept: str = "text/event-stream"
    keep_done: bool = False
    """Whether the ``[DONE]`` sentinel reaches the stream decoder (see ``SSEDecoder``)."""

    def decoder(self, *, max_bytes: int) -> FrameDecoder:
        """A fresh ``SSEDecoder`` whose longest line is ``max_bytes``."""
        return SSEDecoder(max_buffer=max_bytes, keep_done=self.keep_done)


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class EventStreamFraming(FrozenRecord):
    """The AWS binary event stream, decoded by ``EventStreamDecoder``."""

    accept: str = EVENT_STREAM_CONTENT_TYPE

    def decoder(self, *, max_bytes: int) -> FrameDecoder:
        """A fresh ``EventStreamDecoder`` whose largest message is ``max_bytes``."""
        # Loaded on first use: only Bedrock streams need it.
        from reverie._http.eventstream import EventStreamDecoder

        return EventStreamDecoder(max_frame=max_bytes)


SSE = SSEFraming()
"""The default framing."""
SSE_WITH_DONE = SSEFraming(keep_done=True)
"""Server-sent events with the ``[DONE]`` marker kept (the chat-completions codecs)."""
AWS_EVENT_STREAM = EventStreamFraming()
"""Bedrock's framing."""

"""Streaming is never buffered: a part reaches the consumer before the server sends the next event.

The server below sends one event, then holds the second until the consumer has seen the
first text part (or a guard timeout passes). A client that buffered (read the whole body,
or waited for more events before yielding) cannot see the text in time, and the recorded
order says so. The assertion is about order, not about how long anything took.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import httpx2
import pytest

from reverie import Agent, RetryPolicy, TextDeltaPart
from reverie.providers import openaicompat

GUARD_SECONDS = 10.0
"""Only a hang guard: a correct client releases the server at once."""


def _event(delta: dict[str, object], finish: str | None = None) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


class GatedServer:
    """Serves one streamed answer on 127.0.0.1, holding the second event until released."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.consumer_saw_text = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(GUARD_SECONDS)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        with connection:
            connection.settimeout(GUARD_SECONDS)
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(
                next(
                    line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
                ).split(b":")[1]
            )
            while len(body) < length:
                body += connection.recv(65536)
            connection.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            # Logged before sending: once the bytes are out, the consumer may log first.
            self.log.append("server sends event 1")
            connection.sendall(_chunk(_event({"content": "Olá"})))
            released = self.consumer_saw_text.wait(GUARD_SECONDS)
            self.log.append("server released by the consumer" if released else "server gave up waiting")
            self.log.append("server sends event 2")
            connection.sendall(_chunk(_event({"content": "!"}) + _event({}, "stop") + b"data: [DONE]\n\n"))
            connection.sendall(b"0\r\n\r\n")

    def close(self) -> None:
        self._listener.close()
        self._thread.join(GUARD_SECONDS)


@pytest.fixture
def server() -> Iterator[GatedServer]:
    gated = GatedServer()
    yield gated
    gated.close()


@pytest.mark.anyio
async def test_first_text_part_arrives_before_the_server_sends_the_second_event(server: GatedServer) -> None:
    async with httpx2.AsyncClient() as client:
        provider = openaicompat.Provider(base_url=server.url, async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=0))
        text = ""
        async with agent.stream_async("hi") as stream:
            async for part in stream:
                if isinstance(part, TextDeltaPart):
                    if not text:
                        server.log.append("consumer got the first text part")
                        server.consumer_saw_text.set()
                    text += part.delta
    assert server.log == [
        "server sends event 1",
        "consumer got the first text part",
        "server released by the consumer",
        "server sends event 2",
    ]
    assert text == "Olá!"

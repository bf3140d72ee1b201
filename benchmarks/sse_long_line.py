"""Decoding one very long server-sent-events line: reverie's decoder vs bare httpx2.

    python benchmarks/sse_long_line.py [--size BYTES] [--chunk BYTES]

Feeds a single ``data:`` line of ``--size`` bytes (50 MB by default), then the blank line
that ends the event, in ``--chunk``-byte pieces (64 KiB by default) to ``SSEDecoder``, and
the same bytes to httpx2's ``Response.iter_lines``. Prints both times and their ratio. A
decoder that rescans the partial line on every chunk is quadratic and takes minutes here;
a linear one stays within a small factor of httpx2.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator

import httpx2

from reverie._http.sse import SSEDecoder


def make_body(size: int) -> bytes:
    """One event whose data line is ``size`` bytes long."""
    return b"data: " + b"x" * size + b"\n\n"


def pieces(body: bytes, chunk: int) -> Iterator[bytes]:
    """``body`` in ``chunk``-byte pieces, as a network would deliver it."""
    for index in range(0, len(body), chunk):
        yield body[index : index + chunk]


def reverie_seconds(body: bytes, chunk: int) -> float:
    """Seconds for ``SSEDecoder`` to decode ``body`` (checks it got the one event)."""
    started = time.perf_counter()
    decoder = SSEDecoder(max_buffer=len(body) + 1)
    events = [event for piece in pieces(body, chunk) for event in decoder.feed(piece)]
    events.extend(decoder.end())
    elapsed = time.perf_counter() - started
    assert len(events) == 1 and len(events[0].data) == len(body) - 8
    return elapsed


def httpx2_seconds(body: bytes, chunk: int) -> float:
    """Seconds for httpx2's ``iter_lines`` to split the same bytes, arriving in the same pieces."""
    response = httpx2.Response(200, content=pieces(body, chunk))
    started = time.perf_counter()
    lines = list(response.iter_lines())
    elapsed = time.perf_counter() - started
    assert len(lines[0]) == len(body) - 2
    return elapsed


def main() -> None:
    """Print both decode times and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=50 * 1024 * 1024)
    parser.add_argument("--chunk", type=int, default=64 * 1024)
    arguments = parser.parse_args()
    body = make_body(arguments.size)
    ours = reverie_seconds(body, arguments.chunk)
    theirs = httpx2_seconds(body, arguments.chunk)
    print(
        f"SSE line of {arguments.size} bytes in {arguments.chunk}-byte chunks: "
        f"reverie {ours:.3f} s, httpx2 iter_lines {theirs:.3f} s, ratio {ours / theirs:.1f}"
    )


if __name__ == "__main__":
    main()

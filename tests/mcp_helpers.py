"""Starting the test MCP server (``tests/mcp_server.py``) for the MCP tests, with bounded waits.

Kept apart from the server module so that the test session's conftest does not import the
SDK's server stack. ``serve_http`` starts the server over streamable HTTP on a free port of
127.0.0.1 and stops it afterwards; the server also stops by itself if this process dies.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_ARGS = ["-m", "tests.mcp_server"]
"""Arguments for ``sys.executable`` that run the test server over stdio (from ``ROOT``)."""
START_TIMEOUT = 30.0
"""Seconds the HTTP server may take to accept connections."""
STOP_TIMEOUT = 10.0


def tiny_png() -> bytes:
    """A valid 1x1 red PNG, made here so the tests need no file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


PNG = tiny_png()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve_http() -> Iterator[str]:
    """The test server over streamable HTTP; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, *SERVER_ARGS, "--http", str(port), "--parent", str(os.getpid())],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the MCP test server exited with {process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the MCP test server did not listen within {START_TIMEOUT} s"
                    ) from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

"""Shared definitions of the benchmark suite: workloads, expected answers, the weather tool.

This module is imported by the harness (``run.py``), by the mock server and by the worker running
inside each client's virtualenv, so it uses the standard library only.
"""

from __future__ import annotations

import contextlib
import json
import re
import resource
import socket
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

CLIENTS: tuple[str, ...] = ("raw", "reverie", "openai", "litellm", "pydantic_ai")
BASELINE_CLIENT = "raw"
WORKLOAD_KEYS: tuple[str, ...] = ("a", "b", "c", "d", "e")

API_KEY = "k"
PROMPT = "hi"
AGENT_PROMPT = "What is the weather in Florence?"
TOOL_NAME = "weather"
TOOL_DESCRIPTION = "Get weather information for a location"
TOOL_ARG_DESCRIPTION = "the city"
TOOL_LOCATION = "Florence"
TOOL_RESULT = "40 C"
AGENT_ANSWER = f"It is {TOOL_RESULT} in {TOOL_LOCATION}."
TOOL_CALL_ID = "call_bench_weather"

# OpenAI tool definition used by the clients that build requests by hand (raw, openai, litellm).
WEATHER_TOOL: dict[str, object] = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": TOOL_ARG_DESCRIPTION}},
            "required": ["location"],
        },
    },
}

# Chunk count of the non-streaming answer of workload (a): a short paragraph, ~130 characters.
CALL_TOKENS = 20
MODEL_PREFIX = "bench-"
_MODEL_TOKENS = re.compile(r"(\d+)$")
DEFAULT_TOKENS = 10
MAX_TOKENS = 1_000_000


@dataclass(frozen=True)
class Workload:
    """One client workload (a-d) and its size; (e) is the cold-import workload."""

    key: str
    title: str
    unit: str
    count: int
    chunks: int = 0

    @property
    def model(self) -> str:
        """Model name sent to the mock server; its numeric suffix is the chunk count."""
        return model_name(self.chunks or CALL_TOKENS)

    @property
    def units(self) -> int:
        """How many units (calls, chunks or agent runs) the measured loop performs."""
        return self.count * self.chunks if self.chunks else self.count

    @property
    def requests(self) -> int:
        """How many HTTP requests the measured loop must make."""
        return self.count * 2 if self.key == "d" else self.count

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def workloads(quick: bool) -> dict[str, Workload]:
    """Return the workload definitions, full size or (``quick``) reduced for a smoke test."""
    scale = {"a": 300, "b": 30, "c": 200, "d": 100} if not quick else {"a": 100, "b": 5, "c": 200, "d": 50}
    c_chunks = 200 if not quick else 50
    return {
        "a": Workload("a", "non-streaming call (sequential)", "call", scale["a"]),
        "b": Workload("b", "sync stream, 1,000 chunks (sequential)", "chunk", scale["b"], 1000),
        "c": Workload(
            "c", f"async streams, {c_chunks} chunks, 200 concurrent", "chunk", scale["c"], c_chunks
        ),
        "d": Workload("d", "2-step agent (weather tool call, then answer)", "run", scale["d"]),
    }


def import_repetitions(quick: bool, rounds: int) -> int:
    """Cold-import processes per client and round for workload (e): at least 10 per client in all
    (5 with ``quick``), and at least 3 per round so that every round has its own median."""
    total = 5 if quick else 10
    return max(3, -(-total // rounds))


def model_name(tokens: int) -> str:
    return f"{MODEL_PREFIX}{tokens}"


def tokens_for_model(model: str) -> int:
    """Chunk count requested by a model name such as ``bench-1000`` (or ``openai/bench-1000``)."""
    match = _MODEL_TOKENS.search(model)
    if match is None:
        return DEFAULT_TOKENS
    return max(0, min(int(match.group(1)), MAX_TOKENS))


def text_piece(index: int) -> str:
    """Text of the ``index``-th streamed chunk."""
    return f"tok{index} "


def expected_text(tokens: int) -> str:
    """The complete answer for ``tokens`` chunks: the concatenation of all pieces."""
    return "".join(text_piece(i) for i in range(tokens))


@dataclass
class ToolLog:
    """Executions of the ``weather`` tool, so the worker can check one call per agent run."""

    calls: int = 0
    bad_arguments: list[str] = field(default_factory=list)


TOOL_LOG = ToolLog()


def weather_impl(location: str) -> str:
    """The body of every client's ``weather`` tool."""
    TOOL_LOG.calls += 1
    if location != TOOL_LOCATION:
        TOOL_LOG.bad_arguments.append(location)
    return TOOL_RESULT


def server_stats(base_url: str, timeout: float = 10.0) -> dict[str, float]:
    """Read the mock server's counters (``GET /__stats``) over a plain socket.

    A bare socket keeps the worker from importing an extra HTTP stack (which would skew its RSS).
    """
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(f"GET /__stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    _, _, body = data.partition(b"\r\n\r\n")
    stats: dict[str, float] = json.loads(body)
    return stats


def raise_open_files_limit() -> None:
    """Raise this process's soft limit of open files to the hard one (thousands of connections)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):  # an unlimited hard limit may be refused
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

"""The rows of the scale suite (``scale.py``): what each one measures, its sizes and its counts.

Also the pieces of the requests both scale clients send (history text, extra tool names), so that
raw httpx2 and reverie build JSON-equal bodies. Standard library only: the harness imports it, and
so do the workers inside each client's virtualenv. It does not run anything.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from common import AGENT_ANSWER, CALL_TOKENS, expected_text, model_name

DELAY_MS = 1000
"""The delayed concurrency row: the server answers every request after this long."""
CONCURRENT_CHUNKS = 20
"""Chunks of each stream in the concurrency rows."""
HISTORY_MODEL = model_name(CALL_TOKENS)
CONCURRENT_MODEL = model_name(CONCURRENT_CHUNKS)
STREAM_WARM_UP_MODEL = model_name(100)
"""The stream row's warm-up: a short stream before the measured one."""
RATIO_LIMIT = 1.2
"""Acceptance: every row at most this ratio to raw httpx2."""
MEMORY_LIMIT_MIB = 5.0
"""Acceptance: a consumed stream's memory within this many MiB of raw httpx2's."""
STREAM_MAX_RESPONSE_BYTES = 2**30
"""reverie's ``max_response_bytes`` in the scale suite: its 64 MiB default is a safety cap that a
500k-chunk stream (about 100 MiB of SSE) would hit."""
FIRST_REQUEST_SAMPLES = 5
"""Fresh interpreters per client and round in the first-request row (3 with ``--quick``)."""


@dataclass(frozen=True)
class Row:
    """One row of the suite: a workload measured at growing sizes.

    ``figure`` is ``"wall"`` (seconds of the measured window), ``"cpu"`` (µs of CPU per ``per``)
    or ``"first"`` (ms of wall time per fresh interpreter). A measurement repeats the operation
    ``repeats(size)`` times: ``work // size`` clamped to [``least``, ``most``].
    """

    key: str
    title: str
    size_label: str
    figure: str
    per: str
    sizes: tuple[int, ...]
    quick_sizes: tuple[int, ...]
    work: int = 0
    least: int = 1
    most: int = 1

    def repeats(self, size: int) -> int:
        return max(self.least, min(self.most, self.work // size))

    def units(self, size: int) -> int:
        """What the CPU figure is divided by: streams, calls, runs or chunks."""
        if self.key == "stream" or self.key.startswith("concurrency"):
            return self.repeats(size) * size
        return self.repeats(size)

    def requests(self, size: int) -> int:
        """HTTP requests the measured window must make."""
        runs = self.repeats(size)
        if self.key.startswith("concurrency"):
            return runs * size
        if self.key == "agent":
            return runs * (size + 1)
        if self.key == "tools":
            return runs * 2
        return runs

    def tool_calls(self, size: int) -> int:
        """Times the ``weather`` tool must run in the measured window."""
        if self.key == "agent":
            return self.repeats(size) * size
        return self.repeats(size) if self.key == "tools" else 0

    def expected(self, size: int) -> str:
        """The answer every operation of the row must return."""
        if self.key in ("agent", "tools"):
            return AGENT_ANSWER
        if self.key.startswith("concurrency"):
            return expected_text(CONCURRENT_CHUNKS)
        if self.key == "stream":
            return expected_text(size)
        return expected_text(CALL_TOKENS)

    def to_json(self) -> dict[str, object]:
        return asdict(self)


ROWS: dict[str, Row] = {
    row.key: row
    for row in (
        Row(
            "concurrency",
            f"concurrent async streams ({CONCURRENT_CHUNKS} chunks each), "
            f"the server answers each after {DELAY_MS / 1000:g} s: wall time",
            "streams",
            "wall",
            "",
            (10, 100, 1000, 5000),
            (10, 100),
        ),
        Row(
            "concurrency-cpu",
            f"concurrent async streams ({CONCURRENT_CHUNKS} chunks each), no delay: CPU per stream",
            "streams",
            "cpu",
            "stream",
            (10, 100, 1000, 5000),
            (10, 100),
            work=1000,
            least=1,
            most=50,
        ),
        Row(
            "history",
            "non-streaming call after N earlier messages: CPU per call",
            "messages",
            "cpu",
            "call",
            (10, 100, 1000, 5000),
            (10, 100),
            work=160_000,
            least=40,
            most=1_000,
        ),
        Row(
            "agent",
            "agent run of N tool steps (`weather` each step, then the answer): CPU per run",
            "tool steps",
            "cpu",
            "run",
            (10, 30, 100),
            (10,),
            work=1_200,
            least=3,
            most=120,
        ),
        Row(
            "stream",
            "one sync stream of N chunks, consumed to the end: CPU per chunk, and memory",
            "chunks",
            "cpu",
            "chunk",
            (1_000, 10_000, 100_000, 500_000),
            (1_000, 10_000),
            work=200_000,
            least=1,
            most=50,
        ),
        Row(
            "tools",
            "2-step agent run offering N tools (`weather` is called, then the answer): CPU per run",
            "tools",
            "cpu",
            "run",
            (1, 10, 100, 500),
            (1, 10),
            work=16_000,
            least=20,
            most=800,
        ),
        Row(
            "first-request",
            "time to first request: a fresh interpreter imports, builds the client and makes one call",
            "",
            "first",
            "",
            (1,),
            (1,),
        ),
    )
}


def history_text(index: int) -> str:
    """The text of the ``index``-th earlier message (even: the user's, odd: the assistant's)."""
    who = "question" if index % 2 == 0 else "answer"
    return f"This is {who} number {index} of a long conversation about the weather in Florence."


def extra_tool_name(index: int) -> str:
    """The name of the ``index``-th tool beside ``weather`` in the tools row (index from 1)."""
    return f"lookup_{index}"


def extra_tool_description(index: int) -> str:
    return f"Look up record {index} for a location"


def first_request_statement(client: str, base_url: str) -> str:
    """The program each fresh interpreter of the first-request row runs (``python -c``)."""
    expected = expected_text(CALL_TOKENS)
    if client == "raw":
        return (
            "import json, httpx2\n"
            "client = httpx2.Client(timeout=60.0, "
            "limits=httpx2.Limits(max_connections=1000, max_keepalive_connections=100))\n"
            f"body = json.dumps({{'model': {HISTORY_MODEL!r}, "
            "'messages': [{'role': 'user', 'content': 'hi'}]})\n"
            f"response = client.post({base_url + '/chat/completions'!r}, content=body, "
            "headers={'Authorization': 'Bearer k', 'Content-Type': 'application/json'})\n"
            "response.raise_for_status()\n"
            f"assert response.json()['choices'][0]['message']['content'] == {expected!r}\n"
        )
    return (
        "from reverie import Agent\n"
        "from reverie.providers import openaicompat\n"
        f"provider = openaicompat.Provider(base_url={base_url!r}, api_key='k')\n"
        f"agent = Agent(provider.language_model({HISTORY_MODEL!r}))\n"
        f"assert agent.generate('hi').text == {expected!r}\n"
    )

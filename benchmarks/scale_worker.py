"""Run one scale row at one size for one client and print one JSON line (``BENCH_RESULT {...}``).

Started by ``scale.py`` as a fresh subprocess of the client's virtualenv python::

    python scale_worker.py --client raw --row history --size 1000 --url http://127.0.0.1:PORT/v1

It builds the client and what the row reuses (history, tools, agents), makes one warm-up operation
(checked too), then measures the row's operation ``Row.repeats(size)`` times with ``worker.Meter``
(CPU of every thread, wall time, the server's CPU, request count and body digest) and the time
spent in garbage collections. The stream row also samples the RSS while the stream is consumed and
reads it again once everything is released; with ``--traced`` it measures the same stream with
``tracemalloc`` instead of timing it (a separate process, as tracing slows everything down).
Every answer, the request count and the tool runs are checked after the window; a mismatch makes the
result a failure. It does not compare clients: ``scale.py`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common import TOOL_LOG, model_name, raise_open_files_limit
from scale_rows import ROWS, STREAM_WARM_UP_MODEL, Row
from worker import Meter, Window, WrongAnswer, check_count, report

MODULES = {"raw": "bench_clients.scale_raw", "reverie": "bench_clients.scale_reverie"}
MIB = 1024 * 1024
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_EVERY = 1024


class RssSampler:
    """The peak resident set size seen by ``sample()``, called every ``SAMPLE_EVERY`` ticks."""

    def __init__(self) -> None:
        self.statm = os.open("/proc/self/statm", os.O_RDONLY)
        self.ticks = 0
        self.peak = 0

    def rss(self) -> int:
        """The current RSS in bytes (``/proc/self/statm``, read again at offset 0)."""
        return int(os.pread(self.statm, 128, 0).split()[1]) * PAGE_SIZE

    def tick(self) -> None:
        self.ticks += 1
        if not self.ticks % SAMPLE_EVERY:
            self.sample()

    def sample(self) -> None:
        self.peak = max(self.peak, self.rss())


class GcTimer:
    """Wall time spent in garbage collections while installed in ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total = 0.0
        self.collections = 0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started
            self.collections += 1


class GcMeter(Meter):
    """``worker.Meter`` that also times the garbage collections inside the window."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.gc = GcTimer()

    def begin(self) -> None:
        gc.callbacks.append(self.gc)
        super().begin()

    def end(self) -> Window:
        window = super().end()
        gc.callbacks.remove(self.gc)
        return window


@dataclass
class Outcome:
    """What a measured window produced: the answers, its figures, the tool runs, memory in MiB."""

    answers: list[str]
    window: Window
    tool_calls: int
    memory: dict[str, float] = field(default_factory=dict[str, float])


def expect(answer: str, expected: str) -> None:
    if answer != expected:
        raise WrongAnswer(f"warm-up answered {answer[:80]!r}, expected {expected[:80]!r}")


def check(outcome: Outcome, row: Row, size: int, traced: bool) -> None:
    """Raise ``WrongAnswer`` unless every answer, the tool runs and the request count are right."""
    runs = 1 if traced else row.repeats(size)
    count = runs * (size if row.key.startswith("concurrency") else 1)
    requests = 1 if traced else row.requests(size)
    check_count(outcome.answers, row.expected(size), count)
    if outcome.tool_calls != row.tool_calls(size) or TOOL_LOG.bad_arguments:
        raise WrongAnswer(f"weather ran {outcome.tool_calls} times, expected {row.tool_calls(size)}")
    if outcome.window.server_requests != requests:
        raise WrongAnswer(f"made {outcome.window.server_requests} HTTP requests, expected {requests}")


async def concurrency(client: Any, row: Row, size: int, meter: Meter) -> Outcome:
    """``size`` concurrent streams, ``repeats`` times; the event loop's default clients die with it."""
    delayed = row.key == "concurrency"
    try:
        expect(await client.astream(False), row.expected(size))
        answers: list[str] = []
        meter.begin()
        for _ in range(row.repeats(size)):
            answers += await asyncio.gather(*(client.astream(delayed) for _ in range(size)))
        window = meter.end()
    finally:
        await client.aclose()
    return Outcome(answers, window, 0)


def sequential(client: Any, row: Row, size: int, meter: Meter) -> Outcome:
    """The history, agent or tools operation, ``repeats`` times in a row."""
    operation: Callable[[], str] = {
        "history": client.call,
        "agent": lambda: client.agent(size),
        "tools": client.tools_run,
    }[row.key]
    expect(operation(), row.expected(size))
    tool_calls = TOOL_LOG.calls
    meter.begin()
    answers = [operation() for _ in range(row.repeats(size))]
    window = meter.end()
    return Outcome(answers, window, TOOL_LOG.calls - tool_calls)


def stream(client: Any, row: Row, size: int, meter: Meter, traced: bool) -> Outcome:
    """Consume ``repeats`` streams of ``size`` chunks (one with ``traced``), with the memory figures.

    Memory is in MiB above what the process held before the first stream: the peak while streams
    are consumed, and what is kept once they are released (``gc.collect()`` first). The texts are
    checked and dropped as they come.
    """
    expected = row.expected(size)
    sampler = RssSampler()
    expect(client.stream(STREAM_WARM_UP_MODEL, sampler.tick), row.expected(100))
    model, runs = model_name(size), 1 if traced else row.repeats(size)
    answers: list[str] = []
    if traced:
        tracemalloc.start()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0] if traced else sampler.rss()
    sampler.peak = before
    if traced:
        tracemalloc.reset_peak()
    meter.begin()
    for _ in range(runs):
        text = client.stream(model, sampler.tick)
        sampler.sample()
        answers.append(expected if text == expected else text[:80])
        del text
    window = meter.end()
    peak = tracemalloc.get_traced_memory()[1] if traced else sampler.peak
    gc.collect()
    after = tracemalloc.get_traced_memory()[0] if traced else sampler.rss()
    if traced:
        tracemalloc.stop()
    prefix = "traced" if traced else "rss"
    memory = {f"{prefix}_peak_mib": (peak - before) / MIB, f"{prefix}_kept_mib": (after - before) / MIB}
    return Outcome(answers, window, 0, memory)


def run(args: argparse.Namespace) -> dict[str, Any]:
    row, size = ROWS[args.row], args.size
    client = importlib.import_module(MODULES[args.client]).Client(args.url)
    client.prepare(row.key, size)
    meter = GcMeter(args.url)
    if row.key.startswith("concurrency"):
        outcome = asyncio.run(concurrency(client, row, size, meter))
    elif row.key == "stream":
        outcome = stream(client, row, size, meter, args.traced)
    else:
        outcome = sequential(client, row, size, meter)
    if not row.key.startswith("concurrency"):
        asyncio.run(client.aclose())
    check(outcome, row, size, args.traced)
    return outcome.window.figures() | {
        "body_digest": outcome.window.body_digest,
        "units": size if args.traced else row.units(size),
        "gc_s": meter.gc.total,
        "gc_collections": meter.gc.collections,
        **outcome.memory,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--client", required=True, choices=sorted(MODULES))
    parser.add_argument("--row", required=True, choices=[key for key in ROWS if key != "first-request"])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--traced", action="store_true", help="stream row: measure with tracemalloc")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit()
    base = {"client": args.client, "row": args.row, "size": args.size, "traced": args.traced}
    return report(base, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())

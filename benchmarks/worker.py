"""Run one client on one workload and print one JSON line (``BENCH_RESULT {...}``).

Started by ``run.py`` as a fresh subprocess of the client's virtualenv python::

    python worker.py --client raw --workload b --url http://127.0.0.1:PORT/v1 --count 30 --chunks 1000

It imports the client (so its library), makes one warm-up call, then measures the loop: CPU time as
the ``getrusage(RUSAGE_SELF)`` user+sys delta (all threads of the process), wall time, and the peak
RSS (``ru_maxrss``) at the end. The mock server's own CPU over the same window comes from its
``/__stats`` route. Every answer is checked after the loop; a wrong one makes the result a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench_clients import BenchClient, load_client
from common import AGENT_ANSWER, CALL_TOKENS, TOOL_LOG, Workload, expected_text, server_stats

RESULT_PREFIX = "BENCH_RESULT "


class WrongAnswer(Exception):
    """A client returned something other than the expected answer."""


@dataclass
class Window:
    """What the measured loop cost: client CPU and wall time, server CPU and requests."""

    cpu_s: float
    wall_s: float
    server_cpu_s: float
    server_requests: int
    body_digest: int = 0
    """Sum (mod 2**64) of the hashes of the request bodies the server got (see ``mock_server``)."""

    def figures(self) -> dict[str, Any]:
        """The window's figures as a successful result reports them."""
        return {
            "ok": True,
            "cpu_s": self.cpu_s,
            "wall_s": self.wall_s,
            "server_cpu_s": self.server_cpu_s,
            "server_requests": self.server_requests,
        }


class Meter:
    """Snapshots of client rusage, wall clock and server counters around the measured loop."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.start: tuple[float, float, dict[str, float]] | None = None

    @staticmethod
    def _cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def begin(self) -> None:
        stats = server_stats(self.url)
        self.start = (self._cpu(), time.perf_counter(), stats)

    def end(self) -> Window:
        cpu, wall = self._cpu(), time.perf_counter()
        stats = server_stats(self.url)
        assert self.start is not None
        cpu0, wall0, stats0 = self.start
        return Window(
            cpu - cpu0,
            wall - wall0,
            stats["cpu_s"] - stats0["cpu_s"],
            int(stats["requests"] - stats0["requests"]),
            int(stats.get("body_digest", 0) - stats0.get("body_digest", 0)) % 2**64,
        )


def expected_answer(workload: Workload) -> str:
    return AGENT_ANSWER if workload.key == "d" else expected_text(workload.chunks or CALL_TOKENS)


def check_answers(answers: list[str], workload: Workload, tool_calls: int) -> None:
    """Raise ``WrongAnswer`` unless every answer is right (and, for d, the tool ran once per run)."""
    check_count(answers, expected_answer(workload), workload.count)
    if workload.key == "d" and (tool_calls != workload.count or TOOL_LOG.bad_arguments):
        raise WrongAnswer(
            f"weather tool ran {tool_calls} times for {workload.count} runs; "
            f"bad arguments: {TOOL_LOG.bad_arguments[:3]}"
        )


def check_count(answers: list[str], expected: str, count: int) -> None:
    """Raise ``WrongAnswer`` unless there are ``count`` answers and each is ``expected``."""
    wrong = [answer for answer in answers if answer != expected]
    if len(answers) != count or wrong:
        sample = wrong[0] if wrong else ""
        raise WrongAnswer(
            f"{len(wrong)} of {len(answers)} answers wrong (expected {count}); "
            f"got {sample[:80]!r}, expected {expected[:80]!r}"
        )


def warm_up(workload: Workload) -> Workload:
    """The one-call workload of the warm-up, to check its answer like the measured ones."""
    return Workload(workload.key, "warm-up", workload.unit, 1, workload.chunks)


def check_requests(window: Window, workload: Workload) -> None:
    if window.server_requests != workload.requests:
        raise WrongAnswer(f"made {window.server_requests} HTTP requests, expected {workload.requests}")


def run_sync(client: BenchClient, workload: Workload, meter: Meter) -> Window:
    operation: Callable[[str], str] = {"a": client.call, "b": client.stream, "d": client.agent}[workload.key]
    model = workload.model
    tool_calls = TOOL_LOG.calls
    check_answers([operation(model)], warm_up(workload), TOOL_LOG.calls - tool_calls)
    tool_calls = TOOL_LOG.calls
    meter.begin()
    answers = [operation(model) for _ in range(workload.count)]
    window = meter.end()
    check_answers(answers, workload, TOOL_LOG.calls - tool_calls)
    check_requests(window, workload)
    return window


async def run_async(client_name: str, url: str, workload: Workload, meter: Meter) -> Window:
    client = load_client(client_name, url)
    model = workload.model
    try:
        check_answers([await client.astream(model)], warm_up(workload), 0)
        meter.begin()
        answers = await asyncio.gather(*(client.astream(model) for _ in range(workload.count)))
        window = meter.end()
    finally:
        await client.aclose()
    check_answers(list(answers), workload, 0)
    check_requests(window, workload)
    return window


def run(args: argparse.Namespace) -> dict[str, Any]:
    workload = Workload(args.workload, "", "", args.count, args.chunks)
    meter = Meter(args.url)
    started = time.perf_counter()
    if workload.key == "c":
        window = asyncio.run(run_async(args.client, args.url, workload, meter))
    else:
        client = load_client(args.client, args.url)
        window = run_sync(client, workload, meter)
        asyncio.run(client.aclose())
    return window.figures() | {
        "units": workload.units,
        "total_s": time.perf_counter() - started,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--client", required=True)
    parser.add_argument("--workload", required=True, choices=["a", "b", "c", "d"])
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8000/v1")
    parser.add_argument("--count", type=int, required=True, help="calls, streams or agent runs")
    parser.add_argument("--chunks", type=int, default=0, help="chunks per stream (b, c)")
    return parser.parse_args(argv)


def report(base: dict[str, Any], measure: Callable[[], dict[str, Any]]) -> int:
    """Print the result line: ``base`` with what ``measure()`` returns, or the failure it raised.

    A ``WrongAnswer`` is reported as such; another exception with the end of its traceback.
    The peak RSS of the process is added either way.
    """
    try:
        result = base | measure()
    except Exception as exc:
        kind = "wrong answer" if isinstance(exc, WrongAnswer) else type(exc).__name__
        detail = traceback.format_exc(limit=-3) if not isinstance(exc, WrongAnswer) else ""
        result = base | {"ok": False, "error": f"{kind}: {exc}", "traceback": detail}
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    base = {"client": args.client, "workload": args.workload, "python": sys.version.split()[0]}
    return report(base, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())

"""Load test: many concurrent streaming agent runs with tool calls against the local fault server.

    python benchmarks/load.py                       # 1,000 runs, all at once
    python benchmarks/load.py --runs 3000 --concurrency 500 --faulty 0.33

Each run is ``Agent(...).stream_async(...)`` with a ``weather`` tool over the ``openaicompat``
provider: the model calls the tool, then answers (two model requests). A third of the runs
(``--faulty``) meet injected faults on the wire, set per request through the fault server's
``x-fault`` header: 429s with ``retry-after-ms``, streams cut mid-event, resets, and one in ten
faulty runs is cut on every attempt so that it fails with ``RetryError``. The fault server
(``tests/faults``) runs in a subprocess so that the memory and sockets measured are the client's.

Reported: completed runs, errors by type, hangs (runs still going after ``--run-timeout``; the
whole benchmark is bounded by ``--timeout``), peak RSS and RSS growth of this process, the
sockets the server still has open once the client is closed, and this process's open sockets.
The exit status is 0 when the targets hold: every run completes or fails with a reverie error,
no hangs, no leaked sockets, RSS growth under 200 MB. This is a benchmark command, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import anyio
import httpx2
from pydantic import Field

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.faults (the fault server) lives in the repository

from reverie import Agent, RetryPolicy, ReverieError, tool  # noqa: E402
from reverie.providers import openaicompat  # noqa: E402

RSS_TARGET_MB = 200.0
TOOL_ANSWER = "It is 40 C in Florence."
FAULTS: contextvars.ContextVar[list[str | None]] = contextvars.ContextVar("faults")
"""The faults still to inject into the current run's requests, in order (None: a clean answer)."""

# Fault plans for the faulty runs: one entry per request of the run (two steps, plus retries).
RECOVERING_PLANS: list[list[str | None]] = [
    ["rate_limited;retry_after_ms=20", None, None],
    [None, "cut_stream;after_events=2", None],
    ["cut_stream;after_events=1", None, "rate_limited;retry_after_ms=20", None],
    ["connection_reset", None, None],
    [None, "rate_limited;retry_after_ms=20", "cut_stream;after_events=3", None],
]
FAILING_PLAN: list[str | None] = ["cut_stream;after_events=2"] * 3
"""Cut on every attempt of the first step: the run ends with ``RetryError`` (max_retries=2)."""


@tool
def weather(location: Annotated[str, Field(description="the city")]) -> str:
    """Get weather information for a location"""
    return "40 C"


# --- the fault server, in a subprocess ------------------------------------------------------------


def serve() -> None:
    """``--serve``: run a FaultServer; answer ``stats``/``quit`` lines on stdin with JSON on stdout."""
    from tests.faults import FaultServer

    with FaultServer(idle_timeout=600.0, max_lifetime=3600.0, io_timeout=120.0) as server:
        server._listener.listen(4096)  # room for a thousand simultaneous connects
        print(json.dumps({"url": server.url}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                server.wait_for_connections_closed(timeout=5.0)  # then report whatever is still open
                stats = {
                    "open": server.open_connections,
                    "max_open": server.max_open_connections,
                    "total": server.total_connections,
                    "requests": server.request_count,
                    "errors": server.errors[:5],
                }
                print(json.dumps(stats), flush=True)
            elif command == "open":
                print(json.dumps({"open": server.open_connections}), flush=True)
            elif command == "quit":
                break


class ServerProcess:
    def __init__(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env,
        )
        self.url: str = self._read()["url"]

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the fault server subprocess exited")
        return json.loads(line)

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- measurements -------------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size of this process."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def open_sockets() -> int:
    count = 0
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # closed since listed
            count += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
    return count


# --- the runs ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    completed: int = 0
    recovered: int = 0
    """Completed runs that went through at least one retry."""
    errors: Counter[str] = field(default_factory=Counter[str])
    untyped: Counter[str] = field(default_factory=Counter[str])
    hangs: int = 0
    wrong_answers: int = 0
    injected: int = 0
    durations: list[float] = field(default_factory=list[float])


async def inject_fault(request: httpx2.Request) -> None:
    """httpx2 request hook: the next planned fault of this run goes into the ``x-fault`` header."""
    plan = FAULTS.get(None)
    if plan:
        fault = plan.pop(0)
        if fault is not None:
            request.headers["x-fault"] = fault


async def one_run(
    agent: Agent, number: int, plan: list[str | None], tally: Tally, run_timeout: float
) -> None:
    FAULTS.set(list(plan))
    tally.injected += sum(fault is not None for fault in plan)
    start = time.monotonic()
    retried = False
    with anyio.move_on_after(run_timeout) as scope:
        try:
            async with agent.stream_async(f"What's the weather in Florence? (run {number})") as stream:
                async for part in stream:
                    if part.type == "retry":
                        retried = True
                result = await stream.result()
        except ReverieError as error:
            tally.errors[type(error).__name__] += 1
            return
        except Exception as error:  # anything untyped is a failure of the library's contract
            tally.untyped[f"{type(error).__name__}: {error}"[:120]] += 1
            return
        tally.completed += 1
        tally.recovered += retried
        if result.text != TOOL_ANSWER or [call.tool_name for call in result.tool_calls] != ["weather"]:
            tally.wrong_answers += 1
        tally.durations.append(time.monotonic() - start)
    if scope.cancelled_caught:
        tally.hangs += 1


def plan_for(number: int, faulty_share: float) -> list[str | None]:
    """Deterministic: runs spread evenly, ``faulty_share`` of them get a fault plan."""
    if int((number + 1) * faulty_share) == int(number * faulty_share):
        return []
    faulty_index = int(number * faulty_share)
    if faulty_index % 10 == 9:
        return list(FAILING_PLAN)
    return list(RECOVERING_PLANS[faulty_index % len(RECOVERING_PLANS)])


async def load(arguments: argparse.Namespace, server: ServerProcess) -> dict[str, Any]:
    sockets_before = open_sockets()
    limits = httpx2.Limits(
        max_connections=arguments.concurrency, max_keepalive_connections=arguments.concurrency
    )
    timeout = httpx2.Timeout(30.0, connect=30.0, pool=arguments.run_timeout)
    tally = Tally()
    async with httpx2.AsyncClient(
        limits=limits, timeout=timeout, event_hooks={"request": [inject_fault]}
    ) as client:
        provider = openaicompat.Provider(base_url=server.url + "/v1", api_key="k", async_http_client=client)
        agent = Agent(
            provider.language_model("fault-model"),
            system_prompt="You are a helpful assistant",
            tools=[weather],
            retry=RetryPolicy(max_retries=2, initial_delay=0.05, backoff_factor=2.0),
        )
        rss_baseline = rss_mb()
        limiter = anyio.CapacityLimiter(arguments.concurrency)

        async def limited(number: int) -> None:
            async with limiter:
                await one_run(agent, number, plan_for(number, arguments.faulty), tally, arguments.run_timeout)

        start = time.monotonic()
        with anyio.move_on_after(arguments.timeout) as overall:
            async with anyio.create_task_group() as group:
                for number in range(arguments.runs):
                    group.start_soon(limited, number)
        elapsed = time.monotonic() - start
        server_open_with_client = server.ask("open")["open"]
    finished = tally.completed + sum(tally.errors.values()) + sum(tally.untyped.values()) + tally.hangs
    stats = server.ask("stats")  # waits (up to 5 s) for the server's sockets to close
    sockets_after = open_sockets()
    durations = sorted(tally.durations) or [0.0]
    return {
        "runs": arguments.runs,
        "concurrency": arguments.concurrency,
        "faulty_share": arguments.faulty,
        "elapsed_s": round(elapsed, 2),
        "overall_timeout_hit": overall.cancelled_caught,
        "unfinished": arguments.runs - finished,
        "completed": tally.completed,
        "completed_after_retry": tally.recovered,
        "wrong_answers": tally.wrong_answers,
        "errors_by_type": dict(tally.errors),
        "untyped_errors": dict(tally.untyped),
        "hangs": tally.hangs,
        "faults_planned": tally.injected,
        "server_requests": stats["requests"],
        "run_p50_s": round(durations[len(durations) // 2], 3),
        "run_p99_s": round(durations[min(len(durations) - 1, int(len(durations) * 0.99))], 3),
        "rss_baseline_mb": round(rss_baseline, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_growth_mb": round(peak_rss_mb() - rss_baseline, 1),
        "server_max_open_connections": stats["max_open"],
        "server_total_connections": stats["total"],
        "server_open_before_client_close": server_open_with_client,
        "server_open_at_end": stats["open"],
        "server_errors": stats["errors"],
        "client_sockets_before": sockets_before,
        "client_sockets_at_end": sockets_after,
    }


def verdict(report: dict[str, Any]) -> list[str]:
    """The targets that were missed (empty: all met)."""
    missed: list[str] = []
    if report["unfinished"] or report["overall_timeout_hit"]:
        missed.append(f"{report['unfinished']} runs did not finish")
    if report["untyped_errors"]:
        missed.append(f"untyped errors: {report['untyped_errors']}")
    if report["hangs"]:
        missed.append(f"{report['hangs']} hangs")
    if report["wrong_answers"]:
        missed.append(f"{report['wrong_answers']} wrong answers")
    if report["server_open_at_end"]:
        missed.append(f"{report['server_open_at_end']} sockets still open on the server")
    if report["client_sockets_at_end"] > report["client_sockets_before"]:
        missed.append("client sockets leaked")
    if report["rss_growth_mb"] >= RSS_TARGET_MB:
        missed.append(f"RSS grew {report['rss_growth_mb']} MB")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--faulty", type=float, default=1 / 3, help="share of runs with injected faults")
    parser.add_argument("--run-timeout", type=float, default=120.0, help="a run still going after this hangs")
    parser.add_argument("--timeout", type=float, default=600.0, help="bound on the whole benchmark")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve:
        serve()
        return 0
    server = ServerProcess()
    try:
        report = anyio.run(load, arguments, server)
    finally:
        server.close()
    report["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    report["command"] = "python benchmarks/load.py " + " ".join(argv if argv is not None else sys.argv[1:])
    missed = verdict(report)
    if arguments.json:
        print(json.dumps({**report, "targets_missed": missed}, indent=2))
    else:
        width = max(len(key) for key in report)
        for key, value in report.items():
            print(f"{key:<{width}}  {value}")
        print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the reverie benchmark suite: one command, every client, every workload, round-robin.

    python benchmarks/run.py                      # 5 rounds, all clients, all workloads
    python benchmarks/run.py --quick              # smoke test: 1 round, smaller counts
    python benchmarks/run.py --clients raw,openai --workloads a,b --rounds 3

It creates (or reuses) one virtualenv per client under ``benchmarks/.venvs/``, starts the mock
server on 127.0.0.1, runs every (workload, client) pair in a fresh worker process per round (client
order rotated each round), times cold imports, then prints a markdown report and writes it with the
raw samples (JSON) to ``benchmarks/results/``. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from coldimport import IMPORT_STATEMENTS, STARTUP_STATEMENT, import_round, warm_up
from common import BASELINE_CLIENT, CLIENTS, WORKLOAD_KEYS, Workload, import_repetitions, workloads
from report import import_table, summarise_all, target_results, targets_table, workload_table
from venvs import BENCH_DIR, VenvStatus, ensure_venv
from worker import RESULT_PREFIX

RESULTS_DIR = BENCH_DIR / "results"
WORKER_TIMEOUT_S = 600.0
SERVER_START_TIMEOUT_S = 30.0
STARTUP = "python (no import)"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    """Environment of workers and import timings: loopback only, no network look-ups at import."""
    env = {k: v for k, v in os.environ.items() if k.upper() not in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")}
    env.pop("PYTHONPATH", None)
    # The untimed warm-up runs write the bytecode caches that timed runs read (pip compiled the
    # installed packages; an editable reverie is compiled by its first import): an environment
    # that forbids writing them would time reverie's compilation in every fresh interpreter.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(
        {
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "OPENAI_API_KEY": "k",
            # litellm otherwise downloads its model cost map at import time.
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
    )
    return env


class MockServer:
    """The mock server as a child process (it also stops itself when idle or orphaned)."""

    def __init__(self, idle_timeout: float, max_duration: float) -> None:
        cmd = [
            sys.executable,
            str(BENCH_DIR / "mock_server.py"),
            f"--parent-pid={os.getpid()}",
            f"--idle-timeout={idle_timeout}",
            f"--max-duration={max_duration}",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=BENCH_DIR)
        self.url = f"http://127.0.0.1:{self._read_port()}/v1"

    def _read_port(self) -> int:
        assert self.proc.stdout is not None
        found: list[str] = []
        reader = threading.Thread(target=lambda: found.append(_readline(self.proc.stdout)), daemon=True)
        reader.start()
        reader.join(SERVER_START_TIMEOUT_S)
        if not found or not found[0].startswith("LISTENING "):
            self.stop()
            raise RuntimeError(f"mock server did not start: {found}")
        return int(found[0].split()[1])

    def stop(self) -> dict[str, Any]:
        """Stop the server; returns its own totals (CPU, requests) from its last line."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            out, _ = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        last = (out or "").strip().splitlines()[-1:]
        if not last or not last[0].startswith("STOPPED "):
            return {}
        totals: dict[str, Any] = json.loads(last[0].split(" ", 1)[1])
        return totals


def _readline(stream: IO[str] | None) -> str:
    return stream.readline().strip() if stream is not None else ""


def run_worker(status: VenvStatus, workload: Workload, url: str, env: dict[str, str]) -> dict[str, Any]:
    """One client on one workload in a fresh process of its venv; returns its result dict."""
    cmd = [status.python, str(BENCH_DIR / "worker.py"), "--client", status.name, "--workload", workload.key]
    cmd += ["--url", url, "--count", str(workload.count), "--chunks", str(workload.chunks)]
    return worker_result(cmd, env, WORKER_TIMEOUT_S)


def worker_result(cmd: list[str], env: dict[str, str], timeout_s: float) -> dict[str, Any]:
    """Run a worker (``cmd``) and return the dict of its result line (``worker.RESULT_PREFIX``).

    A worker that times out or prints no result line gives a failed result saying so.
    """
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=BENCH_DIR, check=False
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout_s:.0f}s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    return {"ok": False, "error": f"worker exited {proc.returncode} without a result: {tail}"}


def describe(result: dict[str, Any], workload: Workload) -> str:
    if not result["ok"]:
        return f"FAILED: {result.get('error', '')[:200]}"
    per_unit = result["cpu_s"] / result["units"] * 1e6
    return (
        f"{per_unit:9.2f} µs CPU/{workload.unit}, wall {result['wall_s']:.3f}s, "
        f"RSS {result['maxrss_kb'] / 1024:.0f} MB, server CPU {result['server_cpu_s']:.3f}s"
    )


def rotated(items: list[str], offset: int) -> list[str]:
    if not items:
        return items
    offset %= len(items)
    return items[offset:] + items[:offset]


def rounds(count: int, deadline: float, clients: list[str]) -> Iterator[tuple[int, list[str]]]:
    """Each round's number (from 1) and client order, rotated by one each round, until ``deadline``.

    A round starts only before ``deadline`` (on ``time.monotonic``); each start is logged.
    """
    for round_no in range(1, count + 1):
        if time.monotonic() > deadline:
            log(f"--max-minutes reached: stopping after {round_no - 1} rounds")
            return
        order = rotated(clients, round_no - 1)
        log(f"round {round_no}/{count}: order {', '.join(order)}")
        yield round_no, order


def client_round(
    specs: list[Workload], order: list[str], envs: dict[str, VenvStatus], url: str, round_no: int
) -> list[dict[str, Any]]:
    """Workloads a-d of one round: every client on every workload, in ``order``."""
    samples = []
    env = child_env()
    for workload in specs:
        for client in order:
            result = run_worker(envs[client], workload, url, env)
            result |= {"round": round_no, "client": client, "workload": workload.key}
            samples.append(result)
            log(f"  ({workload.key}) {client:<12} {describe(result, workload)}")
    return samples


def cold_import_round(
    order: list[str], envs: dict[str, VenvStatus], reps: int, round_no: int
) -> list[dict[str, Any]]:
    """Workload (e) of one round: interleaved cold imports, plus bare interpreter start-up."""
    pythons = {client: envs[client].python for client in order}
    pythons[STARTUP] = envs[BASELINE_CLIENT].python
    samples = []
    for r in import_round(pythons, reps, child_env(), [*order, STARTUP]):
        sample = {"round": round_no, "client": r.client, "workload": "e", "ok": not r.error, "error": r.error}
        sample |= {"statement": r.statement, "wall_s": r.wall_s, "cpu_s": r.cpu_s}
        sample |= {"wall_samples_s": r.wall_samples, "cpu_samples_s": r.cpu_samples}
        samples.append(sample)
        log(f"  (e) {r.client:<18} {r.wall_s * 1e3:8.1f} ms wall, {r.cpu_s * 1e3:8.1f} ms CPU {r.error}")
    return samples


def prepare_venvs(clients: list[str], reinstall: bool) -> dict[str, VenvStatus]:
    envs = {}
    for client in clients:
        started = time.monotonic()
        log(f"venv {client}: checking / installing ...")
        status = ensure_venv(client, child_env(), reinstall)
        took = time.monotonic() - started
        state = (
            ("reused" if status.reused else "ready") if status.available else f"UNAVAILABLE: {status.reason}"
        )
        log(f"venv {client}: {state} ({took:.0f}s) {status.versions}")
        envs[client] = status
    return envs


def parse_list(value: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in items if item not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return [item for item in allowed if item in items]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark reverie against raw httpx2 and its peers.")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 5; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 round, smaller counts")
    parser.add_argument("--clients", default=",".join(CLIENTS), help=f"comma list of {','.join(CLIENTS)}")
    parser.add_argument("--workloads", default=",".join(WORKLOAD_KEYS), help="comma list of a,b,c,d,e")
    parser.add_argument("--reinstall", action="store_true", help="recreate the client venvs")
    parser.add_argument("--max-minutes", type=float, default=60.0, help="start no new round after this")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="directory for the JSON/markdown")
    args = parser.parse_args(argv)
    args.clients = parse_list(args.clients, CLIENTS, "clients")
    if BASELINE_CLIENT not in args.clients:
        args.clients.insert(0, BASELINE_CLIENT)  # every ratio is to the raw floor of the same round
    args.workloads = parse_list(args.workloads, WORKLOAD_KEYS, "workloads")
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 5)
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    return args


def run_rounds(
    args: argparse.Namespace, envs: dict[str, VenvStatus], url: str
) -> tuple[list[dict[str, Any]], int]:
    """All rounds; returns the samples and the number of rounds completed."""
    specs = [spec for key, spec in workloads(args.quick).items() if key in args.workloads]
    available = [c for c in args.clients if envs[c].available]
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.max_minutes * 60
    if "e" in args.workloads:
        errors = warm_up({c: envs[c].python for c in available}, child_env())
        for client, error in errors.items():
            log(f"  (e) warm-up {client}: {error}")
    done = 0
    for round_no, order in rounds(args.rounds, deadline, available):
        samples += client_round(specs, order, envs, url, round_no)
        if "e" in args.workloads:
            reps = import_repetitions(args.quick, args.rounds)
            samples += cold_import_round(order, envs, reps, round_no)
        done = round_no
    return samples, done


def render(
    args: argparse.Namespace, meta: dict[str, Any], envs: dict[str, VenvStatus], samples: list[dict[str, Any]]
) -> tuple[str, list[Any], list[Any]]:
    """The markdown report, the summaries and the target verdicts."""
    specs = workloads(args.quick)
    unavailable = {c: envs[c].reason for c in args.clients if not envs[c].available}
    summaries = summarise_all(samples, args.workloads, args.clients, unavailable)
    if "e" in args.workloads:
        startup = summarise_all(samples, ["e"], [STARTUP], {})
        summaries += startup
    lines = [
        f"## Benchmark results ({meta['date']}, commit {meta['commit'] or 'unknown'})",
        "",
        f"{meta['machine']}; {meta['rounds_done']} round(s){' (--quick)' if args.quick else ''}; "
        f"run took {meta['duration_s'] / 60:.1f} min. Figures: median (min-max) over rounds; "
        "ratios are to raw httpx2 in the same round.",
        "",
        "Versions: " + "; ".join(f"{c}: {_versions(envs[c])}" for c in args.clients),
        "",
        _server_line(meta["server_total"]),
        "",
    ]
    if "reverie" in args.clients:
        lines += ["### Targets (reverie)", "", *targets_table(summaries, args.clients)]
    for key in args.workloads:
        cells = [s for s in summaries if s.workload == key]
        if key == "e":
            statements = IMPORT_STATEMENTS | {STARTUP: STARTUP_STATEMENT}
            reps = import_repetitions(args.quick, args.rounds)
            title = (
                f"### (e) cold import: {reps} new processes per client and round; "
                "figure: median of all of them, range: of the round medians"
            )
            lines += ["", title, "", *import_table(cells, statements)]
        else:
            spec = specs[key]
            size = f"{spec.count} x {spec.chunks} chunks" if spec.chunks else f"{spec.count}"
            lines += ["", f"### ({key}) {spec.title}: {size}", "", *workload_table(spec, cells)]
    return "\n".join(lines) + "\n", summaries, target_results(summaries)


def with_mock_server(
    max_minutes: float, now: dt.datetime, started: float, rounds: Callable[[str], tuple[list[Any], int]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run ``rounds(url)`` against a fresh mock server; its samples and what a report says of the run.

    ``rounds`` returns the samples and the number of rounds done. The run's meta: date and
    machine, commit, rounds done, duration (``now`` and ``started`` are when the run started,
    by the wall clock and by ``time.monotonic``) and the server's own totals.
    """
    server = MockServer(idle_timeout=600.0, max_duration=max_minutes * 60 + 3600)
    log(f"mock server at {server.url}")
    try:
        samples, rounds_done = rounds(server.url)
    finally:
        server_total = server.stop()
    meta = {
        "date": now.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} cores",
        "commit": repo_commit(),
        "rounds_done": rounds_done,
        "duration_s": time.monotonic() - started,
        "server_total": server_total,
    }
    return samples, meta


def repo_commit() -> str:
    """The repo's checked-out commit, read from ``.git`` files (no git command); "" if unknown."""
    git = BENCH_DIR.parent / ".git"
    try:
        if git.is_file():  # a worktree: ``.git`` names its own directory, refs live in the common one
            git = BENCH_DIR.parent / git.read_text().split(":", 1)[1].strip()
        common = git / (git / "commondir").read_text().strip() if (git / "commondir").exists() else git
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head[:12]
        ref = head[5:]
        for base in (git, common):
            if (base / ref).exists():
                return (base / ref).read_text().strip()[:12]
        for line in (common / "packed-refs").read_text().splitlines():
            if line.endswith(f" {ref}"):
                return line.split()[0][:12]
    except OSError:
        return ""
    return ""


def _server_line(totals: dict[str, Any]) -> str:
    if not totals:
        return "Mock server: totals unavailable."
    return (
        f"Mock server (one asyncio process, precomputed responses): {totals['requests']:,} requests, "
        f"{totals['cpu_s']:.1f} s CPU in total, peak RSS {totals['maxrss_kb'] / 1024:.0f} MB; "
        "its CPU during each measured loop is shown as a share of the loop's wall time."
    )


def _versions(status: VenvStatus) -> str:
    if not status.versions:
        return "unavailable" if not status.available else "?"
    return ", ".join(f"{name} {version}" for name, version in status.versions.items())


def write_results(output: Path, stamp: str, markdown: str, payload: dict[str, Any]) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    (output / f"bench-{stamp}.md").write_text(markdown)
    path = output / f"bench-{stamp}.json"
    path.write_text(json.dumps(payload, indent=1, default=str))
    (output / "latest.md").write_text(markdown)
    (output / "latest.json").write_text(path.read_text())
    return path


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    envs = prepare_venvs(args.clients, args.reinstall)
    if not envs[BASELINE_CLIENT].available:
        log(f"the raw httpx2 baseline is unavailable: {envs[BASELINE_CLIENT].reason}")
        return 1
    samples, meta = with_mock_server(args.max_minutes, now, started, lambda url: run_rounds(args, envs, url))
    markdown, summaries, targets = render(args, meta, envs, samples)
    print(markdown)
    payload = {
        "meta": meta,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "workloads": {k: w.to_json() for k, w in workloads(args.quick).items()},
        "venvs": {c: vars(s) for c, s in envs.items()},
        "targets": targets,
        "summaries": summaries,
        "samples": samples,
    }
    path = write_results(args.output, now.strftime("%Y%m%d-%H%M%S"), markdown, _jsonable(payload))
    log(f"results written to {path}")
    return 0


def _jsonable(value: Any) -> Any:
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(vars(value))
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


if __name__ == "__main__":
    sys.exit(main())

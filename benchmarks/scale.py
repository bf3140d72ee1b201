"""The scale suite: reverie against raw httpx2 as sizes grow, one command, interleaved rounds.

    python benchmarks/scale.py                          # every row, full sizes, 3 rounds
    python benchmarks/scale.py --quick                  # smoke test: small sizes, 1 round
    python benchmarks/scale.py --only history,stream    # some rows
    python benchmarks/scale.py --markdown docs/benchmarks.md

Rows (``scale_rows.py``): concurrent streams against a server that answers after 1 s (wall time)
and without delay (CPU); a call after a growing history; agent runs of growing tool steps; one
stream of growing length, with its memory; a growing tool set; time to first request. Each size
of each row runs in a fresh worker process per client (``scale_worker.py``, in the client venvs of
``run.py``), raw httpx2 and reverie one after the other, their order alternating between rounds;
the first-request row times fresh interpreters (``coldimport.time_statement``). The report
(``scale_report.py``) gives each size as raw, reverie and their ratio, medians over rounds; it is
printed, written to ``benchmarks/results/scale-*.{md,json}`` and, with ``--markdown FILE``, between
the ``scale-results`` markers of FILE. See ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from coldimport import time_statement
from common import raise_open_files_limit
from run import RESULTS_DIR, child_env, log, prepare_venvs, rounds, with_mock_server, worker_result
from scale_report import CLIENTS, MEMORY_FIGURES, figure, render
from scale_rows import FIRST_REQUEST_SAMPLES, ROWS, Row, first_request_statement
from venvs import BENCH_DIR, VenvStatus

WORKER_TIMEOUT_S = 900.0
MARK_START = "<!-- scale-results:start -->"
MARK_END = "<!-- scale-results:end -->"


def run_worker(
    status: VenvStatus, row: Row, size: int, url: str, env: dict[str, str], traced: bool
) -> dict[str, Any]:
    """One client on one row and size in a fresh process of its venv; returns its result dict."""
    cmd = [status.python, str(BENCH_DIR / "scale_worker.py"), "--client", status.name, "--row", row.key]
    cmd += ["--size", str(size), "--url", url] + (["--traced"] if traced else [])
    return worker_result(cmd, env, WORKER_TIMEOUT_S)


def describe(result: dict[str, Any], row: Row) -> str:
    if not result["ok"]:
        return f"FAILED: {result.get('error', '')[:200]}"
    if result.get("traced"):
        return "tracemalloc: " + ", ".join(
            f"{MEMORY_FIGURES[key]} {result[key]:.2f} MiB" for key in MEMORY_FIGURES if key in result
        )
    unit = {"wall": "s wall", "cpu": f"µs CPU/{row.per}"}[row.figure]
    text = f"{figure(result, row):10.3f} {unit}; wall {result['wall_s']:.3f}s, CPU {result['cpu_s']:.3f}s"
    if "rss_peak_mib" in result:
        text += f"; RSS +{result['rss_peak_mib']:.1f} MiB while consumed, +{result['rss_kept_mib']:.1f} kept"
    return text


def first_request_round(
    envs: dict[str, VenvStatus], order: list[str], url: str, repetitions: int, round_no: int
) -> list[dict[str, Any]]:
    """The first-request row of one round: ``repetitions`` fresh interpreters per client, interleaved."""
    env = child_env()
    statements = {client: first_request_statement(client, url) for client in order}
    timings: dict[str, list[Any]] = {client: [] for client in order}
    for _ in range(repetitions):
        for client in order:
            timings[client].append(time_statement(envs[client].python, statements[client], env))
    samples = []
    for client in order:
        errors = [timing.error for timing in timings[client] if timing.error]
        walls = [timing.wall_s for timing in timings[client]]
        cpus = [timing.cpu_s for timing in timings[client]]
        sample = {"round": round_no, "row": "first-request", "size": 1, "client": client, "traced": False}
        sample |= {"ok": not errors, "error": errors[0] if errors else "", "units": 1}
        sample |= {"wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus)}
        sample |= {"wall_samples_s": walls, "cpu_samples_s": cpus}
        samples.append(sample)
        log(f"  first-request {client:<8} {sample['wall_s'] * 1e3:8.1f} ms wall (median) {sample['error']}")
    return samples


def row_round(
    row: Row, sizes: tuple[int, ...], envs: dict[str, VenvStatus], order: list[str], url: str, round_no: int
) -> list[dict[str, Any]]:
    """One row at every size in one round: each client in a fresh process, one after the other."""
    env = child_env()
    samples = []
    for size in sizes:
        for client in order:
            for traced in (False, True) if row.key == "stream" else (False,):
                result = run_worker(envs[client], row, size, url, env, traced)
                result |= {
                    "round": round_no,
                    "row": row.key,
                    "size": size,
                    "client": client,
                    "traced": traced,
                }
                samples.append(result)
                log(f"  {row.key} {size:>7,} {client:<8} {describe(result, row)}")
    return samples


def run_rounds(
    args: argparse.Namespace, envs: dict[str, VenvStatus], url: str
) -> tuple[list[dict[str, Any]], int]:
    """All rounds; returns the samples and the number of rounds completed."""
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + args.max_minutes * 60
    if "first-request" in args.only:  # one untimed run each writes the bytecode caches
        for client in CLIENTS:
            warm = time_statement(envs[client].python, first_request_statement(client, url), child_env())
            if warm.error:
                log(f"  first-request warm-up {client}: {warm.error}")
    done = 0
    for round_no, order in rounds(args.rounds, deadline, list(CLIENTS)):
        for key in args.only:
            row = ROWS[key]
            if key == "first-request":
                repetitions = 3 if args.quick else FIRST_REQUEST_SAMPLES
                samples += first_request_round(envs, order, url, repetitions, round_no)
            else:
                samples += row_round(row, sizes_of(row, args.quick), envs, order, url, round_no)
        done = round_no
    return samples, done


def sizes_of(row: Row, quick: bool) -> tuple[int, ...]:
    return row.quick_sizes if quick else row.sizes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Scale suite: reverie against raw httpx2 as sizes grow.")
    parser.add_argument("--quick", action="store_true", help="small sizes only, 1 round (a smoke test)")
    parser.add_argument("--only", default=",".join(ROWS), help=f"comma list of rows: {','.join(ROWS)}")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 1 with --quick)")
    parser.add_argument("--markdown", type=Path, help="also write the report between FILE's markers")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR, help="directory for the JSON/markdown")
    parser.add_argument("--reinstall", action="store_true", help="recreate the client venvs")
    parser.add_argument("--max-minutes", type=float, default=120.0, help="start no new round after this")
    args = parser.parse_args(argv)
    chosen = [key.strip() for key in args.only.split(",") if key.strip()]
    unknown = [key for key in chosen if key not in ROWS]
    if unknown or not chosen:
        raise SystemExit(f"unknown rows: {', '.join(unknown)} (choose from {', '.join(ROWS)})")
    args.only = [key for key in ROWS if key in chosen]
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    return args


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run's figures (its rows, sizes and rounds)."""
    words = ["python benchmarks/scale.py"]
    if args.quick:
        words.append("--quick")
    if args.only != list(ROWS):
        words.append("--only " + ",".join(args.only))
    words.append(f"--rounds {args.rounds}")
    return " ".join(words)


def preamble(args: argparse.Namespace, meta: dict[str, Any], envs: dict[str, VenvStatus]) -> list[str]:
    versions = "; ".join(
        f"{client}: " + ", ".join(f"{name} {version}" for name, version in envs[client].versions.items())
        for client in CLIENTS
    )
    return [
        f"### Scale results ({meta['date']}, commit {meta['commit'] or 'unknown'})",
        "",
        f"`{command_line(args)}`: {meta['machine']}; "
        f"{meta['rounds_done']} round(s); run took {meta['duration_s'] / 60:.1f} min. Figures: median "
        "(min-max) over rounds; ratios and differences are reverie's against raw httpx2 in the same "
        "round. Raw httpx2 pools 1,000 connections (100 kept alive); reverie uses its defaults.",
        "",
        f"Versions: {versions}.",
    ]


def write_markdown(path: Path, markdown: str) -> str:
    """Put the report between FILE's markers (or append it, marked); returns what was done."""
    block = f"{MARK_START}\n{markdown}{MARK_END}"
    if not path.exists():
        path.write_text(block + "\n")
        return f"written to {path}"
    text = path.read_text()
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        path.write_text(head + block + rest.split(MARK_END, 1)[1])
        return f"written between the markers of {path}"
    path.write_text(text.rstrip("\n") + "\n\n" + block + "\n")
    return f"appended to {path} (it had no markers)"


def write_results(output: Path, stamp: str, markdown: str, payload: dict[str, Any]) -> Path:
    output.mkdir(parents=True, exist_ok=True)
    path = output / f"scale-{stamp}.json"
    path.write_text(json.dumps(payload, indent=1, default=_jsonable))
    (output / f"scale-{stamp}.md").write_text(markdown)
    (output / "scale-latest.md").write_text(markdown)
    (output / "scale-latest.json").write_text(path.read_text())
    return path


def _jsonable(value: Any) -> Any:
    return vars(value) if hasattr(value, "__dataclass_fields__") else str(value)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit()  # inherited by the workers and the server
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    envs = prepare_venvs(list(CLIENTS), args.reinstall)
    missing = [f"{client}: {envs[client].reason}" for client in CLIENTS if not envs[client].available]
    if missing:
        log(f"a client venv is unavailable: {'; '.join(missing)}")
        return 1
    samples, meta = with_mock_server(args.max_minutes, now, started, lambda url: run_rounds(args, envs, url))
    rows = [ROWS[key] for key in args.only]
    sizes = {row.key: sizes_of(row, args.quick) for row in rows}
    markdown, summary = render(rows, sizes, samples, preamble(args, meta, envs))
    print(markdown)
    payload = {
        "meta": meta,
        "args": {key: str(value) if isinstance(value, Path) else value for key, value in vars(args).items()},
        "rows": {row.key: row.to_json() | {"measured_sizes": sizes[row.key]} for row in rows},
        "venvs": {client: vars(envs[client]) for client in CLIENTS},
        "summary": summary,
        "samples": samples,
    }
    path = write_results(args.output, now.strftime("%Y%m%d-%H%M%S"), markdown, payload)
    log(f"results written to {path}")
    if args.markdown is not None:
        log(f"report {write_markdown(args.markdown, markdown)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Aggregate per-round samples into medians (min-max), ratios to raw httpx2, targets, and markdown.

A sample is one client on one workload in one round (a dict written by ``run.py``). Ratios are taken
within a round (client / raw of the same round) and then summarised over rounds, so slow drifts of
the machine cancel out. A client with any failed round is FAILED for that workload. For cold
imports (e) the figure is the median of all processes of all rounds, the range that of the round
medians.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from common import BASELINE_CLIENT, Workload

UNIT_LABEL = {"call": "call", "chunk": "chunk", "run": "agent run"}


@dataclass(frozen=True)
class Stat:
    """Median and range of one figure over rounds."""

    median: float
    low: float
    high: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat:
        return cls(statistics.median(values), min(values), max(values), len(values))


@dataclass
class Summary:
    """One client on one workload over all rounds."""

    workload: str
    client: str
    status: str
    error: str = ""
    metrics: dict[str, Stat] = field(default_factory=dict)
    ratios: dict[str, Stat] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """A goal for reverie: ``metric`` ratio to the baseline at most ``limit`` on ``workload``."""

    title: str
    workload: str
    ratio: str
    limit: float


TARGETS: tuple[Target, ...] = (
    Target("non-streaming call, CPU", "a", "cpu", 1.3),
    Target("streamed chunk (sync), CPU", "b", "cpu", 1.5),
    Target("streamed chunk (200 concurrent async), CPU", "c", "cpu", 1.5),
    Target("2-step agent run, CPU", "d", "cpu", 1.5),
    Target("peak RSS at 200 concurrent streams", "c", "rss", 1.3),
    Target("cold import (vs `import httpx2`), wall", "e", "wall", 1.8),
)


def sample_metrics(sample: dict[str, Any]) -> dict[str, float]:
    """The figures of one successful sample."""
    if sample["workload"] == "e":
        return {"wall": sample["wall_s"] * 1e3, "cpu": sample["cpu_s"] * 1e3}
    return {
        "cpu": sample["cpu_s"] / sample["units"] * 1e6,
        "wall": sample["wall_s"],
        "rss": sample["maxrss_kb"] / 1024,
        "server": 100 * sample["server_cpu_s"] / max(sample["wall_s"], 1e-9),
    }


RATIO_KEYS = {"a": ("cpu", "wall", "rss"), "b": ("cpu", "wall", "rss"), "c": ("cpu", "wall", "rss")}
RATIO_KEYS |= {"d": ("cpu", "wall", "rss"), "e": ("wall", "cpu")}


def summarise(samples: Iterable[dict[str, Any]], workload: str, client: str, unavailable: str) -> Summary:
    """Summarise one (workload, client) cell; ``unavailable`` is the reason the client did not run."""
    if unavailable:
        return Summary(workload, client, "unavailable", unavailable)
    mine = [s for s in samples if s["workload"] == workload and s["client"] == client]
    if not mine:
        return Summary(workload, client, "not run")
    failed = [s for s in mine if not s["ok"]]
    if failed:
        return Summary(workload, client, "FAILED", failed[0].get("error", "failed"))
    metrics = _stats(sample_metrics(s) for s in mine)
    if workload == "e":
        metrics = {key: _with_median(stat, _pooled(mine, key)) for key, stat in metrics.items()}
    return Summary(workload, client, "ok", metrics=metrics)


def _pooled(samples: list[dict[str, Any]], key: str) -> float:
    """Median of every cold-import process of these samples, in ms (``key``: wall or cpu)."""
    return statistics.median(v for s in samples for v in s[f"{key}_samples_s"]) * 1e3


def _with_median(stat: Stat, median: float) -> Stat:
    return Stat(median, stat.low, stat.high, stat.n)


def _stats(rows: Iterable[dict[str, float]]) -> dict[str, Stat]:
    columns: dict[str, list[float]] = {}
    for row in rows:
        for key, value in row.items():
            columns.setdefault(key, []).append(value)
    return {key: Stat.of(values) for key, values in columns.items()}


def add_ratios(summary: Summary, samples: list[dict[str, Any]]) -> None:
    """Per-round ratio of the client's figures to the baseline's, summarised over rounds."""
    if summary.status != "ok":
        return
    by_round: dict[int, dict[str, dict[str, float]]] = {}
    for sample in samples:
        if sample["workload"] == summary.workload and sample["ok"]:
            by_round.setdefault(sample["round"], {})[sample["client"]] = sample_metrics(sample)
    rows = []
    for clients in by_round.values():
        mine, base = clients.get(summary.client), clients.get(BASELINE_CLIENT)
        if mine and base:
            rows.append({k: mine[k] / base[k] for k in RATIO_KEYS[summary.workload] if base[k] > 0})
    if rows:
        summary.ratios = _stats(rows)
    if rows and summary.workload == "e":
        mine = [s for s in samples if s["workload"] == "e" and s["client"] == summary.client]
        base = [s for s in samples if s["workload"] == "e" and s["client"] == BASELINE_CLIENT and s["ok"]]
        for key, stat in summary.ratios.items():
            summary.ratios[key] = _with_median(stat, _pooled(mine, key) / _pooled(base, key))


def summarise_all(
    samples: list[dict[str, Any]], workloads: list[str], clients: list[str], unavailable: dict[str, str]
) -> list[Summary]:
    summaries = []
    for workload in workloads:
        for client in clients:
            summary = summarise(samples, workload, client, unavailable.get(client, ""))
            add_ratios(summary, samples)
            summaries.append(summary)
    return summaries


# ----------------------------------------------------------------------------------------------- markdown


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt(stat: Stat | None, suffix: str = "", digits: int | None = None) -> str:
    """``median (min-max)``, or just the median for a single round."""
    if stat is None:
        return "—"

    def one(value: float) -> str:
        return (f"{value:.{digits}f}" if digits is not None else _num(value)) + suffix

    if stat.n == 1 or stat.low == stat.high:
        return one(stat.median)
    return f"{one(stat.median)} ({one(stat.low)}-{one(stat.high)})"


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def _status_cell(summary: Summary) -> str:
    error = " ".join(summary.error.split())
    return f"**{summary.status}**" + (f": {error[:140]}" if error else "")


def workload_table(workload: Workload, summaries: list[Summary]) -> list[str]:
    unit = UNIT_LABEL[workload.unit]
    header = [
        "client",
        f"CPU / {unit} (µs)",
        "CPU x raw",
        "wall (s)",
        "peak RSS (MB)",
        "RSS x raw",
        "server CPU (% of wall)",
    ]
    rows = []
    for s in summaries:
        if s.status != "ok":
            rows.append([s.client, _status_cell(s), "", "", "", "", ""])
            continue
        rows.append(
            [
                s.client,
                fmt(s.metrics.get("cpu")),
                fmt(s.ratios.get("cpu"), "x", 2),
                fmt(s.metrics.get("wall"), digits=3),
                fmt(s.metrics.get("rss"), digits=1),
                fmt(s.ratios.get("rss"), "x", 2),
                fmt(s.metrics.get("server"), "%", 1),
            ]
        )
    return markdown_table(header, rows)


def import_table(summaries: list[Summary], statements: dict[str, str]) -> list[str]:
    header = ["client", "statement", "wall (ms)", "wall x `import httpx2`", "CPU (ms)"]
    rows = []
    for s in summaries:
        statement = f"`{statements.get(s.client, '')}`"
        if s.status != "ok":
            rows.append([s.client, statement, _status_cell(s), "", ""])
            continue
        rows.append(
            [
                s.client,
                statement,
                fmt(s.metrics.get("wall"), digits=1),
                fmt(s.ratios.get("wall"), "x", 2),
                fmt(s.metrics.get("cpu"), digits=1),
            ]
        )
    return markdown_table(header, rows)


def verdict(summary: Summary | None, target: Target) -> tuple[str, str]:
    """(measured ratio, PASS/FAIL) for reverie on one target."""
    if summary is None or summary.status != "ok":
        status = summary.status if summary else "not run"
        return "—", f"**FAIL** (not measured: {status})"
    stat = summary.ratios.get(target.ratio)
    if stat is None:
        return "—", "**FAIL** (no baseline)"
    return fmt(stat, "x", 2), "PASS" if stat.median <= target.limit else "**FAIL**"


def targets_table(summaries: list[Summary], clients: list[str]) -> list[str]:
    peers = [c for c in clients if c not in (BASELINE_CLIENT, "reverie")]
    index = {(s.workload, s.client): s for s in summaries}
    header = ["target (ratio to raw httpx2)", "limit", "reverie", "verdict", *peers]
    rows = []
    for target in TARGETS:
        if not any(s.workload == target.workload for s in summaries):
            continue
        measured, result = verdict(index.get((target.workload, "reverie")), target)
        cells = []
        for peer in peers:
            peer_summary = index.get((target.workload, peer))
            ok = peer_summary is not None and peer_summary.status == "ok"
            cells.append(fmt(peer_summary.ratios.get(target.ratio), "x", 2) if ok and peer_summary else "—")
        rows.append([target.title, f"≤ {target.limit}x", measured, result, *cells])
    return markdown_table(header, rows)


def target_results(summaries: list[Summary]) -> list[dict[str, Any]]:
    index = {(s.workload, s.client): s for s in summaries}
    results = []
    for target in TARGETS:
        if not any(s.workload == target.workload for s in summaries):
            continue
        measured, result = verdict(index.get((target.workload, "reverie")), target)
        results.append(asdict(target) | {"reverie": measured, "verdict": result.replace("*", "")})
    return results

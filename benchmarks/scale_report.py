"""Summaries and markdown of the scale suite: per row and size, raw httpx2, reverie and their ratio.

A sample is one client on one row at one size in one round (a dict written by ``scale.py`` from a
worker's result). Ratios (reverie / raw) and memory differences (reverie - raw) are taken within a
round, then summarised over rounds as ``median (min-max)`` with ``report.Stat``, so slow drifts of
the machine cancel out. A line fails when a sample failed or when, in some round, the two clients'
request bodies were not JSON-equal (the mock server's body digest). It does not run anything.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from report import Stat, fmt, markdown_table
from scale_rows import MEMORY_LIMIT_MIB, RATIO_LIMIT, Row

CLIENTS = ("raw", "reverie")
MEMORY_FIGURES: dict[str, str] = {
    "rss_peak_mib": "RSS growth while consumed",
    "rss_kept_mib": "RSS kept after release",
    "traced_peak_mib": "traced peak (tracemalloc)",
    "traced_kept_mib": "traced kept after release",
}
UNITS = {"wall": " s", "cpu": " µs", "first": " ms"}


@dataclass
class Line:
    """One size of one row: each client's figure, the ratio, or why it failed."""

    row: str
    size: int
    error: str = ""
    raw: Stat | None = None
    reverie: Stat | None = None
    ratio: Stat | None = None


@dataclass
class MemoryLine:
    """One memory figure of the stream row at one size, in MiB."""

    size: int
    figure: str
    error: str = ""
    raw: Stat | None = None
    reverie: Stat | None = None
    difference: Stat | None = None


def figure(sample: dict[str, Any], row: Row) -> float:
    """The row's figure of one successful sample: s of wall, µs of CPU per unit, or ms of wall."""
    if row.figure == "wall":
        return float(sample["wall_s"])
    if row.figure == "first":
        return float(sample["wall_s"]) * 1e3
    return float(sample["cpu_s"]) / sample["units"] * 1e6


def _by_round(samples: list[dict[str, Any]], row: str, size: int, traced: bool) -> dict[int, dict[str, Any]]:
    rounds: dict[int, dict[str, Any]] = {}
    for sample in samples:
        if sample["row"] == row and sample["size"] == size and bool(sample.get("traced")) == traced:
            rounds.setdefault(sample["round"], {})[sample["client"]] = sample
    return rounds


def _failure(rounds: dict[int, dict[str, Any]]) -> str:
    """Why these rounds cannot be compared ("" when they can)."""
    for round_no, pair in sorted(rounds.items()):
        for client in CLIENTS:
            sample = pair.get(client)
            if sample is None:
                return f"{client} did not run in round {round_no}"
            if not sample["ok"]:
                return f"{client}: {sample.get('error', 'failed')}"
        digests = {pair[client].get("body_digest") for client in CLIENTS}
        if len(digests) > 1:
            return f"request bodies of raw and reverie differ (round {round_no})"
    return "" if rounds else "not run"


def summarise_line(samples: list[dict[str, Any]], row: Row, size: int) -> Line:
    rounds = _by_round(samples, row.key, size, traced=False)
    error = _failure(rounds)
    if error:
        return Line(row.key, size, error)
    figures = [{client: figure(pair[client], row) for client in CLIENTS} for pair in rounds.values()]
    ratios = [pair["reverie"] / pair["raw"] for pair in figures if pair["raw"] > 0]
    return Line(
        row.key,
        size,
        raw=Stat.of([pair["raw"] for pair in figures]),
        reverie=Stat.of([pair["reverie"] for pair in figures]),
        ratio=Stat.of(ratios) if ratios else None,
    )


def summarise_memory(samples: list[dict[str, Any]], size: int) -> list[MemoryLine]:
    lines = []
    for key in MEMORY_FIGURES:
        rounds = _by_round(samples, "stream", size, traced=key.startswith("traced"))
        error = _failure(rounds)
        if error:
            lines.append(MemoryLine(size, key, error))
            continue
        raw = [pair["raw"][key] for pair in rounds.values()]
        reverie = [pair["reverie"][key] for pair in rounds.values()]
        difference = [mine - base for mine, base in zip(reverie, raw, strict=True)]
        lines.append(MemoryLine(size, key, "", Stat.of(raw), Stat.of(reverie), Stat.of(difference)))
    return lines


def first_request_pooled(samples: list[dict[str, Any]], client: str) -> float:
    """Median wall time (ms) of every fresh interpreter of ``client`` in the first-request row."""
    walls = [
        wall
        for sample in samples
        if sample["row"] == "first-request" and sample["client"] == client and sample["ok"]
        for wall in sample["wall_samples_s"]
    ]
    return statistics.median(walls) * 1e3 if walls else 0.0


# ------------------------------------------------------------------------------------------- markdown


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


def _signed(stat: Stat) -> str:
    def one(value: float) -> str:
        return f"{round(value, 1) + 0.0:+.1f}"  # + 0.0: no "-0.0"

    if stat.n == 1 or stat.low == stat.high:
        return one(stat.median)
    return f"{one(stat.median)} ({one(stat.low)} to {one(stat.high)})"


def _error_cell(error: str) -> str:
    return "**FAILED**: " + " ".join(error.split())[:160]


def row_table(row: Row, lines: Sequence[Line]) -> list[str]:
    unit = UNITS[row.figure]
    size_label = row.size_label or "sample"
    header = [size_label, "raw httpx2", "reverie", "reverie / raw", f"≤ {RATIO_LIMIT}x"]
    cells = []
    for line in lines:
        size = "fresh interpreter" if row.key == "first-request" else f"{line.size:,}"
        if line.error:
            cells.append([size, _error_cell(line.error), "", "", _verdict(False)])
            continue
        ratio = line.ratio
        verdict = _verdict(ratio is not None and ratio.median <= RATIO_LIMIT)
        cells.append([size, fmt(line.raw, unit), fmt(line.reverie, unit), fmt(ratio, "x", 2), verdict])
    return markdown_table(header, cells)


def memory_table(lines: Sequence[MemoryLine]) -> list[str]:
    header = ["chunks", "figure", "raw httpx2 (MiB)", "reverie (MiB)", "reverie - raw (MiB)"]
    header.append(f"≤ +{MEMORY_LIMIT_MIB:g} MiB")
    cells = []
    for line in lines:
        label = MEMORY_FIGURES[line.figure]
        if line.error or line.difference is None:
            cells.append([f"{line.size:,}", label, _error_cell(line.error), "", "", _verdict(False)])
            continue
        verdict = _verdict(line.difference.median <= MEMORY_LIMIT_MIB)
        raw, reverie = fmt(line.raw, digits=1), fmt(line.reverie, digits=1)
        cells.append([f"{line.size:,}", label, raw, reverie, _signed(line.difference), verdict])
    return markdown_table(header, cells)


def render(
    rows: Sequence[Row], sizes: dict[str, tuple[int, ...]], samples: list[dict[str, Any]], preamble: list[str]
) -> tuple[str, dict[str, Any]]:
    """The markdown report and a JSON-able summary (lines, memory lines, pass/fail counts)."""
    out = list(preamble)
    summary: dict[str, Any] = {"lines": [], "memory": [], "passed": 0, "checked": 0}
    for row in rows:
        lines = [summarise_line(samples, row, size) for size in sizes[row.key]]
        summary["lines"] += lines
        passed = [
            line for line in lines if not line.error and line.ratio and line.ratio.median <= RATIO_LIMIT
        ]
        summary["passed"] += len(passed)
        summary["checked"] += len(lines)
        out += ["", f"#### {row.key}: {row.title}", "", *row_table(row, lines)]
        raw, reverie = (first_request_pooled(samples, client) for client in CLIENTS)
        if row.key == "first-request" and raw and reverie:
            pooled = f"raw {raw:.1f} ms, reverie {reverie:.1f} ms ({reverie / raw:.2f}x)"
            out += ["", f"Median of every fresh interpreter of all rounds: {pooled}."]
        if row.key == "stream":
            memory = [line for size in sizes[row.key] for line in summarise_memory(samples, size)]
            summary["memory"] += memory
            within = [
                line for line in memory if line.difference and line.difference.median <= MEMORY_LIMIT_MIB
            ]
            summary["passed"] += len(within)
            summary["checked"] += len(memory)
            title = "#### stream memory: MiB above what the process held before the streams"
            out += ["", title, "", *memory_table(memory)]
    verdict = f"{summary['passed']} of {summary['checked']} lines within the limits."
    out[len(preamble) : len(preamble)] = ["", f"**{verdict}**"]
    return "\n".join(out) + "\n", summary

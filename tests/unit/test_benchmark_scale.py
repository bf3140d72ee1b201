"""The scale benchmark's own logic (no server, no timing): mock-server answers, ratios, markers."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], ModuleType]]:
    """Import benchmark scripts by name (they import each other as top-level modules), then forget them."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    yield importlib.import_module
    for name, module in list(sys.modules.items()):
        if BENCHMARKS in Path(getattr(module, "__file__", None) or "/").parents:
            del sys.modules[name]


def test_generated_long_stream_has_the_bytes_of_a_precomputed_one(bench: Callable[[str], ModuleType]) -> None:
    server, common = bench("mock_server"), bench("common")
    for tokens in (0, 1, server.LAZY_BLOCK_CHUNKS + 3):
        deltas = [{"content": common.text_piece(i)} for i in range(tokens)]
        generated = b"".join(server.LazyStream("bench-x", tokens).blocks())
        assert generated == server._sse("bench-x", deltas, "stop")


def test_long_text_streams_are_generated_short_ones_precomputed(bench: Callable[[str], ModuleType]) -> None:
    server = bench("mock_server")
    short = server.build_response("text", 10, True, "bench-10", "")
    long = server.build_response("text", server.LAZY_STREAM_TOKENS + 1, True, "bench-x", "")
    assert isinstance(short, bytes)
    assert isinstance(long, server.LazyStream)


def test_tool_steps_header_asks_for_that_many_tool_calls(bench: Callable[[str], ModuleType]) -> None:
    server = bench("mock_server")
    tools = [{"type": "function", "function": {"name": "weather"}}]
    tool_message = {"role": "tool", "tool_call_id": "x", "content": "40 C"}
    first = {"messages": [{"role": "user", "content": "hi"}], "tools": tools}
    assert server.classify(first, 2) == ("tool_call", "call_bench_weather_0")
    second = {**first, "messages": [*first["messages"], tool_message]}
    assert server.classify(second, 2) == ("tool_call", "call_bench_weather_1")
    third = {**first, "messages": [*second["messages"], tool_message]}
    assert server.classify(third, 2) == ("final", "It is 40 C in Florence.")
    assert server.classify(third, None) == ("final", "Unexpected tool messages.")


def test_body_digest_ignores_formatting_and_key_order(bench: Callable[[str], ModuleType]) -> None:
    server = bench("mock_server")

    def digest(*bodies: bytes) -> int:
        state = server.ServerState()
        for body in bodies:
            state._chat((body, b"", b""))
        return state.body_digest

    spaced, compact = b'{"model": "bench-5", "messages": []}', b'{"messages":[],"model":"bench-5"}'
    assert digest(spaced) == digest(compact)
    assert digest(spaced, compact) == digest(compact, compact) != digest(compact)
    assert digest(spaced) != digest(b'{"model": "bench-5", "messages": [], "stream": true}')


def _sample(client: str, round_no: int, cpu_s: float, digest: int = 7, **extra: Any) -> dict[str, Any]:
    sample = {"row": "history", "size": 10, "client": client, "round": round_no, "traced": False}
    return sample | {"ok": True, "cpu_s": cpu_s, "wall_s": 1.0, "units": 10, "body_digest": digest} | extra


def test_ratios_are_taken_within_a_round(bench: Callable[[str], ModuleType]) -> None:
    report, rows = bench("scale_report"), bench("scale_rows")
    samples = [
        _sample("raw", 1, 1.0),
        _sample("reverie", 1, 1.1),
        _sample("raw", 2, 2.0),
        _sample("reverie", 2, 2.6),
        _sample("raw", 3, 1.0),
        _sample("reverie", 3, 1.2),
    ]
    line = report.summarise_line(samples, rows.ROWS["history"], 10)
    assert line.error == ""
    assert line.ratio.median == pytest.approx(1.2)
    assert (line.ratio.low, line.ratio.high) == (pytest.approx(1.1), pytest.approx(1.3))
    assert line.raw.median == pytest.approx(1e5)  # µs of CPU per call


def test_a_line_fails_when_request_bodies_differ_or_a_sample_failed(
    bench: Callable[[str], ModuleType],
) -> None:
    report, rows = bench("scale_report"), bench("scale_rows")
    row = rows.ROWS["history"]
    differ = [_sample("raw", 1, 1.0, digest=1), _sample("reverie", 1, 1.0, digest=2)]
    assert "bodies" in report.summarise_line(differ, row, 10).error
    failed = [_sample("raw", 1, 1.0), _sample("reverie", 1, 1.0) | {"ok": False, "error": "boom"}]
    assert report.summarise_line(failed, row, 10).error == "reverie: boom"
    markdown, summary = report.render([row], {"history": (10,)}, failed, ["### title"])
    assert "**FAILED**: reverie: boom" in markdown
    assert (summary["passed"], summary["checked"]) == (0, 1)


def test_memory_lines_are_differences_in_mib(bench: Callable[[str], ModuleType]) -> None:
    report = bench("scale_report")
    samples = []
    for client, peak in (("raw", 1.0), ("reverie", 70.0)):
        base = {"row": "stream", "size": 500, "client": client, "round": 1, "ok": True, "body_digest": 3}
        samples.append(base | {"traced": False, "rss_peak_mib": peak, "rss_kept_mib": 0.5})
        samples.append(base | {"traced": True, "traced_peak_mib": peak / 2, "traced_kept_mib": 0.0})
    lines = {line.figure: line for line in report.summarise_memory(samples, 500)}
    assert lines["rss_peak_mib"].difference.median == pytest.approx(69.0)
    assert lines["traced_peak_mib"].difference.median == pytest.approx(34.5)
    assert lines["rss_kept_mib"].difference.median == pytest.approx(0.0)


def test_markdown_goes_between_the_markers(bench: Callable[[str], ModuleType], tmp_path: Path) -> None:
    scale = bench("scale")
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Title\n\n{scale.MARK_START}\nplaceholder\n{scale.MARK_END}\n\n## After\n")
    scale.write_markdown(doc, "| table |\n")
    scale.write_markdown(doc, "| newer table |\n")
    assert (
        doc.read_text() == f"# Title\n\n{scale.MARK_START}\n| newer table |\n{scale.MARK_END}\n\n## After\n"
    )


def test_requests_and_units_per_row(bench: Callable[[str], ModuleType]) -> None:
    rows = bench("scale_rows").ROWS
    assert rows["agent"].requests(100) == rows["agent"].repeats(100) * 101
    assert rows["tools"].requests(500) == rows["tools"].repeats(500) * 2
    assert rows["concurrency"].requests(5000) == 5000
    assert rows["stream"].units(500_000) == 500_000
    assert rows["history"].repeats(5000) == rows["history"].least

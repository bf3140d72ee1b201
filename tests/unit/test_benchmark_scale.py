"""The scale benchmark's own logic (no server, no timing): mock-server answers, ratios, markers."""

from __future__ import annotations

import importlib
import json
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


def test_a_worker_result_is_its_last_result_line_or_why_there_is_none(
    bench: Callable[[str], ModuleType],
) -> None:
    run, worker = bench("run"), bench("worker")
    printing = f"print('noise'); print({worker.RESULT_PREFIX!r} + '{{\"ok\": true, \"cpu_s\": 1.5}}')"
    assert run.worker_result([sys.executable, "-c", printing], {}, 30.0) == {"ok": True, "cpu_s": 1.5}
    silent = "import sys; print('one', file=sys.stderr); print('two', file=sys.stderr); sys.exit(3)"
    failed = run.worker_result([sys.executable, "-c", silent], {}, 30.0)
    assert failed == {"ok": False, "error": "worker exited 3 without a result: one | two"}
    slow = run.worker_result([sys.executable, "-c", "import time; time.sleep(5)"], {}, 0.2)
    assert slow == {"ok": False, "error": "timed out after 0s"}


def test_the_result_line_reports_a_wrong_answer_or_a_crash(
    bench: Callable[[str], ModuleType], capsys: pytest.CaptureFixture[str]
) -> None:
    worker = bench("worker")

    def wrong() -> dict[str, Any]:
        worker.check_count(["hi", "ho"], "hi", 2)
        return {}

    def crash() -> dict[str, Any]:
        raise KeyError("choices")

    results = []
    for measure in (lambda: {"ok": True}, wrong, crash):
        assert worker.report({"client": "raw"}, measure) == 0
        line = capsys.readouterr().out.strip()
        assert line.startswith(worker.RESULT_PREFIX)
        results.append(json.loads(line[len(worker.RESULT_PREFIX) :]))
    assert all(result["client"] == "raw" and result["maxrss_kb"] > 0 for result in results)
    assert results[0]["ok"] is True
    assert (results[1]["ok"], results[1]["traceback"]) == (False, "")
    assert results[1]["error"] == "wrong answer: 1 of 2 answers wrong (expected 2); got 'ho', expected 'hi'"
    assert results[2]["error"] == "KeyError: 'choices'" and "KeyError" in results[2]["traceback"]


def test_answer_counts_are_checked_too(bench: Callable[[str], ModuleType]) -> None:
    worker = bench("worker")
    worker.check_count(["hi", "hi"], "hi", 2)
    with pytest.raises(worker.WrongAnswer, match="0 of 1 answers wrong \\(expected 2\\)"):
        worker.check_count(["hi"], "hi", 2)


def test_raw_clients_read_the_text_of_each_sse_line(bench: Callable[[str], ModuleType]) -> None:
    raw = bench("bench_clients.raw_httpx2")
    chunk = {"choices": [{"delta": {"content": "Hel"}}, {"delta": {"content": "lo"}}, {"delta": {}}]}
    assert raw.delta_text("data: " + json.dumps(chunk)) == "Hello"
    assert raw.delta_text(": keep-alive") == ""
    assert raw.delta_text("data: [DONE]") is None
    assert bench("bench_clients.scale_raw").delta_text is raw.delta_text


def test_rounds_run_against_a_mock_server_that_is_stopped_after(bench: Callable[[str], ModuleType]) -> None:
    run = bench("run")
    urls: list[str] = []

    def rounds(url: str) -> tuple[list[dict[str, Any]], int]:
        urls.append(url)
        return [{"round": 1}], 1

    now = run.dt.datetime(2025, 1, 2, 3, 4, tzinfo=run.dt.UTC)
    samples, meta = run.with_mock_server(1.0, now, run.time.monotonic(), rounds)
    assert samples == [{"round": 1}]
    assert urls[0].startswith("http://127.0.0.1:") and urls[0].endswith("/v1")
    assert (meta["date"], meta["rounds_done"]) == ("2025-01-02 03:04 UTC", 1)
    assert meta["duration_s"] >= 0 and "cores" in meta["machine"]
    assert "requests" in meta["server_total"]  # its totals, read once it stopped


def test_a_window_reports_its_figures(bench: Callable[[str], ModuleType]) -> None:
    window = bench("worker").Window(1.5, 2.0, 0.25, 30, body_digest=9)
    assert window.figures() == {
        "ok": True,
        "cpu_s": 1.5,
        "wall_s": 2.0,
        "server_cpu_s": 0.25,
        "server_requests": 30,
    }


def test_rounds_rotate_the_clients_and_stop_at_the_deadline(bench: Callable[[str], ModuleType]) -> None:
    run = bench("run")
    far = run.time.monotonic() + 3600
    assert list(run.rounds(3, far, ["raw", "a", "b"])) == [
        (1, ["raw", "a", "b"]),
        (2, ["a", "b", "raw"]),
        (3, ["b", "raw", "a"]),
    ]
    assert list(run.rounds(3, run.time.monotonic() - 1, ["raw"])) == []


def test_the_report_names_the_command_that_reproduces_it(bench: Callable[[str], ModuleType]) -> None:
    scale = bench("scale")
    assert scale.command_line(scale.parse_args([])) == "python benchmarks/scale.py --rounds 3"
    assert (
        scale.command_line(
            scale.parse_args(["--rounds", "5", "--only", "tools,history", "--markdown", "x.md"])
        )
        == "python benchmarks/scale.py --only history,tools --rounds 5"
    )
    assert (
        scale.command_line(scale.parse_args(["--quick"])) == "python benchmarks/scale.py --quick --rounds 1"
    )

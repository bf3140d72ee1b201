"""``reverie batch`` as a subprocess against the loopback batch server: lines, exit codes, resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.batch.server import BatchServer
from tests.cli.conftest import COMMAND_TIMEOUT, InProcess, clean_environment, reverie

NEVER = lambda prompt: False  # noqa: E731 - no injected 429s or 5xx


@pytest.fixture
def server() -> Iterator[BatchServer]:
    with BatchServer(throttled=NEVER, flaky=NEVER, max_lifetime=120) as running:
        yield running


def write_input(path: Path, count: int, *, failing: frozenset[int] = frozenset()) -> Path:
    lines = [
        json.dumps(
            {"id": f"i{number}", "prompt": f"item {number}" + (" always-fail" if number in failing else "")}
        )
        for number in range(count)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def batch_command(server: BatchServer, source: Path, out: Path, *options: str) -> list[str]:
    """``reverie batch SOURCE`` against the test server, writing ``out``, with ``options``."""
    return ["batch", str(source), "-m", f"openaicompat:m@{server.url}", "--out", str(out), *options]


def read_output(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_every_item_answered_exits_0(server: BatchServer, tmp_path: Path) -> None:
    source, out = write_input(tmp_path / "in.jsonl", 12), tmp_path / "out.jsonl"
    completed = reverie(*batch_command(server, source, out, "--concurrency", "3"))
    assert completed.returncode == 0, completed.stderr
    lines = read_output(out)
    assert [line["id"] for line in lines] == [f"i{number}" for number in range(12)]
    assert lines[5] == {
        "id": "i5",
        "text": "answer to item 5",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "total_tokens": 15,
            "reasoning_tokens": 0,
            "cache_creation_tokens": 0,
            "cache_read_tokens": 0,
        },
        "cost": None,
    }
    assert "12 answered, 0 failed" in completed.stderr
    assert completed.stdout == ""


def test_failed_items_exit_1_with_every_line_written_and_retry_failed_sends_them_again(
    server: BatchServer, tmp_path: Path
) -> None:
    source, out, journal = (
        write_input(tmp_path / "in.jsonl", 6, failing=frozenset({2})),
        tmp_path / "out.jsonl",
        tmp_path / "runs.db",
    )
    command = batch_command(server, source, out, "--journal", str(journal))
    completed = reverie(*command)
    assert completed.returncode == 1, completed.stderr
    lines = read_output(out)
    assert len(lines) == 6 and lines[2]["id"] == "i2"
    assert set(lines[2]) == {"id", "error"} and "500" in lines[2]["error"]
    sent = sum(server.requests.values())
    # Again: nothing is sent (answered, or failed for good), the output is rewritten whole.
    out.unlink()
    again = reverie(*command)
    assert again.returncode == 1, again.stderr
    assert sum(server.requests.values()) == sent
    assert read_output(out) == lines
    # --retry-failed sends the failed item (and only it) again.
    retried = reverie(*command, "--retry-failed")
    assert retried.returncode == 1
    assert sum(server.requests.values()) > sent
    assert set(server.requests) - {"item 2 always-fail"} == {f"item {n}" for n in range(6) if n != 2}
    assert all(server.answers[f"item {n}"] == 1 for n in range(6) if n != 2)


def test_a_bad_line_exits_2_naming_it_before_any_request(server: BatchServer, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": 1, "prompt": "a"}\n{"id": 2}\n', encoding="utf-8")
    completed = reverie(*batch_command(server, source, tmp_path / "o.jsonl"))
    assert completed.returncode == 2
    assert "line 2: no prompt or messages" in completed.stderr
    assert server.requests == {}
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--concurrency", "0"], "must be at least 1"),
        (["--budget-usd", "-1"], "must not be negative"),
    ],
)
def test_bad_options_exit_2(
    in_process: InProcess, tmp_path: Path, arguments: list[str], message: str
) -> None:
    source = write_input(tmp_path / "in.jsonl", 1)
    code, _, err = in_process(
        "batch", str(source), "-m", "openaicompat:m@http://127.0.0.1:9/v1", "--out", "o", *arguments
    )
    assert code == 2
    assert message in err


def test_a_spent_budget_stops_sending(server: BatchServer, tmp_path: Path) -> None:
    # grok-3-mini is priced by the bundled price data, so every item costs a little.
    source, out = write_input(tmp_path / "in.jsonl", 10), tmp_path / "out.jsonl"
    completed = reverie(
        "batch",
        str(source),
        "-m",
        f"openaicompat:grok-3-mini@{server.url}",
        "--out",
        str(out),
        "--concurrency",
        "1",
        "--budget-usd",
        "0.00001",
    )
    assert completed.returncode == 1, completed.stderr
    lines = read_output(out)
    answered = [line for line in lines if "text" in line]
    stopped = [line for line in lines if "error" in line]
    assert answered and stopped and len(lines) == 10
    assert all(line["cost"] > 0 for line in answered)
    assert all("budget exceeded" in line["error"] for line in stopped)
    assert sum(server.requests.values()) == len(answered)


def test_schema_fills_the_output_field(server: BatchServer, tmp_path: Path) -> None:
    schema = tmp_path / "echo.json"
    schema.write_text(
        json.dumps({"type": "object", "properties": {"echo": {"type": "string"}}, "required": ["echo"]})
    )
    source, out = write_input(tmp_path / "in.jsonl", 3), tmp_path / "out.jsonl"
    completed = reverie(*batch_command(server, source, out, "--schema", str(schema)))
    assert completed.returncode == 0, completed.stderr
    assert [line["output"] for line in read_output(out)] == [{"echo": f"item {n}"} for n in range(3)]


def start_batch(command: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reverie", *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=clean_environment(),
    )


def read_until(process: subprocess.Popen[str], text: str) -> str:
    """Standard error up to the line holding ``text`` (the process goes on)."""
    assert process.stderr is not None
    seen = ""
    while text not in seen:
        line = process.stderr.readline()
        assert line, f"no {text!r} on standard error: {seen}"
        seen += line
    return seen


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_lets_the_items_under_way_finish_and_the_resumed_run_sends_none_twice(
    tmp_path: Path, number: signal.Signals
) -> None:
    source, out, journal = (
        write_input(tmp_path / "in.jsonl", 40),
        tmp_path / "out.jsonl",
        tmp_path / "runs.db",
    )
    with BatchServer(throttled=NEVER, flaky=NEVER, max_lifetime=120, delay=0.2) as server:
        command = batch_command(server, source, out, "--journal", str(journal), "--concurrency", "8")
        process = start_batch(command)
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while server.answered < 20 and time.monotonic() < deadline:  # about half the items
            time.sleep(0.01)
        process.send_signal(number)
        stopping = read_until(process, "stopping: waiting for")
        _, rest = process.communicate(timeout=COMMAND_TIMEOUT)
        err = stopping + rest
        assert process.returncode == 130, err
        assert "items under way; Ctrl-C again to stop now" in err
        sent = [n for n in range(40) if server.requests[f"item {n}"]]
        assert 20 <= len(sent) < 40
        # Every item sent, those under way at the signal too, was answered and written, in order.
        assert [line["id"] for line in read_output(out)] == [f"i{n}" for n in sent]
        assert f"interrupted: {len(sent)} of 40 items done" in err
        resumed = reverie(*command)
        assert resumed.returncode == 0, resumed.stderr
        assert [line["id"] for line in read_output(out)] == [f"i{n}" for n in range(40)]
        assert [line["text"] for line in read_output(out)] == [f"answer to item {n}" for n in range(40)]
        assert all(server.requests[f"item {n}"] == 1 for n in range(40)), server.requests


def test_a_second_ctrl_c_stops_at_once_keeps_what_is_done_and_the_next_run_resumes(
    server: BatchServer, tmp_path: Path
) -> None:
    source, out, journal = (
        write_input(tmp_path / "in.jsonl", 40),
        tmp_path / "out.jsonl",
        tmp_path / "runs.db",
    )
    command = batch_command(server, source, out, "--journal", str(journal))
    server.pause_after(20)
    process = start_batch(command)
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while server.held < 8 and time.monotonic() < deadline:  # every worker waits on the paused server
        time.sleep(0.05)
    assert server.held == 8
    process.send_signal(signal.SIGINT)
    stopping = read_until(process, "stopping: waiting for 8 items under way")
    process.send_signal(signal.SIGINT)  # the held requests would never end: stop now
    _, rest = process.communicate(timeout=COMMAND_TIMEOUT)
    err = stopping + rest
    server.release()
    assert process.returncode == 130, err
    assert "interrupted: 20 of 40 items done" in err
    assert [line["id"] for line in read_output(out)] == [
        f"i{n}" for n in range(40) if server.answers[f"item {n}"]
    ]
    resumed = reverie(*command)
    assert resumed.returncode == 0, resumed.stderr
    assert [line["id"] for line in read_output(out)] == [f"i{n}" for n in range(40)]
    assert all(server.answers[f"item {n}"] == 1 for n in range(40))


def test_a_journal_that_is_not_a_database_exits_2_with_one_line(server: BatchServer, tmp_path: Path) -> None:
    source, out, journal = (
        write_input(tmp_path / "in.jsonl", 3),
        tmp_path / "out.jsonl",
        tmp_path / "corrupt.db",
    )
    journal.write_bytes(b"not a database, " * 200)
    completed = reverie(
        "batch",
        str(source),
        "-m",
        f"openaicompat:m@{server.url}",
        "--out",
        str(out),
        "--journal",
        str(journal),
    )
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [
        f"reverie: error: cannot open the batch store {journal}: file is not a database"
    ]
    assert not out.exists()


def test_a_budget_in_usd_without_a_price_warns_once(server: BatchServer, tmp_path: Path) -> None:
    source, out = write_input(tmp_path / "in.jsonl", 4), tmp_path / "out.jsonl"
    completed = reverie(*batch_command(server, source, out, "--budget-usd", "5"))
    assert completed.returncode == 0, completed.stderr
    warnings = [line for line in completed.stderr.splitlines() if "budget in USD" in line]
    assert len(warnings) == 1
    assert warnings[0].endswith("the budget in USD cannot be enforced: no price is known for openaicompat:m")

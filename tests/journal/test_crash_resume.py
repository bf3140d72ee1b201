"""Acceptance: durable runs killed at random points resume from the journal to the same result.

A worker process (``tests.journal.worker``, forked from a fresh interpreter that imported
reverie, so that 150 processes start quickly) runs five tool steps and a final answer against a
loopback chat-completions server, with a ``SQLiteJournal`` every worker shares. The test kills
it with SIGKILL after a random delay (a fixed seed; every fifth run inside a call of the tool
that is not idempotent, for certain), 50 times, four runs at a time, and
resumes each run in fresh processes: with the same run id, and with ``agent.resume(run_id,
tool_results=...)`` when ``InterruptedToolError`` names a call.

Checked: every run ends with the result of an uninterrupted run; the server never gets the
request of a step whose answer the journal had recorded; no tool runs again once its result
was recorded; the non-idempotent tool never runs twice for one call, and its interrupted
calls surface as ``InterruptedToolError``.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reverie import AgentResult, from_json
from tests.cli.stub_server import Recorded, Reply, StubServer
from tests.journal import worker
from tests.journal.worker import INTERRUPTED

SEED = 20250601
ROUNDS = 50
TOOL_STEPS = 5


@dataclass
class Model:
    """The scripted model: a tool call per step, then the results it read; it checks the journal."""

    journal: Path
    resent: list[str] = field(default_factory=list[str])
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, request: Recorded) -> Reply:
        run_id = request.headers["x-run-id"]
        results = [message["content"] for message in request.body["messages"] if message["role"] == "tool"]
        step = len(results)
        if self._recorded(run_id, step):
            with self.lock:
                self.resent.append(f"{run_id} step {step}")
        if step < TOOL_STEPS:
            name = "lookup" if step % 2 == 0 else "charge"
            return Reply(tool_call=(name, {"step": step}), call_id=f"call_{step}")
        return Reply(text=" | ".join(results))

    def _recorded(self, run_id: str, step: int) -> bool:
        if not self.journal.exists():
            return False
        with sqlite3.connect(self.journal) as connection:
            rows = connection.execute(
                "SELECT data FROM reverie_journal WHERE run_id = ? AND kind = 'response'", (run_id,)
            ).fetchall()
        return any(json.loads(row[0])["step"] == step for row in rows)


@dataclass
class Outcome:
    result: AgentResult
    interrupted: list[tuple[str, str]]
    processes: int


_CONTEXT = multiprocessing.get_context("forkserver")
# The server the workers fork from is a fresh interpreter (sys.executable) that imports these.
_CONTEXT.set_forkserver_preload(["reverie", "reverie.providers.openai", "tests.journal.worker"])


def _worker(url: str, journal: Path, run_id: str, logs: Path, *resume: str) -> tuple[Any, Path]:
    output = logs / f"{run_id}.{time.monotonic_ns()}.out"
    ready = _CONTEXT.Event()
    argv = ["worker", url, str(journal), run_id, str(logs), *resume]
    process = _CONTEXT.Process(target=worker.run, args=(argv, str(output), ready))
    process.start()
    assert ready.wait(30)
    return process, output


def _summary(result: AgentResult) -> tuple[str, list[list[tuple[str, object]]]]:
    """What must not change: the final text and every step's tool results."""
    return result.text, [
        [(part.tool_name, part.output) for part in step.tool_results] for step in result.steps
    ]


def _crash_and_resume(url: str, journal: Path, logs: Path, run_id: str, delay: float | None) -> Outcome:
    """Kill the run after ``delay`` seconds (``None``: while its first ``charge`` call runs), resume it."""
    hold = logs / f"{run_id}.hold"
    if delay is None:
        hold.touch()
    process, _ = _worker(url, journal, run_id, logs)
    if delay is None:
        charge_log = logs / f"{run_id}.charge.log"
        for _ in range(3000):  # at most 30 s
            if charge_log.exists() and charge_log.read_text():
                break
            time.sleep(0.01)
        else:
            raise AssertionError(f"run {run_id} never called charge")
    else:
        time.sleep(delay)
    process.kill()
    process.join()
    hold.unlink(missing_ok=True)
    interrupted: list[tuple[str, str]] = []
    resume: tuple[str, ...] = ()
    for count in range(2, 8):
        process, output = _worker(url, journal, run_id, logs, *resume)
        process.join(30)
        lines = output.read_text().splitlines()
        if process.exitcode == 0:
            return Outcome(from_json(lines[1], AgentResult), interrupted, count)
        assert process.exitcode == INTERRUPTED, (process.exitcode, lines)
        _, call_id, tool_name, reported_run = lines[1].split()
        assert reported_run == run_id
        interrupted.append((call_id, tool_name))
        step = int(call_id.removeprefix("call_"))
        resume = (call_id, f"charged {step * 100}")  # what the call did, found out by the caller
    raise AssertionError(f"run {run_id} did not finish")


def test_runs_killed_at_random_points_resume_to_the_same_result(tmp_path: Path) -> None:
    journal, logs = tmp_path / "runs.db", tmp_path / "logs"
    logs.mkdir()
    model = Model(journal)
    rng = random.Random(SEED)
    # Every fifth run is killed inside a call of the tool that is not idempotent, for certain;
    # the others at a random point, wherever the (loaded or idle) machine has got to by then.
    delays = [None if index % 5 == 0 else rng.uniform(0.0, 0.3) for index in range(ROUNDS)]
    with StubServer(lifetime=120, answer=model.answer) as server:
        reference = _crash_and_resume(server.url, tmp_path / "reference.db", logs, "reference", 10.0)
        with ThreadPoolExecutor(4) as pool:
            outcomes = list(
                pool.map(
                    lambda index: _crash_and_resume(
                        server.url, journal, logs, f"order-{index}", delays[index]
                    ),
                    range(ROUNDS),
                )
            )
    expected = _summary(reference.result)
    assert expected[0] == " | ".join(
        f"value {step * 7}" if step % 2 == 0 else f"charged {step * 100}" for step in range(TOOL_STEPS)
    )
    for outcome in outcomes:
        assert _summary(outcome.result) == expected
    assert model.resent == []  # no recorded step was asked for again
    runs = [f"order-{index}" for index in range(ROUNDS)]
    for run_id in runs:
        for tool in ("lookup", "charge"):
            log = logs / f"{run_id}.{tool}.log"
            lines = log.read_text().split("\n")[:-1] if log.exists() else []
            assert not [line for line in lines if "AGAIN" in line], (run_id, tool, lines)
            if tool == "charge":
                assert len(lines) == len(set(lines)), (run_id, lines)  # never twice for one call
    interrupted = [call for outcome in outcomes for call in outcome.interrupted]
    assert {tool for _, tool in interrupted} == {"charge"}  # only the tool that is not idempotent
    held = [f"order-{index}" for index in range(ROUNDS) if delays[index] is None]
    assert all(outcomes[int(run_id.removeprefix("order-"))].interrupted for run_id in held)
    assert sum(outcome.processes for outcome in outcomes) > 2 * ROUNDS

"""The SQLite journal (WAL, several processes, conflicts) and the pure replay decisions."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest

from reverie import (
    Agent,
    AgentResult,
    Call,
    JournalConflictError,
    JournalError,
    Message,
    Response,
    SQLiteJournal,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
    tool,
)
from reverie._journal.claims import driving
from reverie._run.journal_replay import recorded_answer, replayed_parts, tool_decision
from reverie.testing import MockModel

APPEND = """
import sys
from reverie import Message, SQLiteJournal, ToolResultPart
journal = SQLiteJournal(sys.argv[1])
for index in range(40):
    run_id = f"{sys.argv[2]}-{index}"
    journal.start(run_id, [Message.user("go")], [Message.user("go")])
    journal.record_tool_result(run_id, 0, ToolResultPart(tool_call_id="c", tool_name="t", output="x"))
"""


def test_the_journal_file_is_in_wal_mode(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "runs.db")
    journal.start("r", [Message.user("go")], [Message.user("go")])
    with sqlite3.connect(journal.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_two_processes_append_to_one_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    SQLiteJournal(path).load("warm-up")  # the table exists before the race
    workers = [subprocess.Popen([sys.executable, "-c", APPEND, str(path), name]) for name in ("a", "b")]
    assert [worker.wait(60) for worker in workers] == [0, 0]
    journal = SQLiteJournal(path)
    assert len(journal.run_ids()) == 80
    record = journal.load("b-39")
    assert record is not None and record.tool_results[0, "c"].output == "x"


def test_a_second_writer_of_one_run_gets_a_conflict_error(tmp_path: Path) -> None:
    first, second = SQLiteJournal(tmp_path / "runs.db"), SQLiteJournal(tmp_path / "runs.db")
    first.start("r", [Message.user("go")], [Message.user("go")])
    assert second.load("r") is not None
    first.record_tool_result("r", 0, ToolResultPart(tool_call_id="c", tool_name="t", output="1"))
    with pytest.raises(JournalConflictError, match="two processes") as caught:
        second.record_tool_result("r", 0, ToolResultPart(tool_call_id="c", tool_name="t", output="2"))
    assert caught.value.run_id == "r"
    record = first.load("r")
    assert record is not None and record.tool_results[0, "c"].output == "1"


def test_responses_read_back_as_recorded(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "runs.db")
    journal.start("r", [Message.user("go")], [Message.user("go")])
    response = Response(
        content=[TextPart(text="hi"), ToolCallPart(tool_call_id="c", tool_name="t", input="{}")],
        finish_reason="tool_calls",
        usage=Usage(input_tokens=3, output_tokens=2, total_tokens=5),
        response_id="resp-1",
    )
    journal.record_response("r", 0, response)
    record = journal.load("r")
    assert recorded_answer(record, 0) == response
    assert recorded_answer(record, 1) is None
    assert [part.type for part in replayed_parts(response)] == [
        "text_start",
        "text_delta",
        "text_end",
        "tool_call",
        "finish",
    ]


def test_tool_decisions() -> None:
    journal_call = ToolCallPart(tool_call_id="c", tool_name="t", input="{}")
    result = ToolResultPart(tool_call_id="c", tool_name="t", output="done")
    from reverie._journal.protocol import RunRecord

    record = RunRecord(run_id="r", messages=[], input_messages=[])
    assert tool_decision(None, 0, journal_call, idempotent=False) == ("run", None)
    assert tool_decision(record, 0, journal_call, idempotent=False) == ("run", None)
    record.started[0, "c"] = journal_call
    assert tool_decision(record, 0, journal_call, idempotent=False) == ("interrupted", None)
    assert tool_decision(record, 0, journal_call, idempotent=True) == ("run", None)
    assert tool_decision(record, 1, journal_call, idempotent=False) == ("run", None)  # another step
    record.tool_results[0, "c"] = result
    assert tool_decision(record, 0, journal_call, idempotent=False) == ("replay", result)


# -- errors of the file: a JournalError naming it, never a raw sqlite3 error ------------------


def test_a_file_that_is_not_a_database_is_a_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    path.write_bytes(b"this is not a database, only text long enough to have a header" * 20)
    journal = SQLiteJournal(path)

    with pytest.raises(JournalError, match=r"runs\.db") as caught:
        journal.load("r")

    assert caught.value.path == str(path)
    assert isinstance(caught.value.__cause__, sqlite3.DatabaseError)
    assert "not a database" in str(caught.value)
    with pytest.raises(JournalError):  # writing fails the same way (no half-open connection kept)
        journal.start("r", [Message.user("go")], [Message.user("go")])


def test_a_missing_folder_is_a_journal_error(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "missing" / "runs.db")

    with pytest.raises(JournalError, match="unable to open") as caught:
        journal.start("r", [Message.user("go")], [Message.user("go")])

    assert caught.value.path == str(tmp_path / "missing" / "runs.db")
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert not isinstance(caught.value, JournalConflictError)


def test_a_file_locked_past_the_timeout_is_a_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    writer = SQLiteJournal(path, timeout=0.05)
    writer.start("r", [Message.user("go")], [Message.user("go")])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(JournalError, match="locked") as caught:
            writer.record_tool_result("r", 0, ToolResultPart(tool_call_id="c", tool_name="t", output="x"))
        assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
        with pytest.raises(JournalError, match="locked"):  # a new connection cannot even open it
            SQLiteJournal(path, timeout=0.05).start("s", [Message.user("go")], [Message.user("go")])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Once the lock is gone the journal goes on where the file is.
    writer.record_tool_result("r", 0, ToolResultPart(tool_call_id="c", tool_name="t", output="x"))
    record = writer.load("r")
    assert record is not None and record.entries == 2


def test_an_entry_that_is_not_json_is_a_journal_error_naming_the_run_and_entry(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "runs.db")
    journal.start("r", [Message.user("go")], [Message.user("go")])
    journal.record_tool_result("r", 0, ToolResultPart(tool_call_id="c", tool_name="t", output="x"))
    with sqlite3.connect(journal.path) as connection:
        connection.execute("UPDATE reverie_journal SET data = '{not json' WHERE run_id = 'r' AND seq = 1")

    with pytest.raises(JournalError, match=r"entry 1 \(tool_result\) of run 'r'") as caught:
        journal.load("r")

    assert caught.value.path == str(journal.path)
    assert caught.value.__cause__ is not None


# -- one journal object drives a run id once at a time ----------------------------------------


def _gated_agent() -> tuple[Agent, anyio.Event, anyio.Event]:
    """An agent whose tool waits for ``gate`` (after setting ``started``), then answers."""
    started, gate = anyio.Event(), anyio.Event()

    @tool(idempotent=True)
    async def wait() -> str:
        """Wait for the gate."""
        started.set()
        await gate.wait()
        return "opened"

    def answer(call: Call) -> Response | str:
        if not any(message.role == "tool" for message in call.prompt):
            return MockModel.tool_calls(("wait", {}))
        return "done"

    return Agent(MockModel(answer), tools=[wait]), started, gate


@pytest.mark.anyio
async def test_one_journal_object_refuses_to_drive_a_run_id_twice_at_once(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "runs.db")
    agent, started, gate = _gated_agent()
    results: list[AgentResult[Any]] = []

    async def first() -> None:
        results.append(await agent.generate_async("Go", journal=journal, run_id="same"))

    with anyio.fail_after(10):  # without the claim the second run would wait in the tool forever
        async with anyio.create_task_group() as group:
            group.start_soon(first)
            await started.wait()  # the first run is inside its tool, its id claimed
            with pytest.raises(JournalConflictError, match="'same'") as caught:
                await agent.generate_async("Go", journal=journal, run_id="same")
            assert caught.value.run_id == "same"
            with pytest.raises(JournalConflictError):  # nor are answers recorded into it
                await agent.resume_async("same", journal=journal, tool_results={"x": 1})
            stream = agent.stream_async("Go", journal=journal, run_id="same")
            with pytest.raises(JournalConflictError):
                async for _ in stream:
                    pass
            gate.set()

    (result,) = results
    assert result.text == "done"
    record = journal.load("same")
    assert record is not None and record.result is not None
    assert [kind for (kind,) in _kinds(journal, "same")] == [
        "input",
        "response",
        "tool_started",
        "tool_result",
        "response",
        "finish",
    ]
    again = await agent.generate_async("Go", journal=journal, run_id="same")  # the claim was released
    assert again.steps == result.steps


@pytest.mark.anyio
async def test_a_closed_stream_releases_its_run_id(tmp_path: Path) -> None:
    journal = SQLiteJournal(tmp_path / "runs.db")
    agent, started, gate = _gated_agent()
    stream = agent.stream_async("Go", journal=journal, run_id="r")
    async for part in stream:
        if part.type == "tool_call":
            break
    await stream.aclose()
    gate.set()

    result = await agent.generate_async("Go", journal=journal, run_id="r")

    assert result.text == "done"
    assert started.is_set()


def _kinds(journal: SQLiteJournal, run_id: str) -> list[tuple[str]]:
    with sqlite3.connect(journal.path) as connection:
        return connection.execute(
            "SELECT kind FROM reverie_journal WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()


def test_a_claim_is_released_when_the_run_fails() -> None:
    journal = object()
    with pytest.raises(RuntimeError), driving(journal, "r"):
        with pytest.raises(JournalConflictError), driving(journal, "r"):
            pass
        with driving(object(), "r"):  # another journal object: its own claims
            pass
        raise RuntimeError
    with driving(journal, "r"):  # claimed again after the failure released it
        pass

"""``SQLiteJournal``: the embedded ``Journal``, one SQLite file (standard library ``sqlite3``), no server.

Every entry is one row of the table ``reverie_journal``, keyed by ``(run_id, seq)`` and written
by one ``INSERT`` that commits before the method returns (``synchronous=FULL``): a run moves on
only once what it recorded is on disk. The file is opened in WAL mode with a busy timeout, so
several processes may share it (each writer waits for the others' short transactions).

The journal remembers, per run, the ``seq`` its next entry takes (learnt from ``load`` or from
the file). An entry of another writer in the same place makes the ``INSERT`` fail on the key:
two processes that drive one ``run_id`` at once get a ``JournalConflictError``, never a mixed log.
(Within one journal object, the driver claims a run id while it drives it: see
``reverie._journal.claims``.) Every other ``sqlite3`` error (a file that is not a database, a
folder that does not exist, a file locked past ``timeout``) and an entry that is not JSON
become a ``JournalError`` naming the file, with the ``sqlite3`` error as its ``__cause__``.

One connection per journal object, shared by the threads of a run's parallel tool calls under
a lock. Async runs call it directly: a write is short, so it is not sent to a thread. Use one
journal object per process (a connection must not cross ``fork``). Other tables of the same file
(``.path``) are left alone. Nothing secret is written: messages, tool calls, results and answers.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from reverie._content import Message, ToolCallPart, ToolResultPart
from reverie._errors import JournalConflictError, JournalError
from reverie._journal import entries
from reverie._journal.protocol import RunRecord
from reverie._model import Response
from reverie._results import AgentResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reverie_journal (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
)
"""


class SQLiteJournal:
    """A ``Journal`` in one SQLite file, safe to share between threads and processes.

    Args:
        path: The database file (created with its table when missing).
        timeout: Seconds a write waits for another process's transaction before failing.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        """The database file (other components may keep their own tables in it)."""
        self.timeout = timeout
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._next: dict[str, int] = {}
        """The ``seq`` of each run's next entry, as this journal knows it."""

    def __repr__(self) -> str:
        return f"SQLiteJournal(path={str(self.path)!r})"

    def _connect(self) -> sqlite3.Connection:
        connection = self._connection
        if connection is None:
            try:
                # Autocommit: each INSERT is its own transaction, committed when execute returns.
                connection = sqlite3.connect(
                    self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
                )
            except sqlite3.Error as error:
                raise self._error("cannot be opened", error) from error
            try:
                connection.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = FULL")
                connection.execute(_SCHEMA)
            except sqlite3.Error as error:
                connection.close()  # a later call tries again (the file may be fixed or unlocked)
                raise self._error("cannot be opened", error) from error
            self._connection = connection
        return connection

    def _error(self, doing: str, error: sqlite3.Error) -> JournalError:
        """The ``JournalError`` of a ``sqlite3`` error (its message names no secret: a path, a reason)."""
        hint = ""
        if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):
            hint = f" (another connection held it longer than timeout={self.timeout:g}s)"
        return JournalError(f"the journal {str(self.path)!r} {doing}: {error}{hint}", path=str(self.path))

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> SQLiteJournal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------------

    def load(self, run_id: str) -> RunRecord | None:
        """What was recorded about ``run_id`` (``None``: nothing)."""
        with self._lock:
            connection = self._connect()
            try:
                rows: list[tuple[str, str]] = connection.execute(
                    "SELECT kind, data FROM reverie_journal WHERE run_id = ? ORDER BY seq", (run_id,)
                ).fetchall()
            except sqlite3.Error as error:
                raise self._error(f"cannot be read (run {run_id!r})", error) from error
            self._next[run_id] = len(rows)
        try:
            return entries.fold(run_id, rows)
        except JournalError as error:
            error.path = str(self.path)
            raise

    def run_ids(self) -> list[str]:
        """The ids of every run in the file, in the order they started."""
        with self._lock:
            connection = self._connect()
            try:
                rows: list[tuple[str]] = connection.execute(
                    "SELECT run_id FROM reverie_journal WHERE seq = 0 ORDER BY rowid"
                ).fetchall()
            except sqlite3.Error as error:
                raise self._error("cannot be read", error) from error
        return [row[0] for row in rows]

    # -- writing ---------------------------------------------------------------------------------

    def _append(self, run_id: str, kind: str, data: str) -> None:
        with self._lock:
            connection = self._connect()
            seq = self._next.get(run_id)
            try:
                if seq is None:
                    row: tuple[int | None] = connection.execute(
                        "SELECT MAX(seq) FROM reverie_journal WHERE run_id = ?", (run_id,)
                    ).fetchone()
                    seq = 0 if row[0] is None else row[0] + 1
                connection.execute(
                    "INSERT INTO reverie_journal (run_id, seq, kind, data) VALUES (?, ?, ?, ?)",
                    (run_id, seq, kind, data),
                )
            except sqlite3.IntegrityError:
                self._next.pop(run_id, None)  # learn the file's state again next time
                raise JournalConflictError(
                    f"another writer recorded entry {seq} of run {run_id!r} first: "
                    "two processes drive this run at once",
                    run_id=run_id,
                ) from None
            except sqlite3.Error as error:
                self._next.pop(run_id, None)  # the entry may or may not be in the file: ask it next time
                raise self._error(f"cannot be written (a {kind} entry of run {run_id!r})", error) from error
            self._next[run_id] = seq + 1

    def start(self, run_id: str, messages: Sequence[Message], input_messages: Sequence[Message]) -> None:
        """Record a new run's input."""
        self._next.setdefault(run_id, 0)  # a new run's first entry, even if another wrote it first
        self._append(run_id, "input", entries.input_entry(messages, input_messages))

    def record_response(self, run_id: str, step_number: int, response: Response) -> None:
        """Record the model's answer of a step."""
        self._append(run_id, "response", entries.response_entry(step_number, response))

    def tool_started(self, run_id: str, step_number: int, call: ToolCallPart) -> None:
        """Record that a tool call is about to run."""
        self._append(run_id, "tool_started", entries.tool_started_entry(step_number, call))

    def record_tool_result(self, run_id: str, step_number: int, result: ToolResultPart) -> None:
        """Record a tool call's result."""
        self._append(run_id, "tool_result", entries.tool_result_entry(step_number, result))

    def record_pause(self, run_id: str, result: AgentResult[Any]) -> None:
        """Record that the run paused for approval."""
        self._append(run_id, "pause", entries.result_entry(result))

    def record_answers(
        self, run_id: str, approvals: Mapping[str, bool | str], tool_results: Mapping[str, ToolResultPart]
    ) -> None:
        """Record the answers the last pause is resumed with."""
        self._append(run_id, "answers", entries.answers_entry(approvals, tool_results))

    def finish(self, run_id: str, result: AgentResult[Any]) -> None:
        """Record the run's final result."""
        self._append(run_id, "finish", entries.result_entry(result))

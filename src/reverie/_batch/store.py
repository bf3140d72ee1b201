"""The SQLite store of finished batch items, so that a batch run again resumes where it stopped.

One table, ``reverie_batch_items``, keyed by a batch key and an item key (the item's id as
JSON), holds each finished item's state and output line. Each item is written in its own
transaction as it finishes, so whatever finished before a crash or a Ctrl-C stays recorded.
The database runs in WAL mode with ``synchronous=NORMAL``: a commit survives the process
being killed (not necessarily a power cut), and readers never block the writer. Other tables
in the same file (a run journal's) are left alone.

States: ``answered``; ``failed`` (for good: not sent again unless asked); ``stopped`` (failed
for a reason of the batch, not the item: the budget ran out; sent again on resume).

The connection is shared by the batch's workers (threads in sync batches), under a lock held
only for one statement and its commit. Does not: decide what is sent again (``work``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

StoredState = Literal["answered", "failed", "stopped"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reverie_batch_items (
    batch TEXT NOT NULL,
    item TEXT NOT NULL,
    state TEXT NOT NULL,
    line TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (batch, item)
) WITHOUT ROWID
"""


class _HasPath(Protocol):
    """A journal object that names its SQLite file (``reverie.SQLiteJournal``)."""

    @property
    def path(self) -> str | os.PathLike[str]: ...


JournalLike = str | os.PathLike[str] | _HasPath
"""Where a batch keeps its items: a SQLite file's path, or a journal with a ``.path``."""


def journal_path(journal: JournalLike) -> str:
    """The SQLite file ``journal`` names."""
    if isinstance(journal, str | os.PathLike):
        return os.fspath(journal)
    return os.fspath(journal.path)


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One finished item as the store holds it."""

    state: StoredState
    line: dict[str, Any]
    """The output line written for it."""


class BatchStore:
    """The finished items of every batch kept in one SQLite file.

    Args:
        path: The database file (created if missing).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        # Shared by the worker threads of a sync batch; the lock below serialises its use.
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._closed = False
        with self._lock:
            self._connection.execute("PRAGMA busy_timeout = 10000")
            self._connection.execute("PRAGMA journal_mode = WAL")
            self._connection.execute("PRAGMA synchronous = NORMAL")
            self._connection.execute(_SCHEMA)

    def load(self, batch: str) -> dict[str, StoredItem]:
        """The finished items of ``batch``, by item key."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT item, state, line FROM reverie_batch_items WHERE batch = ?", (batch,)
            ).fetchall()
        return {item: StoredItem(cast(StoredState, state), json.loads(line)) for item, state, line in rows}

    def record(self, batch: str, item: str, state: StoredState, line: dict[str, Any]) -> None:
        """Keep one finished item, in its own transaction (replacing an earlier record of it)."""
        text = json.dumps(line, ensure_ascii=False)
        with self._lock:
            if self._closed:
                return  # a sync worker finishing after the batch was interrupted
            self._connection.execute(
                "INSERT OR REPLACE INTO reverie_batch_items (batch, item, state, line, updated) "
                "VALUES (?, ?, ?, ?, ?)",
                (batch, item, state, text, time.time()),
            )

    def forget(self, batch: str) -> None:
        """Drop every record of ``batch``."""
        with self._lock:
            self._connection.execute("DELETE FROM reverie_batch_items WHERE batch = ?", (batch,))

    def close(self) -> None:
        """Close the database (idempotent); later records are ignored."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._connection.close()

"""The SQLite store of finished batch items, so that a batch run again resumes where it stopped.

One table, ``reverie_batch_items``, keyed by a batch key and an item key (the item's id as
JSON), holds each finished item's state and output line. Each item is written in its own
transaction as it finishes, so whatever finished before a crash or a Ctrl-C stays recorded.
The database runs in WAL mode with ``synchronous=NORMAL``: a commit survives the process
being killed (not necessarily a power cut), and readers never block the writer. Other tables
in the same file (a run journal's) are left alone.

States: ``answered``; ``failed`` (for good: not sent again unless asked); ``stopped`` (failed
for a reason of the batch, not the item: the budget ran out, a journal could not be written;
sent again on resume). Each row also keeps a digest of the item's content (``digest``, ``NULL``
in a table written before it existed: the column is added on open), so that a resumed batch can
tell an item changed under the same id.

Every ``sqlite3`` error (a file that is not a database, a lock held past the timeout) is raised
as ``reverie.JournalError`` naming the file, with the ``sqlite3`` error as its ``__cause__``.

The connection is shared by the batch's workers (threads in sync batches), under a lock held
only for one statement and its commit. ``StoreWriter`` records from a thread of its own, so that
a batch's event loop (or its workers) does not wait for the commits: each item is still
committed in its own transaction as soon as the writer reaches it, and closing the writer waits
until every item handed to it is committed. A commit that fails stops the writer's commits: the
items it could not keep are handed to a callback (the batch reports them and sends them again on
resume). Does not: decide what is sent again (``work``).
"""

from __future__ import annotations

import json
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, Protocol, cast

from reverie._errors import JournalError

StoredState = Literal["answered", "failed", "stopped"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reverie_batch_items (
    batch TEXT NOT NULL,
    item TEXT NOT NULL,
    state TEXT NOT NULL,
    line TEXT NOT NULL,
    updated REAL NOT NULL,
    digest TEXT,
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
    digest: str | None = None
    """A digest of the item's content when it was recorded (``None``: recorded without one)."""


class BatchStore:
    """The finished items of every batch kept in one SQLite file.

    Args:
        path: The database file (created if missing).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._closed = False
        with self._errors("open"):
            # Shared by the worker threads of a sync batch; the lock below serialises its use.
            self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            with self._lock, self._errors("open"):
                self._connection.execute("PRAGMA busy_timeout = 10000")
                self._connection.execute("PRAGMA journal_mode = WAL")
                self._connection.execute("PRAGMA synchronous = NORMAL")
                self._connection.execute(_SCHEMA)
                columns = {
                    row[1] for row in self._connection.execute("PRAGMA table_info(reverie_batch_items)")
                }
                if "digest" not in columns:  # a table written before digests were kept
                    self._connection.execute("ALTER TABLE reverie_batch_items ADD COLUMN digest TEXT")
        except JournalError:
            self._connection.close()
            raise

    @contextmanager
    def _errors(self, doing: str) -> Generator[None]:
        """Raise a ``sqlite3`` error inside as a ``JournalError`` naming the file."""
        try:
            yield
        except sqlite3.Error as error:
            raise JournalError(
                f"cannot {doing} the batch store {self.path}: {error}", path=self.path
            ) from error

    def load(self, batch: str) -> dict[str, StoredItem]:
        """The finished items of ``batch``, by item key."""
        with self._lock, self._errors("read"):
            rows = self._connection.execute(
                "SELECT item, state, line, digest FROM reverie_batch_items WHERE batch = ?", (batch,)
            ).fetchall()
        try:
            return {
                item: StoredItem(cast(StoredState, state), json.loads(line), digest)
                for item, state, line, digest in rows
            }
        except (ValueError, TypeError) as error:  # a row that is not what this module writes
            raise JournalError(f"cannot read the batch store {self.path}: {error}", path=self.path) from error

    def record(
        self,
        batch: str,
        item: str,
        state: StoredState,
        line: dict[str, Any],
        *,
        updated: float | None = None,
        digest: str | None = None,
    ) -> None:
        """Keep one finished item, in its own transaction (replacing an earlier record of it).

        ``updated``: when it finished (default: now); ``digest``: of the item's content.
        """
        text = json.dumps(line, ensure_ascii=False)
        with self._lock, self._errors("write to"):
            if self._closed:
                return  # a sync worker finishing after the batch was interrupted
            self._connection.execute(
                "INSERT OR REPLACE INTO reverie_batch_items (batch, item, state, line, updated, digest) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (batch, item, state, text, time.time() if updated is None else updated, digest),
            )

    def forget(self, batch: str) -> None:
        """Drop every record of ``batch``."""
        with self._lock, self._errors("write to"):
            self._connection.execute("DELETE FROM reverie_batch_items WHERE batch = ?", (batch,))

    def close(self) -> None:
        """Close the database (idempotent); later records are ignored."""
        with self._lock:
            if not self._closed:
                self._closed = True
                with self._errors("close"):
                    self._connection.close()


_Row = tuple[str, str, StoredState, dict[str, Any], float, str | None]
"""What ``StoreWriter.record`` queues: batch, item, state, line, when it finished, and its digest."""

Lost = Callable[[str, JournalError], None]
"""Told of each item a failed writer did not keep: its item key and the store's error."""


class StoreWriter:
    """Records finished items into a ``BatchStore`` from a thread of its own, in order, one commit each.

    ``record`` only queues the item; the writer thread (started on the first record) commits it.
    ``close`` waits for every queued item to be committed, then closes the store. A failed
    commit stops the writer's commits (a store that failed once is not trusted with the next
    item): given ``lost``, the writer tells it of that item and of every later one it does not
    keep; without it, the next ``record``, or ``close``, raises the ``JournalError``.

    Args:
        store: The open store to write into (closed by ``close``).
        lost: Told of each item not kept, from the writer's thread (and from ``record`` once
            the writer has failed).
    """

    def __init__(self, store: BatchStore, *, lost: Lost | None = None) -> None:
        self.store = store
        self._lost = lost
        self._queue: queue.SimpleQueue[_Row | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False
        self._failure: JournalError | None = None
        self.failure: JournalError | None = None
        """The first commit's error, once one failed (kept after it was raised or handed on)."""

    def record(
        self, batch: str, item: str, state: StoredState, line: dict[str, Any], *, digest: str | None = None
    ) -> None:
        """Queue one finished item (``line`` must not change afterwards); ignored once closed."""
        failure = self._failure
        if failure is not None and self._lost is None:
            self._failure = None
            raise failure
        with self._lock:
            if self._closed:
                return  # a sync worker finishing after the batch was interrupted
            if self._thread is None:
                self._thread = threading.Thread(target=self._write, name="reverie-batch-store", daemon=True)
                self._thread.start()
            self._queue.put((batch, item, state, line, time.time(), digest))

    def _write(self) -> None:
        while (row := self._queue.get()) is not None:
            batch, item, state, line, finished, digest = row
            failure = self.failure
            if failure is None:
                try:
                    self.store.record(batch, item, state, line, updated=finished, digest=digest)
                    continue
                except Exception as error:  # kept as the writer's failure: an item is never lost unseen
                    failure = error if isinstance(error, JournalError) else self._wrap(error)
                    self.failure = self._failure = failure
            if self._lost is not None:  # else handed to the batch by the next record or close
                self._lost(item, failure)

    def _wrap(self, error: Exception) -> JournalError:
        path = self.store.path
        wrapped = JournalError(f"cannot write to the batch store {path}: {error}", path=path)
        wrapped.__cause__ = error
        return wrapped

    def close(self) -> None:
        """Wait until every queued item is committed, then close the store (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(None)
            thread.join()
        self.store.close()
        failure, self._failure = self._failure, None
        if failure is not None and self._lost is None:
            raise failure

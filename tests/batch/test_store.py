"""The SQLite store of finished batch items: WAL, one row per item and batch, records survive reopening."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from reverie import JournalError
from reverie._batch.store import BatchStore, StoredItem, StoreWriter, journal_path
from tests.batch.old_store import write_store_before_digests


def test_records_are_kept_per_batch_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = BatchStore(path)
    store.record("one", '"a"', "answered", {"id": "a", "text": "A"})
    store.record("one", '"b"', "failed", {"id": "b", "error": "boom"})
    store.record("two", '"a"', "stopped", {"id": "a", "error": "budget"})
    store.record("one", '"b"', "answered", {"id": "b", "text": "B"})  # a retried item replaces its record
    store.close()
    reopened = BatchStore(path)
    assert reopened.load("one") == {
        '"a"': StoredItem("answered", {"id": "a", "text": "A"}),
        '"b"': StoredItem("answered", {"id": "b", "text": "B"}),
    }
    assert reopened.load("two") == {'"a"': StoredItem("stopped", {"id": "a", "error": "budget"})}
    reopened.forget("one")
    assert reopened.load("one") == {}
    reopened.close()
    reopened.close()  # idempotent


def test_the_database_is_in_wal_mode_and_leaves_other_tables_alone(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE other (x)")
        connection.execute("INSERT INTO other VALUES (1)")
    store = BatchStore(path)
    store.record("b", "1", "answered", {"id": 1})
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT x FROM other").fetchall() == [(1,)]
        # Committed at once: another connection sees the record while the store is open.
        assert connection.execute("SELECT count(*) FROM reverie_batch_items").fetchone() == (1,)
    store.close()


def test_a_closed_store_ignores_late_records(tmp_path: Path) -> None:
    store = BatchStore(tmp_path / "runs.db")
    store.close()
    store.record("b", "1", "answered", {"id": 1})  # a sync worker finishing after an interruption


def test_threads_record_at_once(tmp_path: Path) -> None:
    store = BatchStore(tmp_path / "runs.db")

    def record(start: int) -> None:
        for number in range(start, start + 50):
            store.record("b", str(number), "answered", {"id": number})

    threads = [threading.Thread(target=record, args=(start,)) for start in range(0, 200, 50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(store.load("b")) == 200
    store.close()


def test_a_journal_is_a_path_or_has_one(tmp_path: Path) -> None:
    @dataclass
    class Journal:
        path: Path

    assert journal_path(tmp_path / "a.db") == str(tmp_path / "a.db")
    assert journal_path("b.db") == "b.db"
    assert journal_path(Journal(tmp_path / "c.db")) == str(tmp_path / "c.db")


def test_a_writer_commits_each_item_off_the_callers_thread_and_close_waits_for_all(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    writer = StoreWriter(BatchStore(path))
    for number in range(100):
        writer.record("b", str(number), "answered", {"id": number})
    writer.close()  # every queued item committed before the store closes
    writer.close()  # idempotent
    writer.record("b", "late", "answered", {"id": "late"})  # ignored once closed
    reopened = BatchStore(path)
    assert reopened.load("b") == {
        str(number): StoredItem("answered", {"id": number}) for number in range(100)
    }
    reopened.close()


def test_a_writer_hands_a_failed_commit_to_the_batch(tmp_path: Path) -> None:
    store = BatchStore(tmp_path / "runs.db")
    writer = StoreWriter(store)
    store._connection.close()  # pyright: ignore[reportPrivateUsage] - every commit now fails
    writer.record("b", "1", "answered", {"id": 1})
    with pytest.raises(JournalError, match="closed") as raised:
        writer.close()
    assert isinstance(raised.value.__cause__, sqlite3.ProgrammingError)


def test_a_failed_writer_tells_of_every_item_it_did_not_keep(tmp_path: Path) -> None:
    store = BatchStore(tmp_path / "runs.db")
    lost: list[tuple[str, JournalError]] = []
    writer = StoreWriter(store, lost=lambda item, error: lost.append((item, error)))
    writer.record("b", "1", "answered", {"id": 1})
    writer.close()
    store = BatchStore(tmp_path / "runs.db")
    writer = StoreWriter(store, lost=lambda item, error: lost.append((item, error)))
    store._connection.close()  # pyright: ignore[reportPrivateUsage] - every commit now fails
    for number in (2, 3, 4):
        writer.record("b", str(number), "answered", {"id": number})
    writer.close()  # handed to ``lost``, not raised
    assert [item for item, _ in lost] == ["2", "3", "4"]
    assert writer.failure is lost[0][1] and all(error is writer.failure for _, error in lost)
    assert writer.failure.path == str(tmp_path / "runs.db")


def test_a_file_that_is_not_a_database_is_a_journal_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"not a database, " * 200)
    with pytest.raises(JournalError, match=r"corrupt\.db") as raised:
        BatchStore(path)
    assert raised.value.path == str(path)
    assert isinstance(raised.value.__cause__, sqlite3.DatabaseError)
    with pytest.raises(JournalError, match="missing"):
        BatchStore(tmp_path / "missing" / "runs.db")  # a folder that does not exist


def test_a_store_written_before_digests_is_read_and_gets_the_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    write_store_before_digests(path, [("b", "1", "answered", '{"id": 1}')])
    store = BatchStore(path)
    store.record("b", "2", "answered", {"id": 2}, digest="d2")
    assert store.load("b") == {
        "1": StoredItem("answered", {"id": 1}, None),
        "2": StoredItem("answered", {"id": 2}, "d2"),
    }
    store.close()

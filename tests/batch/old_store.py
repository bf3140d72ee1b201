"""A batch store as written before item digests were kept: its table, without the ``digest`` column."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def write_store_before_digests(path: Path, rows: list[tuple[str, str, str, str]]) -> None:
    """A store at ``path`` holding ``rows`` of ``(batch, item, state, line)``, in the old layout."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE reverie_batch_items (batch TEXT NOT NULL, item TEXT NOT NULL, state TEXT NOT NULL, "
            "line TEXT NOT NULL, updated REAL NOT NULL, PRIMARY KEY (batch, item)) WITHOUT ROWID"
        )
        connection.executemany("INSERT INTO reverie_batch_items VALUES (?, ?, ?, ?, 0)", rows)
    connection.close()

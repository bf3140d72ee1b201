"""Durable runs: the ``Journal`` protocol, its entries, and the SQLite journal (``reverie.SQLiteJournal``)."""

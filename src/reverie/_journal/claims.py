"""Which run ids each journal object is driving now, so one object never drives a run twice at once.

Two runs of one ``run_id`` on one journal object would share its idea of the next entry and
interleave their entries without a key clash (the clash that ``SQLiteJournal`` turns into a
``JournalConflictError`` only happens between two objects, or two processes). The driver
therefore claims the run id for the whole run (``driving``) and releases it when the run ends,
fails, or its stream is closed; a second claim of a run id the same object drives raises
``JournalConflictError``. Claims hold for any ``Journal``, kept here by object identity (an
entry lives only while a run holds its journal, so an id is never reused under it).

Nothing is written or read here: the claims live in this process's memory only.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from contextlib import contextmanager

from reverie._errors import JournalConflictError

_lock = threading.Lock()
_driven: dict[int, set[str]] = {}
"""The run ids each journal object (by ``id``) drives now; an object drives none: no entry."""


@contextmanager
def driving(journal: object, run_id: str) -> Generator[None]:
    """Claim ``run_id`` on ``journal`` while the block runs.

    Raises:
        JournalConflictError: this journal object drives ``run_id`` already (in another task
            or thread of this process).
    """
    key = id(journal)
    with _lock:
        claimed = _driven.setdefault(key, set())
        if run_id in claimed:
            raise JournalConflictError(
                f"run {run_id!r} is being driven already by this journal ({journal!r}): "
                "one run id is run or resumed once at a time; wait for the other run to end",
                run_id=run_id,
            )
        claimed.add(run_id)
    try:
        yield
    finally:
        with _lock:
            claimed.discard(run_id)
            if not claimed:
                del _driven[key]

"""``run_batch_async``: run many prompts through one agent, a bounded number at a time.

This is the async source; ``reverie/_sync/batch.py`` (``run_batch``, worker threads) is
generated from it. A fixed pool of ``concurrency`` workers draws items from one queue
(``reverie._batch.work``), so the number of tasks does not grow with the batch. Each item is
one ``generate`` call of the agent: its ``RetryPolicy`` retries what can be retried, the
provider's ``RateLimiter`` paces the requests, and what still fails is recorded for that item
and never ends the batch.

Cancelling the task that awaits ``run_batch_async`` cancels the requests under way at once
(those items are not recorded); ``reverie batch`` stops gracefully instead (``BatchWork.stop``).

Does not: parse input files or write output files (``reverie._cli.batch``), nor keep state
itself: what is done, what failed, and what the budget allows is ``BatchWork``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from reverie import _concurrency
from reverie._batch.items import BatchItem, read_items
from reverie._batch.results import BatchResult
from reverie._batch.store import JournalLike
from reverie._batch.work import BatchAgent, BatchWork
from reverie._run.spending import Budget

if TYPE_CHECKING:
    from reverie._journal.protocol import Journal


async def run_batch_async(
    agent: BatchAgent,
    items: Iterable[BatchItem | Mapping[str, Any]],
    *,
    concurrency: int = 8,
    journal: JournalLike | Journal | None = None,
    budget: Budget | None = None,
    progress: bool = True,
    retry_failed: bool = False,
    batch_key: str | None = None,
) -> list[BatchResult]:
    """Run every item through ``agent``, ``concurrency`` at a time; one result per item, in input order.

    A failed item (its error after the agent's retries) is recorded as a ``BatchResult`` with
    ``status="failed"`` and the error's message; the batch goes on.

    Args:
        agent: The agent that answers each item (``reverie.Agent``).
        items: ``reverie.BatchItem`` objects, or dicts as in a batch input line:
            ``{"id": ..., "prompt": "..."}``, optionally ``"system"`` and ``"messages"``.
            All are checked before anything is sent.
        concurrency: How many items run at once.
        journal: A SQLite file (a path, or an object with a ``.path``) that keeps each
            finished item, so that the same batch run again resumes: items answered, or
            failed for good, are not sent again. A ``reverie.Journal`` (``SQLiteJournal``)
            also makes each item's run durable, ``run_id=f"batch:{batch_key}:{id as JSON}"``:
            an item interrupted between two steps resumes from its last recorded step.
        budget: What the whole batch may spend, shared by every item's run. Once it is spent,
            the items not yet sent are recorded as failed with the budget's message (and are
            sent again when the batch resumes).
        progress: Show progress on standard error (a rich bar on a terminal, else a plain line
            every few seconds).
        retry_failed: With ``journal``, send items that failed for good in an earlier run again.
        batch_key: Names the batch in the journal (default: derived from the item ids, so the
            same items resume the same batch).

    Raises:
        BatchInputError: An item is not valid (no id, a duplicate id, no prompt or messages);
            nothing was sent.
        UserError: ``concurrency`` or ``budget`` is not valid.
    """
    checked = read_items(items)
    with BatchWork(
        agent,
        checked,
        concurrency=concurrency,
        journal=journal,
        batch_key=batch_key,
        budget=budget,
        retry_failed=retry_failed,
        progress=progress,
    ) as work:
        await run_work(work)
    return work.finished()


async def run_work(work: BatchWork) -> None:
    """Run the items ``work`` has queued with its pool of workers, until none is left."""
    if work.concurrency and work.pending:
        await _concurrency.run_workers_async(functools.partial(_work, work), work.concurrency, stop=work.stop)


async def _work(work: BatchWork) -> None:
    """One worker: take items until none is left, recording each outcome."""
    while (taken := work.take()) is not None:
        index, item = taken
        refusal = work.refusal()
        if refusal is not None:
            work.failed(index, refusal)
            continue
        prompt, history = item.conversation()
        try:
            result = await work.agent.generate_async(prompt, messages=history, **work.run_settings(index))
        except Exception as error:  # recorded for this item; the batch goes on
            work.failed(index, error)
        else:
            work.answered(index, result)

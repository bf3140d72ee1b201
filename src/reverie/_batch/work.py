"""``BatchWork``: what the workers of one batch share: the items left, the results, the budget, the store.

The workers (tasks in ``run_batch_async``, threads in ``run_batch``) each take the next item
(``take``), run it, and report its outcome (``answered`` / ``failed``); this object records it
in the store (one transaction per item) and the progress display, under a lock held only for
the bookkeeping. A fixed number of workers draw from one queue, so a batch of 100,000 items
makes ``concurrency`` workers, not 100,000 tasks.

Resume: items the store holds as answered, or failed for good, are not queued (failed ones
are with ``retry_failed``); their results are read back from their stored lines. Items stopped
by the budget are queued again. An item whose content (prompt, system prompt, messages) differs
from the one recorded under its id is not sent and not taken from the store: it fails, naming
its id (its old record stays).

Outcomes that are not answers: a run paused for approval is recorded as failed (its calls
named); a run that raised ``JournalError`` (its durable run's journal failed) is "stopped", sent
again on resume. A store commit that fails (``JournalError``) is reported on every item the
store did not keep (they fail, and are sent again on resume: nothing of them is recorded), and
no item is sent after it.

Stop: ``stop()`` makes ``take`` hand out no more items; the items under way finish and are
recorded as usual (``under_way`` counts them). ``reverie batch`` calls it at the first Ctrl-C.

Durable item runs: given a ``reverie.Journal`` (not a bare path), each item's agent run is a
durable run in it, ``run_id=f"batch:{key}:{item key}"``, so an item interrupted between two steps
resumes from its last recorded step. A journal with a ``.path`` also holds the store's table.

Budget: once a run of the batch raises ``BudgetExceededError``, or the shared ``Budget`` leaves
no room for another request, every item not yet sent is recorded as failed with the budget's
message, and is not sent. A budget in US dollars cannot be enforced for a model without a known
price: the first item answered without a cost while one is set logs a warning (the ``reverie``
logger; ``reverie batch`` prints it on standard error).

Does not: send requests (the runners) or parse input (``items``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import deque
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, cast

from reverie._batch import results as outcomes
from reverie._batch.items import BatchItem, content_digest, item_key
from reverie._batch.progress import Reporter, Silent, open_reporter
from reverie._batch.results import BatchResult
from reverie._batch.store import BatchStore, JournalLike, StoredItem, StoredState, StoreWriter, journal_path
from reverie._errors import BudgetExceededError, JournalError, UserError

if TYPE_CHECKING:
    from reverie._content import Message
    from reverie._journal.protocol import Journal
    from reverie._results import AgentResult
    from reverie._run.spending import Budget


class BatchAgent(Protocol):
    """What a batch needs of an agent (``reverie.Agent`` has it)."""

    @property
    def output(self) -> object:
        """The agent's output specification; ``None`` when it has no output type."""
        ...

    def generate(
        self,
        prompt: str | Sequence[Message] | None = None,
        *,
        messages: Sequence[Message] | None = None,
        budget: Budget | None = None,
        journal: Journal | None = None,
        run_id: str | None = None,
    ) -> AgentResult[Any]:
        """Run one item."""
        ...

    async def generate_async(
        self,
        prompt: str | Sequence[Message] | None = None,
        *,
        messages: Sequence[Message] | None = None,
        budget: Budget | None = None,
        journal: Journal | None = None,
        run_id: str | None = None,
    ) -> AgentResult[Any]:
        """Run one item (async)."""
        ...


def default_batch_key(items: Sequence[BatchItem]) -> str:
    """A key for a batch given no key: a digest of its item ids, in order (same ids, same batch)."""
    return _digest([item_key(item.id) for item in items])


def _digest(keys: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for key in keys:
        digest.update(key.encode())
        digest.update(b"\n")
    return f"ids:{digest.hexdigest()[:32]}"


class BatchWork:
    """The shared state of one batch run; a context manager that closes its store and progress.

    Args:
        agent: Runs each item.
        items: The checked items, in input order.
        concurrency: How many items run at once.
        journal: Where finished items are kept for resume (``None``: nowhere): a SQLite file, or
            a ``reverie.Journal``, which also records each item's run (see the module docstring).
        batch_key: Names this batch in the journal (``None``: derived from the item ids).
        budget: Shared by every item's run.
        retry_failed: Send items that failed for good in an earlier run again.
        progress: Show progress on standard error.
    """

    def __init__(
        self,
        agent: BatchAgent,
        items: Sequence[BatchItem],
        *,
        concurrency: int = 8,
        journal: JournalLike | Journal | None = None,
        batch_key: str | None = None,
        budget: Budget | None = None,
        retry_failed: bool = False,
        progress: bool = True,
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise UserError(f"concurrency must be a positive integer; got {concurrency!r}")
        if budget is not None:
            from reverie._run.spending import Budget

            if not isinstance(budget, Budget):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
                raise UserError(f"budget must be a reverie.Budget; got {type(budget).__name__}")
        self.agent = agent
        self.items = items
        self.budget = budget
        self.typed = agent.output is not None
        self._keys = [item_key(item.id) for item in items]
        self.key = batch_key if batch_key is not None else _digest(self._keys)
        self.results: list[BatchResult | None] = [None] * len(items)
        self._lines: list[dict[str, Any] | None] = [None] * len(items)
        self._lock = threading.Lock()
        self._stopped = False
        self._under_way = 0
        self._closed = False
        self._budget_message: str | None = None
        self._done = self._failed = self._tokens = 0
        self._cost = 0.0
        self._price_warned = False
        self._indices: dict[str, int] | None = None
        """Each item's index by its key, made when a store commit first fails."""
        self.store_error: JournalError | None = None
        """Why the store could not keep an item, once it could not (no item is sent after it)."""
        self.run_journal = _run_journal(journal)
        """Where each item's run is recorded (``None``: items run without a journal)."""
        path = _store_path(journal)
        self._store = BatchStore(path) if path is not None else None
        try:
            queue = self._resume(retry_failed)
        except BaseException:
            if self._store is not None:
                self._store.close()
            raise
        self._writer = StoreWriter(self._store, lost=self._lost) if self._store is not None else None
        """Commits each finished item off the event loop (and off the sync workers' threads)."""
        self._queue: deque[int] = deque(queue)
        self.concurrency = max(1, min(concurrency, len(queue)))
        """Workers to start: no more than there are items to send."""
        self._reporter: Reporter = Silent()
        if progress:
            self._reporter = open_reporter(True, total=len(items), resumed=self._done)
            self._reporter.update(done=self._done, failed=self._failed, tokens=self._tokens, cost=self._cost)

    def _resume(self, retry_failed: bool) -> list[int]:
        """The indices of the items to send; the others' results are read from the store."""
        stored = self._store.load(self.key) if self._store is not None else {}
        queue: list[int] = []
        for index, key in enumerate(self._keys):
            found = stored.get(key)
            if found is not None and self._changed(index, found):
                item_id = self.items[index].id
                message = (
                    f"item {item_id!r} changed since it was recorded in batch {self.key!r}: use another "
                    "batch key (--batch-key) or a new journal"
                )
                result, line = outcomes.failed(item_id, message)
                self._count(result, line, index)  # not recorded: the store keeps what was sent
                continue
            if found is None or found.state == "stopped" or (found.state == "failed" and retry_failed):
                queue.append(index)
                continue
            status = "answered" if found.state == "answered" else "failed"
            self._count(outcomes.from_line(found.line, status), found.line, index)
        return queue

    def _changed(self, index: int, found: StoredItem) -> bool:
        """Whether item ``index`` is not what was recorded for its id (a record without a digest matches)."""
        return found.digest is not None and found.digest != content_digest(self.items[index])

    @property
    def pending(self) -> int:
        """How many items are queued and not yet taken."""
        return len(self._queue)

    @property
    def under_way(self) -> int:
        """How many items were taken and are not finished yet."""
        return self._under_way

    def take(self) -> tuple[int, BatchItem] | None:
        """The next item to run and its index, or ``None`` when none is left (or the batch stopped)."""
        with self._lock:
            if self._stopped or not self._queue:
                return None
            index = self._queue.popleft()
            self._under_way += 1
        return index, self.items[index]

    def run_settings(self, index: int) -> dict[str, Any]:
        """The run settings of item ``index``'s ``generate`` call: the budget, and its durable run."""
        if self.run_journal is None:
            return {"budget": self.budget}
        run_id = f"batch:{self.key}:{self._keys[index]}"
        return {"budget": self.budget, "journal": self.run_journal, "run_id": run_id}

    def refusal(self) -> str | None:
        """Why the next item must not be sent (the budget is spent, the store failed); ``None``: send it."""
        if self.store_error is not None:
            return f"not sent: {self.store_error}"
        if self._budget_message is not None or self.budget is None:
            return self._budget_message
        from reverie._run.budget import no_room

        overrun = no_room(self.budget, self.budget.spent)
        if overrun is None:
            return None
        limit, maximum, spent = overrun
        self._budget_message = f"budget exceeded: {limit} is {maximum:g}; {spent:g} spent; not sent"
        return self._budget_message

    def answered(self, index: int, result: AgentResult[Any]) -> None:
        """Record an answered item (a run paused for approval is recorded as failed)."""
        item_id = self.items[index].id
        if result.status == "paused":
            calls = ", ".join(f"{call.tool_call_id} ({call.tool_name})" for call in result.pending_approvals)
            batch_result, line = outcomes.failed(item_id, f"paused for approval: {calls}")
            self._finish(index, batch_result, line, "failed")
            return
        batch_result, line = outcomes.answered(item_id, result, typed=self.typed)
        if batch_result.cost is None and not self._price_warned:
            self._warn_unpriced(result)
        self._finish(index, batch_result, line, "answered")

    def _warn_unpriced(self, result: AgentResult[Any]) -> None:
        """Warn, once, that a budget in US dollars is not enforced: ``result`` has no cost."""
        if self.budget is None or self.budget.max_cost is None:
            return
        with self._lock:
            if self._price_warned:
                return
            self._price_warned = True
        step = next((step for step in result.steps if step.cost is None), None)
        model = f"{step.provider}:{step.model_id}" if step is not None else "its model"
        from reverie._log import logger

        logger.warning("the budget in USD cannot be enforced: no price is known for %s", model)

    def failed(self, index: int, error: BaseException | str) -> None:
        """Record a failed item: failed for good, or stopped by the budget (sent again on resume).

        A run whose final answer went past the budget was answered: it is recorded so (it was
        paid for, and must not be sent again); the budget stops the items after it.
        """
        if isinstance(error, BudgetExceededError) and not self.typed and _is_final(error.result):
            if self._budget_message is None:
                self._budget_message = f"{error}; not sent"
            self.answered(index, error.result)
            return
        state: StoredState = "failed"
        if isinstance(error, str | BudgetExceededError | JournalError):
            state = "stopped"  # a reason of the batch, not of the item: sent again on resume
            if isinstance(error, BudgetExceededError) and self._budget_message is None:
                self._budget_message = f"{error}; not sent"
        batch_result, line = outcomes.failed(self.items[index].id, error)
        self._finish(index, batch_result, line, state)

    def _finish(self, index: int, result: BatchResult, line: dict[str, Any], state: StoredState) -> None:
        with self._lock:
            self._under_way -= 1
            self._count(result, line, index)
            done, failed, tokens, cost = self._done, self._failed, self._tokens, self._cost
            closed = self._closed
        # Recorded even after an interruption (a sync worker whose request was under way): it
        # was sent, so it must not be sent again. A closed store ignores it. Queued after it
        # was counted, so that a failed commit (``_lost``) replaces its result, never the reverse.
        if self._writer is not None:
            digest = content_digest(self.items[index])
            self._writer.record(self.key, self._keys[index], state, line, digest=digest)
        if not closed:
            self._reporter.update(done=done, failed=failed, tokens=tokens, cost=cost)

    def _count(self, result: BatchResult, line: dict[str, Any], index: int) -> None:
        self.results[index] = result
        self._lines[index] = line
        self._done += 1
        if result.status == "failed":
            self._failed += 1
        if result.usage is not None:
            self._tokens += result.usage.total_tokens
        if result.cost is not None:
            self._cost += result.cost

    def _lost(self, key: str, error: JournalError) -> None:
        """The store did not keep item ``key``: it fails with ``error`` (and is sent again on resume)."""
        with self._lock:
            if self.store_error is None:
                self.store_error = error
            if self._indices is None:
                self._indices = {item: index for index, item in enumerate(self._keys)}
            index = self._indices[key]
            earlier = self.results[index]
            message = f"not recorded (sent again on resume): {error}"
            result, line = outcomes.failed(self.items[index].id, message)
            self.results[index] = result
            self._lines[index] = line
            if earlier is None or earlier.status != "failed":
                self._failed += 1

    def stop(self) -> None:
        """Take no more items (an interruption, or a worker's own failure)."""
        with self._lock:
            self._stopped = True

    def finished(self) -> list[BatchResult]:
        """The results of every finished item, in input order."""
        return [result for result in self.results if result is not None]

    def lines(self) -> list[str]:
        """The output lines of every finished item, in input order (JSON, without newlines)."""
        return [json.dumps(line, ensure_ascii=False) for line in self._lines if line is not None]

    @property
    def failures(self) -> int:
        """How many items failed (in this run or, resumed, before)."""
        return self._failed

    def close(self) -> None:
        """Close the store and the progress display (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._reporter.close()
        if self._writer is not None:
            self._writer.close()  # every finished item committed
        elif self._store is not None:
            self._store.close()

    def __enter__(self) -> BatchWork:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if error is not None:
            self.stop()
        self.close()


def _run_journal(journal: object) -> Journal | None:
    """``journal`` when it is a ``reverie.Journal`` (a path is not: it keeps items only)."""
    if journal is None or isinstance(journal, str | os.PathLike):
        return None
    from reverie._journal.protocol import Journal

    return journal if isinstance(journal, Journal) else None


def _store_path(journal: object) -> str | None:
    """The SQLite file the item store uses: ``journal`` itself or its ``.path`` (``None``: no store)."""
    if journal is None:
        return None
    if not isinstance(journal, str | os.PathLike) and getattr(journal, "path", None) is None:
        return None  # a Journal without a file: its runs replay, but items are not kept
    return journal_path(cast(JournalLike, journal))


def _is_final(result: AgentResult[Any]) -> bool:
    """Whether ``result`` ended with the model's answer (not in the middle of tool calls)."""
    if not result.steps or result.status != "completed":
        return False
    last = result.steps[-1]
    return last.finish_reason == "stop" and not last.tool_calls

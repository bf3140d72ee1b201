"""``reverie batch``: run every prompt of a JSON-lines file through one model; write the answers.

    reverie batch prompts.jsonl -m openai:gpt-4o-mini --out answers.jsonl
    reverie batch prompts.jsonl -m openai:gpt-4o-mini --out answers.jsonl --journal runs.db --budget-usd 5

An input line is ``{"id": ..., "prompt": "..."}`` (optional ``"system"``, ``"messages"``); an
output line is ``{"id", "text", "output" (with --schema), "usage", "cost"}`` or ``{"id",
"error"}``, in input order. Every line is checked before the first request: a bad one is a
usage error naming its line number. With ``--journal`` each finished item is kept in a SQLite
file (a ``SQLiteJournal``: each item's run is durable too, so an item with tool steps resumes
from its last recorded step) and the same command run again resumes (the batch is named by the
input file's path, or ``--batch-key``); the output file is rewritten complete each time.

Ctrl-C (SIGINT) or SIGTERM stops gracefully: no item starts, the items under way finish and are
recorded, then the output is written and the exit code is 130; a second signal cancels the
requests under way at once (those items are sent again on resume).

Exit codes: 0 every item answered, 1 some failed (all lines are still written), 2 a usage
error or a journal that cannot be opened or read (one line, no traceback), 130 Ctrl-C (the
finished items are written, and kept in the journal). A journal that cannot be written during
the batch fails the items it did not keep (sent again on resume), sends no more, and says so.

Does not: decide how items run (``reverie._async.batch``, ``reverie._batch``).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from reverie._cli.common import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, Connection, UsageError, build_model
from reverie._cli.schema import load_schema

if TYPE_CHECKING:
    from reverie._batch.work import BatchWork


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """The arguments of ``reverie batch``."""

    input: str
    model: str
    out: str
    concurrency: int = 8
    journal: str | None = None
    budget_usd: float | None = None
    schema: str | None = None
    system: str | None = None
    retry_failed: bool = False
    batch_key: str | None = None
    connection: Connection = field(default_factory=Connection)


def batch(options: BatchOptions, *, stderr: TextIO) -> int:
    """Run the batch and write its output file; returns the exit code (errors are raised)."""
    from reverie._agent import Agent
    from reverie._batch.items import read_input_file
    from reverie._batch.work import BatchWork
    from reverie._errors import JournalError
    from reverie._journal.sqlite import SQLiteJournal
    from reverie._run.spending import Budget

    items = read_input_file(options.input)  # every line checked before anything is sent
    if not items:
        raise UsageError(f"{options.input} holds no items")
    schema = load_schema(options.schema) if options.schema else None
    model = build_model(options.model, options.connection)
    agent: Agent[Any] = Agent(
        model, system_prompt=options.system, output_type=schema, timeout=options.connection.timeout
    )
    budget = Budget(max_cost=options.budget_usd) if options.budget_usd is not None else None
    key = options.batch_key or f"file:{os.path.realpath(options.input)}"
    journal = SQLiteJournal(options.journal) if options.journal else None
    try:
        try:
            work = BatchWork(
                agent,
                items,
                concurrency=options.concurrency,
                journal=journal,
                batch_key=key,
                budget=budget,
                retry_failed=options.retry_failed,
                progress=True,
            )
        except JournalError as error:  # not a journal, unreadable: a mistake in the command
            raise UsageError(str(error)) from None
        try:
            ending = _run(work, stderr)
        except KeyboardInterrupt:
            _interrupted(work, options, stderr)
            raise
        finally:
            work.close()
    finally:
        if journal is not None:
            journal.close()
    if ending == "stopped":
        _interrupted(work, options, stderr)
        return EXIT_INTERRUPTED
    _write_lines(options.out, work.lines())
    if work.store_error is not None:
        stderr.write(
            f"reverie batch: {work.store_error}; the items it did not keep are sent again on resume\n"
        )
    failures = work.failures
    stderr.write(
        f"reverie batch: {len(items):,} items: {len(items) - failures:,} answered, {failures:,} failed; "
        f"wrote {options.out}\n"
    )
    stderr.flush()
    return EXIT_FAILURE if failures else EXIT_OK


def _interrupted(work: BatchWork, options: BatchOptions, stderr: TextIO) -> None:
    """Write what is done and say how far the batch got."""
    work.stop()
    work.close()
    _write_lines(options.out, work.lines())
    kept = f"; kept in {options.journal}: run the same command again to resume" if options.journal else ""
    stderr.write(
        f"reverie batch: interrupted: {len(work.finished()):,} of {len(work.items):,} items done{kept}\n"
    )
    stderr.flush()


Ending = Literal["done", "stopped"]
"""How the batch ended: every item ran, or a signal stopped it (the items under way finished)."""


def _run(work: BatchWork, stderr: TextIO) -> Ending:
    """Run the batch; a first SIGINT or SIGTERM stops it gracefully, a second raises ``KeyboardInterrupt``."""
    from reverie._concurrency import run_coroutine

    # The async runner: a second Ctrl-C cancels the requests under way at once (a thread cannot be).
    ending = run_coroutine(_run_async(work, stderr), what="reverie batch")
    if ending == "cancelled":
        raise KeyboardInterrupt
    return ending


async def _run_async(work: BatchWork, stderr: TextIO) -> Ending | Literal["cancelled"]:
    import asyncio
    import signal

    from reverie._async.batch import run_work

    loop = asyncio.get_running_loop()
    task = loop.create_task(run_work(work))
    received: list[int] = []

    def on_signal() -> None:
        received.append(1)
        if len(received) > 1:
            task.cancel()  # the second signal: stop now
            return
        work.stop()  # no item starts; the ones under way finish and are recorded
        try:
            stderr.write(
                f"reverie batch: stopping: waiting for {work.under_way:,} items under way; "
                "Ctrl-C again to stop now\n"
            )
            stderr.flush()
        except (OSError, ValueError):  # standard error went away: stop all the same
            pass

    installed: list[signal.Signals] = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):  # no loop signals here (Windows, a thread)
            continue
        installed.append(number)
    try:
        await task
    except asyncio.CancelledError:
        if len(received) > 1 and task.cancelled():
            return "cancelled"
        raise
    finally:
        for number in installed:
            loop.remove_signal_handler(number)
    return "stopped" if received else "done"


def _write_lines(path: str, lines: list[str]) -> None:
    """Write ``lines`` to ``path`` whole: into a file beside it, then renamed over it."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            for line in lines:
                file.write(line)
                file.write("\n")
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

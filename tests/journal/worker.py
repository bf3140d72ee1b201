"""A durable run in its own process, for the crash tests (``run``, or ``python -m tests.journal.worker ...``).

Arguments: the model's base URL, the journal file, the run id, the directory the tools log
to, and optionally ``CALL_ID OUTPUT`` to resume an interrupted call with that result. The run
asks the model five times for a tool call (``lookup``, idempotent, and ``charge``, not), then
for the final text. The worker prints ``ready`` once imported, then the result as a JSON
document (exit 0), or the interrupted call's id and tool name (exit 3).

Each tool appends a line per run of a call to its log, and the word ``AGAIN`` when the
journal already held the call's result (what a replay must never do). While a file
``RUN_ID.hold`` exists in that directory, ``charge`` waits after logging (up to 10 s): the
test kills the process there to interrupt a call for certain.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import reverie
from reverie import Agent, tool
from reverie.providers import openai

INTERRUPTED = 3
"""The exit code of a run stopped by ``InterruptedToolError``."""


def _log(directory: Path, run_id: str, tool: str, step: int, journal: Path) -> None:
    with sqlite3.connect(journal) as connection:  # a reader of its own, beside the run's journal
        rows = connection.execute(
            "SELECT data FROM reverie_journal WHERE run_id = ? AND kind = 'tool_result'", (run_id,)
        ).fetchall()
    again = any(f'"step": {step},' in row[0] or f'"step":{step},' in row[0] for row in rows)
    with open(directory / f"{run_id}.{tool}.log", "a") as log:
        log.write(f"{step}{' AGAIN' if again else ''}\n")
        log.flush()


def main(argv: list[str], out: TextIO = sys.stdout, ready: Any = None) -> int:
    url, journal_path, run_id, directory = argv[1], Path(argv[2]), argv[3], Path(argv[4])
    logs = directory

    @tool(idempotent=True)
    def lookup(step: int) -> str:
        """Look a value up."""
        _log(logs, run_id, "lookup", step, journal_path)
        time.sleep(0.02)
        return f"value {step * 7}"

    @tool
    def charge(step: int) -> str:
        """Charge a card."""
        _log(logs, run_id, "charge", step, journal_path)
        hold = logs / f"{run_id}.hold"
        deadline = time.monotonic() + 10
        while hold.exists() and time.monotonic() < deadline:  # the test kills the process here
            time.sleep(0.01)
        time.sleep(0.04)
        return f"charged {step * 100}"

    model = openai.Provider(api_key="sk-test", base_url=url).language_model("stub-model")
    agent = Agent(model, tools=[lookup, charge], system_prompt="Do the five steps.")
    journal = reverie.SQLiteJournal(journal_path)
    print("ready", file=out, flush=True)
    if ready is not None:
        ready.set()
    settings = {"journal": journal, "headers": {"x-run-id": run_id}}
    try:
        if len(argv) > 5:
            result = agent.resume(run_id, tool_results={argv[5]: argv[6]}, **settings)  # type: ignore[arg-type]
        else:
            result = agent.generate("Go.", run_id=run_id, **settings)  # type: ignore[arg-type]
    except reverie.InterruptedToolError as error:
        print(f"interrupted {error.tool_call_id} {error.tool_name} {error.run_id}", file=out, flush=True)
        return INTERRUPTED
    print(reverie.to_json(result), file=out, flush=True)
    return 0


def run(argv: list[str], output: str, ready: Any) -> None:
    """``main`` in a process forked from a server that imported reverie already (the test's way:
    a fresh interpreter per run would spend most of the test importing); output to a file."""
    with open(output, "w") as out:
        code = main(argv, out, ready)
    sys.exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

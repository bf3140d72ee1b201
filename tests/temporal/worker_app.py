"""The agent of the Temporal tests, and a worker process that serves it.

    python -m tests.temporal.worker_app ADDRESS TASK_QUEUE MODEL_URL RECORD_DIR SLOW_SECONDS

The agent's model is ``model_server.ModelServer`` at ``MODEL_URL``; its tools ``lookup`` and
``slow_lookup`` (which takes ``SLOW_SECONDS``) write a line per call to ``RECORD_DIR/<pid>.log``
before they answer, so a test can tell which worker process ran which call and when a call
is in progress; its model requests name the process in an ``x-worker-pid`` header. The worker
heartbeats with a 2 s timeout, so an activity of a killed worker moves to another worker
quickly; an attempt may take 10 minutes, so an activity that moves within seconds moved for a
missed heartbeat. It runs until it is killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from reverie import Agent, tool
from reverie.providers import openaicompat

AGENT_NAME = "lookup"
HEARTBEAT_TIMEOUT = timedelta(seconds=2)
ACTIVITY_TIMEOUT = timedelta(minutes=10)
WORKER_OPTIONS: dict[str, Any] = {
    # A killed worker's cached workflows wait this long on its own queue before another worker
    # takes them (Temporal's default is 10 s).
    "sticky_queue_schedule_to_start_timeout": timedelta(seconds=1),
}


def build_agent(model_url: str, record_dir: Path, slow_seconds: float) -> Agent:
    """The tests' agent: three tool steps then an answer that quotes the tool results."""

    def record(name: str, item: str) -> None:
        with (record_dir / f"{os.getpid()}.log").open("a") as log:
            log.write(f"{name} {item}\n")

    @tool
    async def lookup(item: str) -> str:
        """Look an item up."""
        record("lookup", item)
        return f"found {item}"

    @tool
    async def slow_lookup(item: str) -> str:
        """Look an item up, slowly."""
        record("slow_lookup", item)
        await asyncio.sleep(slow_seconds)
        return f"slowly found {item}"

    provider = openaicompat.Provider(
        base_url=model_url, api_key="test-key", headers={"x-worker-pid": str(os.getpid())}
    )
    model = provider.language_model("stub-model")
    return Agent(model, tools=[lookup, slow_lookup], system_prompt="You look things up.")


def calls(record_dir: Path) -> dict[int, list[str]]:
    """The tool calls each worker process recorded, by process id."""
    return {
        int(path.stem): path.read_text().splitlines()
        for path in record_dir.glob("*.log")
        if path.stem.isdigit()
    }


def lookup_worker(client: Any, task_queue: str, agent: Agent) -> Any:
    """A worker serving ``agent`` as ``AGENT_NAME`` with the tests' timeouts and options."""
    import reverie.temporal

    return reverie.temporal.worker(
        client,
        task_queue,
        {AGENT_NAME: agent},
        activity_timeout=ACTIVITY_TIMEOUT,
        heartbeat_timeout=HEARTBEAT_TIMEOUT,
        **WORKER_OPTIONS,
    )


async def _serve(
    address: str, task_queue: str, model_url: str, record_dir: Path, slow_seconds: float
) -> None:
    from temporalio.client import Client

    client = await Client.connect(address)
    agent = build_agent(model_url, record_dir, slow_seconds)
    worker = lookup_worker(client, task_queue, agent)
    (record_dir / f"{os.getpid()}.ready").touch()  # the test starts its runs once workers poll
    await worker.run()


if __name__ == "__main__":
    address, task_queue, model_url, record_dir, slow_seconds = sys.argv[1:6]
    asyncio.run(_serve(address, task_queue, model_url, Path(record_dir), float(slow_seconds)))

"""2,000 items against a loopback server that injects 429s and 5xx: all recorded, in order, resumable.

The server (``tests.batch.server``) throttles about one prompt in five and fails about one in
seven once (both retried by the agent's ``RetryPolicy``, whose waits are instant in tests), and
always fails the prompts that say ``always-fail``. The interrupted run is cancelled once the
server has answered 1,000 items and the journal holds them all; the resumed run must not send
an answered item, or one that failed for good, again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from reverie import Agent, BatchResult, RateLimiter, RetryPolicy, run_batch_async
from reverie.providers import openaicompat
from tests.batch.server import BatchServer

pytestmark = pytest.mark.anyio

ITEMS = 2_000
CONCURRENCY = 16


def prompt(number: int) -> str:
    return f"item {number}" + (" always-fail" if number % 97 == 13 else "")


def items() -> list[dict[str, Any]]:
    return [{"id": f"id-{number}", "prompt": prompt(number)} for number in range(ITEMS)]


@pytest.fixture
def server() -> Iterator[BatchServer]:
    with BatchServer(max_lifetime=90) as running:
        yield running


def agent_for(server: BatchServer) -> Agent[Any]:
    provider = openaicompat.Provider(
        base_url=server.url, api_key="k", rate_limiter=RateLimiter(requests_per_minute=600_000)
    )
    return Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=2, initial_delay=0.001))


def check_complete(results: list[BatchResult], server: BatchServer) -> None:
    assert [result.id for result in results] == [f"id-{number}" for number in range(ITEMS)]
    for number, result in enumerate(results):
        if "always-fail" in prompt(number):
            assert result.status == "failed", result
            assert result.error is not None and "500" in result.error
            assert result.text is None
        else:
            assert result.status == "answered", result
            assert result.text == f"answer to {prompt(number)}"
            assert result.usage is not None and result.usage.total_tokens == 15
            assert server.answers[prompt(number)] == 1  # never answered twice


def journal_rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT state, count(*) FROM reverie_batch_items GROUP BY state").fetchall()
    return dict(rows)


async def test_every_item_is_answered_or_failed_in_input_order(server: BatchServer, tmp_path: Path) -> None:
    with anyio.fail_after(60):
        results = await run_batch_async(
            agent_for(server), items(), concurrency=CONCURRENCY, journal=tmp_path / "runs.db", progress=False
        )
    check_complete(results, server)
    failing = [prompt(number) for number in range(ITEMS) if "always-fail" in prompt(number)]
    assert failing and all(server.requests[text] == 3 for text in failing)  # the first try and 2 retries
    assert sum(1 for result in results if result.status == "failed") == len(failing)
    assert journal_rows(tmp_path / "runs.db") == {"answered": ITEMS - len(failing), "failed": len(failing)}
    assert all(result.result is not None for result in results if result.status == "answered")


async def test_an_interrupted_batch_resumes_without_sending_anything_twice(
    server: BatchServer, tmp_path: Path
) -> None:
    journal = tmp_path / "runs.db"
    agent = agent_for(server)
    server.pause_after(ITEMS // 2)
    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            group.start_soon(
                lambda: run_batch_async(
                    agent, items(), concurrency=CONCURRENCY, journal=journal, progress=False
                )
            )
            # Interrupt once the server answered half the items and every answer is recorded.
            while not (
                server.answered == ITEMS // 2
                and journal.exists()
                and journal_rows(journal).get("answered") == ITEMS // 2
            ):
                await anyio.sleep(0.01)
            group.cancel_scope.cancel()
    server.release()
    first = journal_rows(journal)
    assert first["answered"] == ITEMS // 2
    failed_before = {text: server.requests[text] for text in server.requests if "always-fail" in text}
    with sqlite3.connect(journal) as connection:
        recorded_failures = [
            line
            for (line,) in connection.execute("SELECT line FROM reverie_batch_items WHERE state = 'failed'")
        ]
    assert recorded_failures  # some items had failed for good before the interruption
    started = time.monotonic()
    with anyio.fail_after(60):
        results = await run_batch_async(
            agent, items(), concurrency=CONCURRENCY, journal=journal, progress=False
        )
    assert time.monotonic() - started < 60
    check_complete(results, server)
    # Items that failed for good before the interruption were not sent again.
    for line in recorded_failures:
        number = int(line.split('"id-')[1].split('"')[0])
        assert server.requests[prompt(number)] == failed_before[prompt(number)]
    assert journal_rows(journal)["answered"] == ITEMS - sum(
        1 for n in range(ITEMS) if "always-fail" in prompt(n)
    )
    # Answered items of the first run come back from the journal, without their AgentResult.
    resumed = [result for result in results if result.status == "answered" and result.result is None]
    assert len(resumed) == ITEMS // 2

"""The batch runner's overhead per item, against a bare asyncio loop over the same transport.

    python benchmarks/batch.py [--items N] [--concurrency N] [--repeat N]

Both sides send the same ``N`` items through one agent whose provider answers from an
in-process ``httpx2.MockTransport`` (no network, no server thread), ``concurrency`` at a time:

- bare: ``asyncio.gather`` over a semaphore, each item one ``agent.generate_async`` call;
- batch: ``reverie.run_batch_async`` (a pool of workers over a queue, per-item bookkeeping,
  progress off), without and with a SQLite journal (a temporary file; one commit per item).

Prints one line per side, in µs per item (best of ``--repeat`` runs), and the batch runner's
overhead over the bare loop: the difference per item and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx2

from reverie import Agent, run_batch_async
from reverie.providers import openaicompat

BODY = json.dumps(
    {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 1, "total_tokens": 10},
    }
).encode()


def make_agent() -> Agent[Any]:
    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=BODY)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(answer))
    provider = openaicompat.Provider(base_url="http://bench/v1", api_key="k", async_http_client=client)
    return Agent(provider.language_model("m"))


async def bare(agent: Agent[Any], items: list[dict[str, Any]], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(item: dict[str, Any]) -> None:
        async with gate:
            await agent.generate_async(item["prompt"])

    await asyncio.gather(*(one(item) for item in items))


async def batch(agent: Agent[Any], items: list[dict[str, Any]], concurrency: int) -> None:
    await run_batch_async(agent, items, concurrency=concurrency, progress=False)


async def journaled(agent: Agent[Any], items: list[dict[str, Any]], concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        journal = Path(folder) / "runs.db"
        await run_batch_async(agent, items, concurrency=concurrency, journal=journal, progress=False)


Runner = Callable[[Agent[Any], list[dict[str, Any]], int], Awaitable[None]]


def best(
    runner: Runner, agent: Agent[Any], items: list[dict[str, Any]], concurrency: int, repeat: int
) -> float:
    """The best µs per item of ``repeat`` runs."""
    timings: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        asyncio.run(runner(agent, items, concurrency))
        timings.append((time.perf_counter() - started) / len(items) * 1e6)
    return min(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    items = [{"id": number, "prompt": f"item {number}"} for number in range(options.items)]
    asyncio.run(bare(make_agent(), items[:50], options.concurrency))  # warm up imports and caches
    asyncio.run(batch(make_agent(), items[:50], options.concurrency))
    results = {
        name: best(runner, make_agent(), items, options.concurrency, options.repeat)
        for name, runner in (("bare", bare), ("batch", batch), ("batch+journal", journaled))
    }
    print(f"{options.items:,} items, concurrency {options.concurrency}, best of {options.repeat}:")
    for name, micros in results.items():
        print(f"  {name:<14} {micros:8.1f} µs/item")
    for name in ("batch", "batch+journal"):
        difference = results[name] - results["bare"]
        print(f"  {name} overhead: {difference:+.1f} µs/item ({results[name] / results['bare']:.2f}x bare)")


if __name__ == "__main__":
    main()

"""Benchmark clients: one module per client, each defining ``Client(base_url)``.

Every client implements the same four operations, each the way its library's docs show:

* ``call(model) -> str`` - one non-streaming chat completion, returns the answer text (workload a);
* ``stream(model) -> str`` - one synchronous stream, returns the accumulated text (workload b);
* ``astream(model) -> str`` - one asynchronous stream, returns the accumulated text (workload c);
* ``agent(model) -> str`` - one 2-step agent run with the ``weather`` tool, returns the final text (d).

``aclose()`` releases async resources (called outside the measured window).
"""

from __future__ import annotations

import importlib
from typing import Protocol


class BenchClient(Protocol):
    """The interface the worker drives."""

    def call(self, model: str) -> str: ...

    def stream(self, model: str) -> str: ...

    async def astream(self, model: str) -> str: ...

    def agent(self, model: str) -> str: ...

    async def aclose(self) -> None: ...


MODULES = {
    "raw": "bench_clients.raw_httpx2",
    "reverie": "bench_clients.reverie_client",
    "openai": "bench_clients.openai_client",
    "litellm": "bench_clients.litellm_client",
    "pydantic_ai": "bench_clients.pydantic_ai_client",
}


def load_client(name: str, base_url: str) -> BenchClient:
    """Import the client module (and so its library) and build its client for ``base_url``."""
    module = importlib.import_module(MODULES[name])
    client: BenchClient = module.Client(base_url)
    return client

"""Helpers for ``tests/_async/test_agent.py`` that must keep their colour in the generated twin.

``scripts/unasync.py`` rewrites ``tests/_async`` into ``tests/_sync``; code that has to stay
async in the sync twin (an ``async def`` tool run by the sync API) or that exists in both
colours (``AsyncRendezvous`` becomes ``Rendezvous``) lives here, written once per colour,
like ``reverie._concurrency``.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio

from reverie import ToolDefinition, ToolInputError, tool

T = TypeVar("T")

MEETING_TIMEOUT = 5.0
"""How long a party waits for the others; only reached when the calls run one after another."""


class Rendezvous:
    """``parties`` threads each wait until all have arrived (or the timeout passes)."""

    def __init__(self, parties: int) -> None:
        self._barrier = threading.Barrier(parties)

    def wait(self) -> bool:
        """Arrive and wait for the others; ``False`` if they never came."""
        try:
            self._barrier.wait(MEETING_TIMEOUT)
        except threading.BrokenBarrierError:
            return False
        return True


class AsyncRendezvous:
    """``parties`` tasks each wait until all have arrived (or the timeout passes)."""

    def __init__(self, parties: int) -> None:
        self._parties = parties
        self._arrived = 0
        self._everyone = anyio.Event()

    async def wait(self) -> bool:
        """Arrive and wait for the others; ``False`` if they never came."""
        self._arrived += 1
        if self._arrived == self._parties:
            self._everyone.set()
        with anyio.move_on_after(MEETING_TIMEOUT):
            await self._everyone.wait()
            return True
        return False


@tool
async def async_shout(text: str) -> str:
    """Shout the text (an ``async def`` tool in both colours)."""
    await asyncio.sleep(0)
    return text.upper() + "!"


def call_in_running_loop(function: Callable[[], T]) -> T:
    """Call ``function`` synchronously from inside a running event loop (as in Jupyter)."""

    async def main() -> T:
        return function()

    return asyncio.run(main())


class Echo:
    """A tool that is not a Python function: it implements the ``Tool`` protocol by hand."""

    name = "echo"
    parallel = False

    def __init__(self) -> None:
        self.colours: list[str] = []

    def definition(self) -> ToolDefinition:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
        return ToolDefinition(name="echo", description="Repeat the text", parameters=schema)

    def validate(self, input_json: str) -> dict[str, str]:
        value = json.loads(input_json or "{}")
        if not isinstance(value.get("text"), str):
            raise ToolInputError("text must be a string")
        return value

    def call(self, arguments: dict[str, str]) -> str:
        self.colours.append("sync")
        return arguments["text"] * 2

    async def call_async(self, arguments: dict[str, str]) -> str:
        self.colours.append("async")
        return arguments["text"] * 2


def grows(before: object, after: object) -> bool:
    """``after`` extends ``before``: the same keys and items, strings only longer (partial objects)."""
    if isinstance(before, dict) and isinstance(after, dict):
        return all(key in after and grows(value, after[key]) for key, value in before.items())  # pyright: ignore
    if isinstance(before, list) and isinstance(after, list):
        return len(after) >= len(before) and all(grows(a, b) for a, b in zip(before, after, strict=False))  # pyright: ignore
    if isinstance(before, str) and isinstance(after, str):
        return after.startswith(before)
    return before == after

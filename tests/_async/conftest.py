"""Fixtures shared by the shell tests (the sync twin of this file is generated too)."""

from __future__ import annotations

import pytest

from reverie import _concurrency


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The injected clock: each delay the runner asks for is recorded instead of waited."""
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(_concurrency, "async_sleep", record)
    return delays

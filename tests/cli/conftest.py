"""Fixtures for driving the ``reverie`` command as a subprocess against the loopback stub."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from tests.cli.stub_server import StubServer

COMMAND_TIMEOUT = 30


def clean_environment(**extra: str) -> dict[str, str]:
    """The test process's environment without keys, colour settings or a terminal type."""
    dropped = ("_API_KEY", "_TOKEN_BEDROCK", "NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES")
    environment = {name: value for name, value in os.environ.items() if not name.endswith(dropped)}
    environment.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    environment.pop("PYTHONUNBUFFERED", None)  # the command must flush by itself
    return {**environment, **extra}


def reverie(
    *arguments: str,
    input: str | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m reverie ARGUMENTS`` to the end (standard input empty unless given)."""
    return subprocess.run(
        [sys.executable, "-m", "reverie", *arguments],
        input=input if input is not None else "",
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
        cwd=cwd,
        env=dict(env) if env is not None else clean_environment(),
    )


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer(lifetime=120) as server:
        yield server


@pytest.fixture
def model(stub: StubServer) -> str:
    """A model string that reaches the stub."""
    return f"openaicompat:stub-model@{stub.url}"


InProcess = Callable[..., tuple[int, str, str]]


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> InProcess:
    """``main(arguments)`` in this process: exit code, stdout, stderr (for the many error cases)."""
    from reverie._cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr(sys, "path", list(sys.path))  # --schema module:Type adds the current folder

    def call(*arguments: str) -> tuple[int, str, str]:
        try:
            code = main(list(arguments))
        except SystemExit as exited:  # argparse's own errors
            code = int(exited.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call

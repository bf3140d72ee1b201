"""The pytest plugin makes retry waits instant in users' tests, unless a test opts out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

USER_TESTS = """
import time

import pytest

from reverie import Agent, ProviderError
from reverie.testing import MockModel


def overloaded() -> ProviderError:
    return ProviderError("overloaded", status_code=503, response_headers={"retry-after": "3"})


def test_retries_do_not_wait(retry_waits: list[float]) -> None:
    started = time.monotonic()
    result = Agent(MockModel([overloaded(), overloaded(), "ok"])).generate("hi")
    assert result.text == "ok"
    assert retry_waits == [3.0, 3.0]
    assert time.monotonic() - started < 1.0


@pytest.mark.anyio
async def test_async_retries_do_not_wait(retry_waits: list[float]) -> None:
    result = await Agent(MockModel([overloaded(), "ok"])).generate_async("hi")
    assert result.text == "ok"
    assert retry_waits == [3.0]


@pytest.mark.real_retry_waits
def test_opting_out_really_waits(retry_waits: list[float]) -> None:
    started = time.monotonic()
    error = ProviderError("overloaded", status_code=503, response_headers={"retry-after-ms": "300"})
    assert Agent(MockModel([error, "ok"])).generate("hi").text == "ok"
    assert time.monotonic() - started >= 0.3
    assert retry_waits == []
"""


def test_retry_waits_are_instant_in_tests_unless_marked(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--strict-markers", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "3 passed" in completed.stdout

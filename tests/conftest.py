"""Shared test configuration: the anyio backend and the location of the shared corpus."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("REVERIE_SHARED_DIR", ROOT.parent / "shared"))
CASSETTES = SHARED / "cassettes"
CASSETTES_V041 = SHARED / "cassettes-v041"
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

"""Shared test configuration: the anyio backend and the location of the shared corpus."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def mcp_http_url() -> Iterator[str]:
    """The test MCP server (``tests/mcp_server.py``) over streamable HTTP on 127.0.0.1, for the session."""
    from tests.mcp_helpers import serve_http

    with serve_http() as url:
        yield url

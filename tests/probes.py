"""Run a snippet of Python in a fresh interpreter, without API keys in its environment.

For checks that depend on what a process imports (this pytest process has loaded much already).
"""

from __future__ import annotations

import os
import subprocess
import sys


def run_probe(code: str, *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -c code`` with the current environment minus every ``*_API_KEY`` variable."""
    environment = {name: value for name, value in os.environ.items() if not name.endswith("_API_KEY")}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=environment,
    )

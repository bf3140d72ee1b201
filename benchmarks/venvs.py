"""One virtualenv per client under ``benchmarks/.venvs/<client>``, created with ``python -m venv`` + pip.

A venv is reused when its marker file records the same requirements (and, for reverie, the same
``pyproject.toml``) and its import check passes; otherwise the packages are (re)installed. A client
whose install or import check fails is reported as unavailable and the run goes on without it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENV_ROOT = BENCH_DIR / ".venvs"
MARKER = ".bench-venv.json"
INSTALL_TIMEOUT_S = 1200.0
CHECK_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ClientEnv:
    """What a client's venv needs: pip requirements, an import check, packages whose versions to report."""

    name: str
    requirements: tuple[str, ...]
    import_check: str
    reported: tuple[str, ...]


ENVS: dict[str, ClientEnv] = {
    "raw": ClientEnv("raw", ("httpx2",), "import httpx2", ("httpx2", "httpcore2")),
    "reverie": ClientEnv(
        "reverie",
        ("-e", str(REPO_ROOT)),
        "import reverie, reverie.providers.openaicompat",
        ("reverie", "httpx2", "pydantic"),
    ),
    "openai": ClientEnv("openai", ("openai",), "import openai", ("openai", "httpx2", "httpx")),
    # litellm imports ``mcp`` as soon as a request has ``tools`` (its agent path), but does not depend on it.
    "litellm": ClientEnv(
        "litellm", ("litellm", "mcp"), "import litellm", ("litellm", "openai", "httpx", "aiohttp")
    ),
    "pydantic_ai": ClientEnv(
        "pydantic_ai",
        ("pydantic-ai-slim[openai]",),
        "import pydantic_ai.models.openai",
        ("pydantic-ai-slim", "openai", "httpx2", "httpx"),
    ),
}


@dataclass
class VenvStatus:
    """A client's venv after ``ensure_venv``: its python, or why it is unavailable."""

    name: str
    python: str
    available: bool
    reason: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    reused: bool = False


def _fingerprint(env: ClientEnv) -> dict[str, object]:
    fingerprint: dict[str, object] = {
        "requirements": list(env.requirements),
        "python": sys.version.split()[0],
    }
    if env.name == "reverie":
        pyproject = REPO_ROOT / "pyproject.toml"
        digest = hashlib.sha256(pyproject.read_bytes()).hexdigest() if pyproject.exists() else ""
        fingerprint["pyproject_sha256"] = digest
    return fingerprint


def _run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> tuple[int, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {timeout:.0f}s: {' '.join(cmd)}"
    return proc.returncode, proc.stdout + proc.stderr


def _tail(text: str, lines: int = 3) -> str:
    kept = [
        line
        for line in text.strip().splitlines()
        if line.strip() and not line.startswith("WARNING: Location")
    ]
    return " | ".join(kept[-lines:])


def import_check(env: ClientEnv, python: Path, run_env: dict[str, str]) -> str:
    """Run the client's import check; returns "" when it passes, else the error."""
    code, output = _run([str(python), "-c", env.import_check], CHECK_TIMEOUT_S, run_env)
    return "" if code == 0 else f"`{env.import_check}` failed: {_tail(output, 1)}"


def _install(env: ClientEnv, venv_dir: Path, python: Path) -> str:
    """Create the venv if needed and pip-install the requirements; returns "" or the error."""
    if not python.exists():
        code, output = _run([sys.executable, "-m", "venv", str(venv_dir)], CHECK_TIMEOUT_S)
        if code != 0:
            return f"python -m venv failed: {_tail(output)}"
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *env.requirements]
    code, output = _run(cmd, INSTALL_TIMEOUT_S)
    (venv_dir / "install.log").write_text(output)
    return "" if code == 0 else f"pip install {' '.join(env.requirements)} failed: {_tail(output)}"


def _versions(env: ClientEnv, python: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json\n"
        "def v(p):\n"
        "    try:\n        return m.version(p)\n"
        "    except m.PackageNotFoundError:\n        return None\n"
        f"print(json.dumps({{p: v(p) for p in {list(env.reported)!r}}}))"
    )
    status, output = _run([str(python), "-c", code], CHECK_TIMEOUT_S)
    if status != 0:
        return {}
    found: dict[str, str | None] = json.loads(output.strip().splitlines()[-1])
    return {name: version for name, version in found.items() if version}


def ensure_venv(name: str, run_env: dict[str, str], reinstall: bool = False) -> VenvStatus:
    """Make sure the client's venv exists with the right packages; never raises for install failures."""
    env = ENVS[name]
    venv_dir = VENV_ROOT / name
    python = venv_dir / "bin" / "python"
    marker = venv_dir / MARKER
    if reinstall and venv_dir.exists():
        shutil.rmtree(venv_dir)
    fingerprint = _fingerprint(env)
    same = python.exists() and marker.exists() and json.loads(marker.read_text()) == fingerprint
    if same and not import_check(env, python, run_env):
        return VenvStatus(name, str(python), True, versions=_versions(env, python), reused=True)
    venv_dir.mkdir(parents=True, exist_ok=True)
    error = _install(env, venv_dir, python)
    if error:
        return VenvStatus(name, str(python), False, reason=error)
    marker.write_text(json.dumps(fingerprint))
    error = import_check(env, python, run_env)
    if error:
        return VenvStatus(name, str(python), False, reason=error, versions=_versions(env, python))
    return VenvStatus(name, str(python), True, versions=_versions(env, python))

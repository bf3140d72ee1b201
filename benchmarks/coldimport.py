"""Workload (e): cold ``import`` of each library plus one provider, in fresh interpreters.

Each sample is ``<venv python> -c "<import statement>"`` in a new process: wall time around the
process (interpreter start-up included, as a user's script pays it) and the child's CPU time
(``RUSAGE_CHILDREN`` delta). Bytecode caches are warmed by one untimed run first, so "cold" means a
new process, not an empty page cache. Clients are interleaved sample by sample; the baseline is
``import httpx2`` in the raw client's venv.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass

IMPORT_STATEMENTS: dict[str, str] = {
    "raw": "import httpx2",
    "reverie": "import reverie, reverie.providers.openrouter",
    "openai": "import openai",
    "litellm": "import litellm",
    "pydantic_ai": "import pydantic_ai",
}
STARTUP_STATEMENT = "pass"
IMPORT_TIMEOUT_S = 120.0


@dataclass
class ImportSample:
    """One timed interpreter: wall and CPU seconds, or the error."""

    wall_s: float
    cpu_s: float
    error: str = ""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_statement(python: str, statement: str, env: dict[str, str]) -> ImportSample:
    """Run ``python -c statement`` once; a watchdog kills it after ``IMPORT_TIMEOUT_S``."""
    cpu0 = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [python, "-c", statement], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
    )
    watchdog = threading.Timer(IMPORT_TIMEOUT_S, proc.kill)
    watchdog.start()
    try:
        assert proc.stderr is not None
        stderr = proc.stderr.read()
        code = proc.wait()
    finally:
        watchdog.cancel()
        if proc.stderr is not None:
            proc.stderr.close()
    wall = time.perf_counter() - start
    cpu = _children_cpu() - cpu0
    error = "" if code == 0 else f"exit {code}: {stderr.decode(errors='replace').strip().splitlines()[-1:]}"
    return ImportSample(wall, cpu, error)


@dataclass
class ImportRound:
    """Median wall/CPU of one client's samples in one round, or the first error."""

    client: str
    statement: str
    wall_s: float
    cpu_s: float
    wall_samples: list[float]
    cpu_samples: list[float]
    error: str = ""


def warm_up(pythons: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    """One untimed import per client (writes bytecode caches); returns the errors by client."""
    errors = {}
    for client, python in pythons.items():
        sample = time_statement(python, IMPORT_STATEMENTS[client], env)
        if sample.error:
            errors[client] = sample.error
    return errors


def import_round(
    pythons: dict[str, str], repetitions: int, env: dict[str, str], order: list[str]
) -> list[ImportRound]:
    """Time ``repetitions`` imports per client, interleaved; ``pythons`` maps clients to interpreters.

    The pseudo-client ``startup`` (``python -c pass`` with the raw venv) shows the interpreter's share.
    """
    statements = {client: IMPORT_STATEMENTS.get(client, STARTUP_STATEMENT) for client in order}
    samples: dict[str, list[ImportSample]] = {client: [] for client in order}
    for _ in range(repetitions):
        for client in order:
            samples[client].append(time_statement(pythons[client], statements[client], env))
    rounds = []
    for client in order:
        errors = [s.error for s in samples[client] if s.error]
        walls = [s.wall_s for s in samples[client]]
        cpus = [s.cpu_s for s in samples[client]]
        rounds.append(
            ImportRound(
                client,
                statements[client],
                statistics.median(walls),
                statistics.median(cpus),
                walls,
                cpus,
                errors[0] if errors else "",
            )
        )
    return rounds

"""Every program in ``examples/`` runs offline and prints what it promises.

Each runs in a fresh process, as a user would run it (``python examples/NAME.py``), with no
provider key in its environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

EXPECTED: dict[str, list[str]] = {
    "weather_agent.py": [
        '-> weather({"location": "Florence"})',
        "<- 40 C",
        "answer: It is 40 C in Florence: stay in the shade.",
        "steps: 2, finish: stop",
    ],
    "streaming.py": [
        "[step 0]",
        '[tool call] population({"city": "Lisbon"})',
        "[tool result] 545000",
        "[step 1]",
        "[text] 'Lisbon has about '",
        "[retry 1] connection reset; forget 'Lisbon has about '",
        "[text] 'Lisbon has about '",
        "[text] '545,000 people.'",
        "shown: Lisbon has about 545,000 people.",
        "answer: Lisbon has about 545,000 people.",
        "usage: 49 tokens",
    ],
    "structured_output.py": [
        "object: Person(name='Alice', age=30, city='Paris')",
        "partial: {'name': 'Al'}",
        "partial: {'name': 'Alice'}",
        "partial: {'name': 'Alice', 'age': 30}",
        "partial: {'name': 'Alice', 'age': 30, 'city': 'Paris'}",
        "streamed: Person(name='Alice', age=30, city='Paris')",
        "output: Trip(destination='Porto', days=3, budget_eur=360)",
        "per day: 120 EUR",
    ],
    "fallback.py": [
        "attempt 1 failed: HTTP 529: overloaded -> next: anthropic:claude-opus",
        "attempt 2 failed: HTTP 529: overloaded -> next: anthropic:claude-opus",
        "attempt 3 failed: HTTP 529: overloaded -> next: openai:gpt-4.1",
        "answer: A short summary.",
        "answered by: openai:gpt-4.1",
        "requests: primary 3, backup 1",
    ],
    "budget.py": [
        "stopped: budget exceeded: max_cost is $0.05; $0.06 were spent",
        "steps kept: 3",
        "spent: $0.0600 in 3 requests",
    ],
    "cassette_replay.py": [
        "retry 1 after an HTTP 429 from the recording",
        # The recorded answer, with its typographic apostrophes and dash.
        "sync: Right now it\u2019s about 40 \u00b0C in Florence\u2014very hot! Stay hydrated and seek "
        "shade or air-conditioning if you\u2019re out and about.",
        "sync: 2 steps, 300 tokens, $0.000259",
        "retry 1 after an HTTP 429 from the recording",
        'async: weather{"location": "Florence,Italy"}',
        "async: served by SiliconFlow",
    ],
}

_KEYS = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "AI_GATEWAY_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AWS_BEARER_TOKEN_BEDROCK",
)


def test_every_example_is_checked() -> None:
    assert sorted(path.name for path in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_offline(name: str, tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key not in _KEYS}
    environment["PYTHONIOENCODING"] = "utf-8"
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines() == EXPECTED[name]
    assert completed.stderr == ""

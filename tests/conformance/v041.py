"""Which of fantasy v0.41.2's recordings the conformance test runs, and which fail today.

``tests/_async/test_conformance_v041.py`` (agent programs) and
``tests/_async/test_conformance_v041_objects.py`` (object programs), with their generated sync
twins, read both tables from here, so each exists once. ``NOT_COLLECTED`` names the suites
(or ``suite/model dir``) that need features reverie does not have yet; they are not
collected at all.
``KNOWN_FAILURES`` marks collected entries that fail today as strict xfails; each reason
says what is missing, read from the first mismatch (the ``Cassette`` error names the
differing JSON paths) and, where a lenient replay showed more, from the later requests too.
``test_v041_tables.py`` keeps both tables in step with the manifest.
"""

from __future__ import annotations

import pytest

from reverie.testing.scenarios import Scenario, load_manifest
from tests.conftest import CASSETTES_V041

NOT_COLLECTED: dict[str, str] = {}
"""Suites (``Suite`` or ``Suite/model dir``) left out, each with the missing feature."""


def not_collected_reason(scenario: Scenario) -> str | None:
    """Why the entry is left out, or ``None`` when it is collected."""
    return NOT_COLLECTED.get(f"{scenario.suite}/{scenario.model_dir}") or NOT_COLLECTED.get(scenario.suite)


# Entries that fail today, one line per manifest path. xfail_strict is on, so an entry that
# starts passing fails the run: delete its line here in the change that fixes it (and add a
# line, with what is missing, for an entry a change breaks on purpose).
KNOWN_FAILURES: dict[str, str] = {}
"""Manifest path -> what reverie is missing for that recording."""


def collected(program: str) -> list[Scenario]:
    """The manifest's entries of ``program`` that are collected (none when the corpus is absent)."""
    manifest = CASSETTES_V041 / "manifest.json"
    if not manifest.exists():
        return []
    return [
        scenario
        for scenario in load_manifest(manifest)
        if scenario.program == program and not_collected_reason(scenario) is None
    ]


def failure_marks(scenario: Scenario) -> list[pytest.MarkDecorator]:
    """A strict xfail for an entry of ``KNOWN_FAILURES``, else nothing."""
    reason = KNOWN_FAILURES.get(scenario.path)
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []

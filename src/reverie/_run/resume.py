"""What a run goes on from: a paused run with the caller's answers, and a durable run's journal.

``Resume`` (``Agent.resume``) and ``JournalRun`` (a run given a journal) are read by the run
machine; they are kept apart from ``reverie._run.config`` so that a plain run, which has
neither, does not define them. Nothing here decides anything on its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from reverie._record import FrozenRecord

if TYPE_CHECKING:
    from reverie._journal.protocol import Journal, RunRecord
    from reverie._results import AgentResult

Answer: TypeAlias = bool | str
"""An approval: ``True`` runs the call; ``False`` refuses it; a string refuses it for that reason."""


@dataclass(slots=True, frozen=True, kw_only=True, repr=False, eq=False)
class Resume(FrozenRecord):
    """A paused run to go on with (``Agent.resume``), and the caller's answers for its held calls."""

    paused: AgentResult[Any]
    """The paused result (``status == "paused"``): the run's whole state."""
    approvals: Mapping[str, Answer]
    """Answers by tool call id."""
    tool_results: Mapping[str, Any]
    """Results by tool call id, given instead of running the calls."""


@dataclass(slots=True, frozen=True, kw_only=True, repr=False, eq=False)
class JournalRun(FrozenRecord):
    """A durable run: the journal it records in, its id, and what was recorded before it began."""

    journal: Journal
    run_id: str
    record: RunRecord | None
    """The run's record when this run began (``None``: a new run); its steps are replayed."""

"""The ``Journal`` protocol: where a durable run records what happened, and ``RunRecord``, what it reads back.

A run given ``journal=`` and ``run_id=`` records its input when it starts, every model answer
and every tool call (started, then its result) as it completes, and how it ended (paused or
finished). Run again with the same ``run_id``, it reads the ``RunRecord`` and replays what was
recorded instead of sending requests or running tools again (``reverie._run.journal_replay``
decides; the driver does the I/O).

The protocol is synchronous and small: each method is one short write, and runs call it
directly, from async runs too (a write of the SQLite journal takes well under a millisecond
unless another process holds the file). Each ``record_*`` method must have stored the entry
durably when it returns: the run moves on only then. This module stores nothing itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from reverie._content import Message, ToolCallPart, ToolResultPart
from reverie._model import Response
from reverie._results import AgentResult

ToolKey = tuple[int, str]
"""A tool call in a run: its step number and its call id (ids may repeat across steps)."""


@dataclass(slots=True, kw_only=True)
class RunRecord:
    """What a journal holds about one run, folded in the order it was recorded."""

    run_id: str
    messages: list[Message]
    """The messages the run started from (system prompt, earlier messages and prompt)."""
    input_messages: list[Message]
    """The caller's part of ``messages`` (without the agent's system prompt)."""
    responses: dict[int, Response] = field(default_factory=dict[int, Response])
    """The model's answer of each step that had one, by step number."""
    started: dict[ToolKey, ToolCallPart] = field(default_factory=dict[ToolKey, ToolCallPart])
    """Every tool call that started to run."""
    tool_results: dict[ToolKey, ToolResultPart] = field(default_factory=dict[ToolKey, ToolResultPart])
    """The result of every call that finished (or that the caller answered)."""
    paused: AgentResult[Any] | None = None
    """The last paused result of the run (``None``: it never paused)."""
    approvals: dict[str, bool | str] | None = None
    """The answers ``paused`` was resumed with (``None``: it was not resumed yet)."""
    supplied: dict[str, ToolResultPart] = field(default_factory=dict[str, ToolResultPart])
    """The results ``paused`` was resumed with, by call id."""
    result: AgentResult[Any] | None = None
    """The run's final result (``None``: it has not finished)."""
    entries: int = 0
    """How many entries the record was folded from."""


@runtime_checkable
class Journal(Protocol):
    """A store of durable runs; ``reverie.SQLiteJournal`` is the one reverie ships.

    Entries of one run are appended, never changed. A store that finds another writer appended
    to the same run first should raise ``JournalConflictError``.
    """

    def load(self, run_id: str) -> RunRecord | None:
        """What was recorded about ``run_id`` (``None``: nothing)."""
        ...

    def start(self, run_id: str, messages: Sequence[Message], input_messages: Sequence[Message]) -> None:
        """Record a new run's input (see ``RunRecord.messages`` and ``input_messages``)."""
        ...

    def record_response(self, run_id: str, step_number: int, response: Response) -> None:
        """Record the model's answer of a step."""
        ...

    def tool_started(self, run_id: str, step_number: int, call: ToolCallPart) -> None:
        """Record that a tool call is about to run."""
        ...

    def record_tool_result(self, run_id: str, step_number: int, result: ToolResultPart) -> None:
        """Record a tool call's result."""
        ...

    def record_pause(self, run_id: str, result: AgentResult[Any]) -> None:
        """Record that the run paused for approval, with its paused result."""
        ...

    def record_answers(
        self, run_id: str, approvals: Mapping[str, bool | str], tool_results: Mapping[str, ToolResultPart]
    ) -> None:
        """Record the answers the last pause is resumed with."""
        ...

    def finish(self, run_id: str, result: AgentResult[Any]) -> None:
        """Record the run's final result."""
        ...

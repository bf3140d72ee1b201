"""The actions the run machine asks its driver to carry out.

Four records: call the model, wait, run tools, finish (with the result, or with the error
the run ends with). The driver performs the I/O an action names and feeds what happened back
to the machine.

The actions and ``PreparedToolCall`` are treated as immutable; they are not frozen because a
frozen dataclass costs two more generated methods at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from reverie._content import ToolCallPart
from reverie._errors import ReverieError
from reverie._model import Call, LanguageModel, Response
from reverie._record import Record
from reverie._results import AgentResult

if TYPE_CHECKING:
    from reverie._tools.protocol import Tool


@dataclass(slots=True, repr=False, eq=False)
class PreparedToolCall(Record):
    """A valid call, its tool, and the arguments ``Tool.validate`` returned."""

    call: ToolCallPart
    tool: Tool
    arguments: Any


ToolJob: TypeAlias = tuple[ToolCallPart, PreparedToolCall | None]
"""A call of the step and, when it is valid, what to run (``None``: send its error back)."""


@dataclass(slots=True, repr=False, eq=False)
class CallModel(Record):
    """Send ``call`` to ``model``, whole (``streaming=False``) or as a stream.

    A durable run's step whose answer its journal holds gives it as ``recorded``: the driver
    feeds it (as parts when streaming) instead of sending the request.
    """

    step_number: int
    attempt: int
    """0 for the first attempt of the step, 1 for its first retry, ..."""
    model: LanguageModel
    call: Call
    streaming: bool
    recorded: Response | None = None
    """The journal's answer of the step, replayed (no request is sent, nothing is spent)."""


@dataclass(slots=True, repr=False, eq=False)
class Wait(Record):
    """Wait ``seconds`` before the next action (a retry delay)."""

    seconds: float
    step_number: int
    attempt: int
    """The attempt that follows the wait."""


@dataclass(slots=True, repr=False, eq=False)
class RunTools(Record):
    """Run the step's calls: each batch in order, the calls within a batch concurrently."""

    step_number: int
    batches: tuple[tuple[ToolJob, ...], ...]


@dataclass(slots=True, repr=False, eq=False)
class Finish(Record):
    """The run is over: with ``result``, or with ``error``, raised once the events are yielded."""

    result: AgentResult
    """The run's result; with an ``error``, the partial result it carries."""
    error: ReverieError | None = None
    """The error the run ends with (a spent budget), raised after the last step's parts."""


Action: TypeAlias = CallModel | Wait | RunTools | Finish

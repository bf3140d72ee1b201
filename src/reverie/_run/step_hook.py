"""What the ``prepare_step`` hook sees and returns: ``StepContext`` and ``StepOverrides``.

Only a run whose agent has ``prepare_step`` needs these classes, so planning imports this
module for such runs alone and a plain run does not pay for defining them. The hook is
called, and its overrides applied, by ``reverie._run.planning``; nothing here runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from reverie._content import Message
from reverie._model import LanguageModel, ProviderTool, ToolChoice
from reverie._record import FrozenRecord, Record
from reverie._results import StepResult

if not TYPE_CHECKING:
    from reverie._record import frozen_dataclass
else:  # last: type checkers and the docs see @dataclass itself (see reverie._record)
    from dataclasses import dataclass as frozen_dataclass

if TYPE_CHECKING:
    from reverie._tools.protocol import Tool  # loaded with the first tool


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class StepOverrides(Record):
    """What ``prepare_step`` may change for one step; ``None`` keeps the run's value."""

    model: LanguageModel | None = None
    messages: list[Message] | None = None
    """Replaces the whole prompt of this step (system message included)."""
    tools: Sequence[Tool | ProviderTool] | None = None
    """Replaces the run's tools for this step (provider-defined tools included)."""
    tool_choice: ToolChoice | None = None
    provider_options: dict[str, Any] | None = None


@frozen_dataclass(slots=True, frozen=True, repr=False, eq=False)
class StepContext(FrozenRecord):
    """What ``prepare_step`` sees.

    ``messages`` holds the run's own message objects: one edited here in place is sent edited
    from this step on. The hook is the place to edit the history; a run reuses the encoded form
    of a message, so an edit made elsewhere between steps (in a callback) may not be sent.
    """

    step_number: int
    steps: Sequence[StepResult]
    messages: list[Message]
    model: LanguageModel


PrepareStep: TypeAlias = Callable[[StepContext], StepOverrides | None]
"""Called before each step with its ``StepContext``; returns the step's overrides or ``None``."""

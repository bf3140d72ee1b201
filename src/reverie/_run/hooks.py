"""The instrumentation seam: what the driver tells an observer of one run, and when.

``RunHooks`` is a base class whose methods all do nothing; an observer (tracing, in
``reverie._otel``) overrides the ones it needs. The driver calls them in this order::

    around_run(run)                      entered on the first step, left when the run ends
      around(action)                     each action the machine asks for
        model_answered / model_failed    the outcome of a CallModel attempt
        around_tool(call)                each tool call, entered where the tool runs
          tool_ended(call, result, error)

``around_tool`` is entered in the context the tool itself runs in (its worker thread or
task for parallel calls), so a context variable it sets reaches the tool and nothing else;
the other context managers are entered by the driver and stay open across the parts a
stream yields, so they must not change the caller's context.

The default, ``NO_HOOKS``, costs one shared ``nullcontext`` per action and nothing per
stream part. Hooks observe; they never change what the run does.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from reverie._content import Message, ToolCallPart, ToolResultPart
    from reverie._errors import ReverieError
    from reverie._model import Call, LanguageModel
    from reverie._results import AgentResult, StepResult
    from reverie._run.actions import Action, CallModel


class ObservedConfig(Protocol):
    """What hooks read of a run's configuration (``RunConfig`` is one)."""

    @property
    def model(self) -> LanguageModel:
        """The run's model (a step's ``prepare_step`` may use another: see ``CallModel.model``)."""
        ...

    @property
    def messages(self) -> list[Message]:
        """The conversation the run starts from, system prompt included."""
        ...

    @property
    def call_template(self) -> Call:
        """The settings every request of the run starts from."""
        ...


class ObservedRun(Protocol):
    """What hooks read of the run they observe (``reverie._run.machine.Run`` is one).

    A protocol rather than ``Run`` itself: the machine's configuration holds the hooks, so
    this module cannot import the machine.
    """

    @property
    def config(self) -> ObservedConfig:
        """The run's configuration."""
        ...

    @property
    def result(self) -> AgentResult[Any] | None:
        """The outcome, once the run finished."""
        ...

    def answer(self) -> StepResult | None:
        """What the model call in progress returned (``None`` before its finish part)."""
        ...


_NOTHING: AbstractContextManager[object] = nullcontext()


class RunHooks:
    """Observes one run; every method does nothing unless a subclass overrides it."""

    __slots__ = ()

    def around_run(self, run: ObservedRun, /) -> AbstractContextManager[object]:
        """Entered when the run starts (the first iteration of a stream) and left when it ends.

        Left with the exception that ended the run, if any (the final error, or
        ``GeneratorExit`` when a stream is closed early); ``run.result`` is set on success.
        """
        return _NOTHING

    def around(self, action: Action, /) -> AbstractContextManager[object]:
        """A context manager entered before ``action`` is carried out and left after it."""
        return _NOTHING

    def model_answered(self, action: CallModel, run: ObservedRun, /) -> None:
        """The ``action`` attempt ended without an error; ``run.answer()`` is what it returned."""

    def model_failed(self, action: CallModel, error: ReverieError, /) -> None:
        """The ``action`` attempt failed with ``error`` (the run may retry it)."""

    def around_tool(self, call: ToolCallPart, /) -> AbstractContextManager[object]:
        """Entered around running ``call``, in the context the tool runs in.

        Invalid calls (unknown tool, input that failed validation) pass through here too:
        their error result goes back to the model without running anything.
        """
        return _NOTHING

    def tool_ended(self, call: ToolCallPart, result: ToolResultPart, error: BaseException | None, /) -> None:
        """``call`` gave ``result``; ``error`` is what the tool raised, if it raised."""

    def __repr__(self) -> str:
        return "NO_HOOKS" if type(self) is RunHooks else f"{type(self).__name__}()"


NO_HOOKS: RunHooks = RunHooks()
"""Hooks that do nothing (the default)."""

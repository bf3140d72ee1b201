"""What a run is configured with: settings, hooks the user passes, and stop conditions.

All of it is resolved once per run by ``Agent`` and read by the machine; nothing here
decides anything on its own. The types of the ``prepare_step`` hook are in
``reverie._run.step_hook``, loaded only by runs that have one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeAlias

from reverie._content import FinishReason, Message, ToolCallPart, ToolResultPart
from reverie._model import Call, LanguageModel
from reverie._record import Record
from reverie._results import AgentResult, StepResult
from reverie._retry import RetryPolicy
from reverie._run.hooks import NO_HOOKS, RunHooks
from reverie._wire_cache import SharedWireStore

if TYPE_CHECKING:
    from reverie._run.output import OutputSpec
    from reverie._run.resume import JournalRun, Resume
    from reverie._run.spending import Budget
    from reverie._run.step_hook import PrepareStep  # loaded by runs that have the hook
    from reverie._tools.protocol import Tool, Toolset  # loaded with the first tool
    from reverie._tools.toolset import ToolSet

StopCondition: TypeAlias = Callable[[Sequence[StepResult]], bool]
"""Called after each step with all steps so far; ``True`` ends the run."""


def step_count_is(count: int) -> StopCondition:
    """Stop once ``count`` steps have run."""
    return lambda steps: len(steps) >= count


def has_tool_call(*names: str) -> StopCondition:
    """Stop after a step that made a valid call of any of the named tools.

    An invalid call (unknown arguments, failed validation) does not stop the run: its error goes
    back to the model, which can call again.
    """
    return lambda steps: (
        bool(steps) and any(call.tool_name in names and not call.invalid for call in steps[-1].tool_calls)
    )


def finish_reason_is(*reasons: FinishReason) -> StopCondition:
    """Stop after a step that ended for one of ``reasons``."""
    return lambda steps: bool(steps) and steps[-1].finish_reason in reasons


def max_tokens_used(limit: int) -> StopCondition:
    """Stop once the run's total tokens reach ``limit``."""
    return lambda steps: sum(step.usage.total_tokens for step in steps) >= limit


RepairToolCall: TypeAlias = Callable[[ToolCallPart, str], ToolCallPart | None]
"""Given an invalid call and its error, return a fixed call (or ``None`` to keep it invalid)."""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Callbacks(Record):
    """Hooks called during a run: plain functions, or `async def` ones in async runs (awaited)."""

    on_step_start: Callable[[int], Awaitable[None] | None] | None = None
    on_step_finish: Callable[[StepResult], Awaitable[None] | None] | None = None
    on_text_delta: Callable[[str], Awaitable[None] | None] | None = None
    on_reasoning_delta: Callable[[str], Awaitable[None] | None] | None = None
    on_tool_call: Callable[[ToolCallPart], Awaitable[None] | None] | None = None
    on_tool_result: Callable[[ToolResultPart], Awaitable[None] | None] | None = None
    on_retry: Callable[[Any], Awaitable[None] | None] | None = None
    on_finish: Callable[[AgentResult[Any]], Awaitable[None] | None] | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class RunConfig(Record):
    """Everything one run needs, resolved from the agent and the call's arguments."""

    model: LanguageModel
    messages: list[Message]
    tools: Sequence[Tool]
    call_template: Call
    retry: RetryPolicy
    max_steps: int
    stop_when: Sequence[StopCondition]
    prepare_step: PrepareStep | None = None
    repair_tool_call: RepairToolCall | None = None
    callbacks: Callbacks = field(default_factory=Callbacks)
    output: OutputSpec | None = None
    """The typed output the run must end with (``Agent(output_type=...)``); ``None``: text."""
    hooks: RunHooks = NO_HOOKS
    """Wrapped around every action the driver carries out (tracing goes here); no-op by default."""
    input_messages: list[Message] | None = None
    """Where ``AgentResult.messages`` starts: the caller's conversation without the agent's
    system prompt (``None``: ``messages``)."""
    deadline: float | None = None
    """Seconds the whole run may take, retries, waits and tool runs included (``None``: no bound)."""
    tool_set: ToolSet | None = None
    """``tools`` resolved, with their definitions and wire forms, shared by the agent's runs
    (``None``: the run makes one from ``tools``)."""
    budget: Budget | None = None
    """What the run may spend, shared with every other run given the same ``Budget``."""
    resume: Resume | None = None
    """The paused run this run goes on with (``Agent.resume``): ``messages`` are then the paused
    run's system prompt and input messages, and the machine takes its steps from the result."""
    toolsets: Sequence[Toolset] = ()
    """Opened by the driver for the run; their tools join ``tools`` (``Run.use_tool_set``)."""
    message_wire: SharedWireStore | None = None
    """Encoded messages shared by the agent's runs (``None``: the run keeps its own)."""
    journal: JournalRun | None = None
    """Where the run records what happens, and replays what was recorded (``None``: nowhere)."""


CALLBACK_NAMES = tuple(item.name for item in fields(Callbacks))
"""The names of ``Callbacks``' fields, in order."""
_callback_values = attrgetter(*CALLBACK_NAMES)


def has_callbacks(config: RunConfig) -> bool:
    """Whether ``config`` has a callback or a hook for its driver to adopt (most runs have none)."""
    return (
        config.prepare_step is not None
        or config.repair_tool_call is not None
        or any(_callback_values(config.callbacks))
    )

"""Planning a step: the model call an agent step makes, after ``prepare_step`` had its say.

``plan_step`` asks the run's ``prepare_step`` hook (if any) for the step's overrides, resolves
the step's tools (``StepTools`` keeps the sets the hook returned, so each is resolved once per
run), builds the ``Call`` from the run's call template with the run's wire caches, lets the
structured output shape it, and refuses options the provider would ignore or reject late.
``message_wire`` makes the run's cache of encoded messages.

It does not start the step, take a request from the budget, time the deadline or call the
model: the machine (``reverie._run.machine``) does, with what this module returns. Nothing
here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reverie._content import Message
from reverie._errors import UserError
from reverie._model import Call, LanguageModel, ProviderTool
from reverie._provider_names import check_provider_options
from reverie._record import Record
from reverie._results import StepResult
from reverie._run.config import RunConfig
from reverie._tools.toolset import ToolSet
from reverie._wire_cache import RunMessages, SharedWireStore, WireCache, WireStore, message_state

if TYPE_CHECKING:
    from reverie._run.output import OutputRun
    from reverie._tools.protocol import Tool  # loaded with the first tool

_MAX_STEP_TOOL_SETS = 8
"""Distinct tool sets of ``prepare_step`` a run keeps resolved (more start afresh)."""

_TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})


def message_wire(config: RunConfig) -> RunMessages:
    """The run's store of encoded messages: the agent's shared one, checked once by the run."""
    # Encoded messages are found by identity in the agent's shared store (a new one for a
    # run without an agent), where each outlives the run while its message lives, so a
    # conversation continued run after run encodes only its new messages. A message is
    # checked against a snapshot of what was encoded (``message_state``) the first time
    # a run sends it; after that, without a prepare_step hook, the run trusts identity
    # alone: its history is the caller's messages and the steps' own, which nothing edits
    # between steps (the documented way to change the history is the hook). A hook sees
    # the messages and may edit them in place, so with one every step checks them again
    # (``step_messages``), a check far cheaper than encoding again. (Handing the hook
    # copies, to trust what it did not touch, would copy the history every step.) Messages
    # holding files are kept in the run's own store, under the same rules, so their data
    # does not outlive it. The token is an object of its own, not the run: the step's call
    # holds it, and a cycle through the run would leave every run to the garbage collector.
    shared = config.message_wire if config.message_wire is not None else SharedWireStore()
    local = WireStore(message_state if config.prepare_step is not None else None)
    return RunMessages(shared, local, object())


def step_messages(config: RunConfig, run_messages: RunMessages) -> RunMessages:
    """The step's message store: what the run checked is trusted, unless a hook may edit it."""
    if config.prepare_step is None:
        return run_messages
    return RunMessages(run_messages.shared, run_messages.local, object())


class StepTools:
    """The run's own tool set, and the sets ``prepare_step`` returned, each resolved once."""

    __slots__ = ("_returned", "own")

    def __init__(self, config: RunConfig) -> None:
        self.own: ToolSet = config.tool_set if config.tool_set is not None else ToolSet(config.tools)
        """The run's tools, resolved."""
        self._returned: dict[tuple[int, ...], ToolSet] = {}

    def for_step(self, items: Sequence[Tool | ProviderTool] | None) -> ToolSet:
        """The step's tools resolved: the run's own, or the set ``prepare_step`` returned.

        A set the hook returns is resolved once per run however often it comes back (a new
        list of the same tools included): sets are found by the identities of their tools.
        """
        own = self.own
        if items is None or own.made_from(items):
            return own
        key = tuple(map(id, items))
        found = self._returned.get(key)
        if found is None:
            if len(self._returned) >= _MAX_STEP_TOOL_SETS:
                self._returned.clear()
            # The set holds its tools, so their ids in the key stay theirs while it is kept.
            found = self._returned[key] = ToolSet(items)
        return found


@dataclass(slots=True, repr=False, eq=False)
class PlannedStep(Record):
    """What a step calls: its model (a ``FallbackModel`` included), its call and its tools by name.

    Treated as immutable; not frozen because a frozen dataclass costs two more generated
    methods at import.
    """

    model: LanguageModel
    call: Call
    tools: Mapping[str, Tool]


def plan_step(
    config: RunConfig,
    *,
    step_number: int,
    steps: Sequence[StepResult],
    messages: list[Message],
    step_tools: StepTools,
    message_wire: RunMessages,
    output: OutputRun | None,
) -> PlannedStep:
    """Plan step ``step_number`` of a run that has taken ``steps`` and holds ``messages``.

    Raises:
        UserError: the step's options do not fit its model or tools (before any request).
    """
    model = config.model
    tools: Sequence[Tool | ProviderTool] | None = None
    template = config.call_template
    tool_choice, provider_options = template.tool_choice, template.provider_options
    if config.prepare_step is not None:
        from reverie._run.step_hook import StepContext  # only runs with the hook need it

        # Snapshots: a context kept (or changed) by the hook must not alias the run's state.
        context = StepContext(
            step_number=step_number, steps=tuple(steps), messages=list(messages), model=model
        )
        overrides = config.prepare_step(context)
        if overrides is not None:
            model = overrides.model or model
            messages = overrides.messages if overrides.messages is not None else messages
            tools = overrides.tools
            tool_choice = overrides.tool_choice if overrides.tool_choice is not None else tool_choice
            if overrides.provider_options is not None:
                provider_options = overrides.provider_options
    tool_set = step_tools.for_step(tools)
    by_name = tool_set.by_name
    call = Call(
        prompt=messages,
        tools=list(tool_set.definitions),
        tool_choice=tool_choice,
        max_output_tokens=template.max_output_tokens,
        temperature=template.temperature,
        top_p=template.top_p,
        top_k=template.top_k,
        presence_penalty=template.presence_penalty,
        frequency_penalty=template.frequency_penalty,
        stop_sequences=template.stop_sequences,
        seed=template.seed,
        provider_options=provider_options,
        headers=template.headers,
        timeout=template.timeout,
        wire_cache=WireCache(messages=step_messages(config, message_wire), tools=tool_set.wire),
    )
    if output is not None:
        call, by_name = output.plan(call, model, by_name)
    check_call(call, model, step_number)
    return PlannedStep(model=model, call=call, tools=by_name)


def check_call(call: Call, model: LanguageModel, step_number: int) -> None:
    """Refuse, before any request, options the provider would ignore or reject late.

    Raises:
        UserError: a ``provider_options`` key naming no known provider, or a ``tool_choice``
            naming no tool of the step.
    """
    check_provider_options(call.provider_options, in_use=model.provider)
    choice = call.tool_choice
    if choice is not None and choice not in _TOOL_CHOICE_MODES:
        names = [definition.name for definition in call.tools]
        if choice not in names:
            offered = ", ".join(repr(name) for name in names) or "none"
            raise UserError(
                f"tool_choice {choice!r} names no tool of step {step_number} (its tools: {offered}); "
                "use 'auto', 'none', 'required' or one of the tool names"
            )

"""What a run produces: ``StepResult`` for each model call and ``AgentResult`` for the run.

Pure data over the content types, with the derived views users read (text, tool calls,
usage and cost summed over steps). A step's cost is worked out on first access, by
``reverie._cost``, and kept. Nothing here decides how a run proceeds; that is
``reverie._run``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeAlias, cast

from reverie._content import (
    CallWarning,
    ContentPart,
    FinishReason,
    Message,
    ProviderMetadata,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from reverie._record import Record

if TYPE_CHECKING:
    from reverie._cost import Cost

RunStatus: TypeAlias = Literal["completed", "paused"]
"""How a run ended: it ran to its end, or it waits for a person's approval of tool calls."""

_NOT_PRICED: Final = object()
"""``StepResult._cost`` before the cost was first asked for."""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class StepResult(Record):
    """One model call of a run and the tool results it led to."""

    step_number: int
    content: list[ContentPart]
    """What the model produced, in order, followed by the results of the tools it called."""
    finish_reason: FinishReason
    usage: Usage
    messages: list[Message]
    """The messages this step adds to the conversation (assistant, then tool results)."""
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    warnings: list[CallWarning] = field(default_factory=list[CallWarning])
    model_id: str = ""
    """The model the step asked for (with a ``FallbackModel``: the one of its models that answered)."""
    provider: str = ""
    """The provider of ``model_id``."""
    response_id: str | None = None
    """The provider's id of the response, when it sends one."""
    response_model_id: str | None = None
    """The model that answered, as the provider reports it (may differ from ``model_id``)."""
    # Derived from the fields above and kept: never saved (``reverie.to_json`` leaves it out,
    # through the ``exclude`` that pydantic reads from a dataclass field's metadata).
    _cost: Any = field(default=_NOT_PRICED, init=False, repr=False, compare=False, metadata={"exclude": True})

    @property
    def text(self) -> str:
        """The text the model wrote in this step."""
        return "".join(part.text for part in self.content if isinstance(part, TextPart))

    @property
    def reasoning_text(self) -> str:
        """The reasoning the model showed in this step."""
        return "".join(part.text for part in self.content if isinstance(part, ReasoningPart))

    @property
    def reasoning(self) -> list[ReasoningPart]:
        """The reasoning parts of this step."""
        return [part for part in self.content if isinstance(part, ReasoningPart)]

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        """The tool calls the model made in this step."""
        return [part for part in self.content if isinstance(part, ToolCallPart)]

    @property
    def tool_results(self) -> list[ToolResultPart]:
        """The results of this step's tool calls."""
        return [part for part in self.content if isinstance(part, ToolResultPart)]

    @property
    def cost(self) -> Cost | None:
        """What this step cost in US dollars; ``None`` when no price is known for its model.

        The cost the provider reported (OpenRouter's ``usage.cost``), else one computed from
        ``usage`` with the price data bundled with ``genai-prices``. Worked out on first
        access and kept.
        """
        cost = self._cost
        if cost is _NOT_PRICED:
            from reverie._cost import step_cost  # the price data loads only when a cost is asked for

            cost = self._cost = step_cost(
                provider=self.provider,
                model_id=self.model_id,
                response_model_id=self.response_model_id,
                usage=self.usage,
                provider_metadata=self.provider_metadata,
            )
        return cast("Cost | None", cost)


if TYPE_CHECKING:
    from typing_extensions import TypeVar  # a default (PEP 696) for the type checker only

    OutputT = TypeVar("OutputT", default=str)
else:  # no typing_extensions at run time: import reverie stays light
    from typing import TypeVar

    OutputT = TypeVar("OutputT")
"""The type of ``AgentResult.output``: ``str`` (the final text) unless the agent has ``output_type``."""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class AgentResult(Record, Generic[OutputT]):
    """The outcome of a whole run; ``output`` is typed by the agent's ``output_type``."""

    steps: list[StepResult]
    input_messages: list[Message] = field(default_factory=list[Message])
    """The conversation the run started from (history and prompt, without the agent's system prompt)."""
    typed_output: Any = None
    """The validated output of an agent with ``output_type`` (``None`` without one)."""
    has_typed_output: bool = False
    attempts_usage: Usage = field(default_factory=Usage)
    """Tokens reported by failed attempts (retried, or broken off mid-stream): billed, though
    no step kept their output. Not part of ``total_usage``."""
    status: RunStatus = "completed"
    """``"paused"``: the run stopped before tool calls that need a person's approval
    (``pending_approvals``); ``Agent.resume`` goes on with it. Its last step is the paused one:
    the model's answer and the results of the calls that ran (the held calls have none yet)."""
    pending_approvals: list[ToolCallPart] = field(default_factory=list[ToolCallPart])
    """The calls waiting for approval, in the order the model made them (empty unless paused)."""
    output_failures: int = 0
    """How many invalid outputs the run had sent back to the model when it paused (for typed
    output), so that a resumed run keeps counting toward ``output_retries``."""

    @property
    def output(self) -> OutputT:
        """The validated output with ``output_type``; without one, the final text (``text``)."""
        return cast(OutputT, self.typed_output if self.has_typed_output else self.text)

    @property
    def text(self) -> str:
        """The text of the last step that wrote any non-blank text (fantasy's ``finalResponse``)."""
        for step in reversed(self.steps):
            text = step.text
            if text and not text.isspace():  # non-blank, without strip()'s copy of a long text
                return text
        return ""

    @property
    def total_usage(self) -> Usage:
        """Token counts summed over all steps."""
        steps = self.steps
        if len(steps) == 1:
            return steps[0].usage  # frozen: the step's own is the sum
        # Summed count by count: adding Usage objects would build a frozen one per step.
        inputs = outputs = totals = reasoning = cache_creation = cache_read = 0
        for step in steps:
            usage = step.usage
            inputs += usage.input_tokens
            outputs += usage.output_tokens
            totals += usage.total_tokens
            reasoning += usage.reasoning_tokens
            cache_creation += usage.cache_creation_tokens
            cache_read += usage.cache_read_tokens
        return Usage(
            input_tokens=inputs,
            output_tokens=outputs,
            total_tokens=totals,
            reasoning_tokens=reasoning,
            cache_creation_tokens=cache_creation,
            cache_read_tokens=cache_read,
        )

    @property
    def total_cost(self) -> float | None:
        """US dollars summed over the steps whose cost is known (``step.cost``).

        ``None`` when no step's cost is known (no price for the model, none reported), where
        ``0`` would look free.
        """
        known = [cost.total for cost in (step.cost for step in self.steps) if cost is not None]
        return sum(known) if known else None

    @property
    def finish_reason(self) -> FinishReason:
        """Why the last step ended."""
        return self.steps[-1].finish_reason if self.steps else "unknown"

    @property
    def response_messages(self) -> list[Message]:
        """The messages the run added to the conversation (every step's)."""
        return [message for step in self.steps for message in step.messages]

    @property
    def messages(self) -> list[Message]:
        """The whole conversation: the run's input messages, then every step's.

        Pass it as ``messages=`` to continue the conversation. The agent's ``system_prompt``
        is not in it (the agent adds it to every run); system messages you passed are.
        """
        return [*self.input_messages, *self.response_messages]

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        """Every tool call of the run."""
        return [call for step in self.steps for call in step.tool_calls]

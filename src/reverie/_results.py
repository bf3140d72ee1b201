"""What a run produces: ``StepResult`` for each model call and ``AgentResult`` for the run.

Pure data over the content types, with the derived views users read (text, tool calls,
usage and cost summed over steps). Nothing here decides how a run proceeds; that is
``reverie._run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, cast

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


@dataclass(slots=True, kw_only=True)
class StepResult:
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
    def cost(self) -> float:
        """The cost the provider reported for this step (OpenRouter's ``usage.cost``), else 0."""
        return sum(_cost_of(values) or 0.0 for values in self.provider_metadata.values())


if TYPE_CHECKING:
    from typing_extensions import TypeVar  # a default (PEP 696) for the type checker only

    OutputT = TypeVar("OutputT", default=str)
else:  # no typing_extensions at run time: import reverie stays light
    from typing import TypeVar

    OutputT = TypeVar("OutputT")
"""The type of ``AgentResult.output``: ``str`` (the final text) unless the agent has ``output_type``."""


@dataclass(slots=True, kw_only=True)
class AgentResult(Generic[OutputT]):
    """The outcome of a whole run; ``output`` is typed by the agent's ``output_type``."""

    steps: list[StepResult]
    input_messages: list[Message] = field(default_factory=list[Message])
    """The conversation the run started from (history and prompt, without the agent's system prompt)."""
    typed_output: Any = None
    """The validated output of an agent with ``output_type`` (``None`` without one)."""
    has_typed_output: bool = False

    @property
    def output(self) -> OutputT:
        """The validated output with ``output_type``; without one, the final text (``text``)."""
        return cast(OutputT, self.typed_output if self.has_typed_output else self.text)

    @property
    def text(self) -> str:
        """The text of the last step that wrote any non-blank text (fantasy's ``finalResponse``)."""
        for step in reversed(self.steps):
            text = step.text
            if text.strip():
                return text
        return ""

    @property
    def total_usage(self) -> Usage:
        """Token counts summed over all steps."""
        total = Usage()
        for step in self.steps:
            total = total + step.usage
        return total

    @property
    def total_cost(self) -> float | None:
        """Reported cost summed over all steps; ``None`` when no step reported a cost.

        Only some providers report a cost (OpenRouter's ``usage.cost``); ``None`` says "not
        reported", where ``0`` would look free.
        """
        reported = [step.cost for step in self.steps if _reports_cost(step)]
        return sum(reported) if reported else None

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


def _reports_cost(step: StepResult) -> bool:
    return any(_cost_of(values) is not None for values in step.provider_metadata.values())


def _cost_of(values: Mapping[str, Any]) -> float | None:
    cost = values.get("cost")
    return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else None

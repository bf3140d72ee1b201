"""The agent loop's decisions, as pure code shared by the sync and async runners.

``StepBuilder`` folds a stream of parts (or a whole ``Response``) into a step's content;
``RunState`` tracks the conversation across steps; stop conditions, the next call, the
step's messages and the final text are computed here. The runners in ``_async``/``_sync``
only wait: on the model, on tools, on retry delays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from reverie._content import (
    CallWarning,
    ContentPart,
    FilePart,
    FinishReason,
    Message,
    ProviderMetadata,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
    merge_metadata,
)
from reverie._model import Call, LanguageModel, Response, ToolChoice
from reverie._parts import (
    FinishPart,
    ModelStreamPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningStartPart,
    StreamStartPart,
    TextDeltaPart,
)
from reverie._retry import RetryPolicy
from reverie._tool import Tool


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
    provider: str = ""
    response_id: str | None = None

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
        return sum(_cost_of(values) for values in self.provider_metadata.values())


@dataclass(slots=True, kw_only=True)
class AgentResult:
    """The outcome of a whole run."""

    steps: list[StepResult]

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
    def total_cost(self) -> float:
        """Reported cost summed over all steps."""
        return sum(step.cost for step in self.steps)

    @property
    def finish_reason(self) -> FinishReason:
        """Why the last step ended."""
        return self.steps[-1].finish_reason if self.steps else "unknown"

    @property
    def response_messages(self) -> list[Message]:
        """The messages the run added to the conversation, to continue it later."""
        return [message for step in self.steps for message in step.messages]

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        """Every tool call of the run."""
        return [call for step in self.steps for call in step.tool_calls]


StopCondition: TypeAlias = Callable[[Sequence[StepResult]], bool]
"""Called after each step with all steps so far; ``True`` ends the run."""


def step_count_is(count: int) -> StopCondition:
    """Stop once ``count`` steps have run."""
    return lambda steps: len(steps) >= count


def has_tool_call(*names: str) -> StopCondition:
    """Stop after a step that called any of the named tools."""
    return lambda steps: bool(steps) and any(call.tool_name in names for call in steps[-1].tool_calls)


def finish_reason_is(*reasons: FinishReason) -> StopCondition:
    """Stop after a step that ended for one of ``reasons``."""
    return lambda steps: bool(steps) and steps[-1].finish_reason in reasons


def max_tokens_used(limit: int) -> StopCondition:
    """Stop once the run's total tokens reach ``limit``."""
    return lambda steps: sum(step.usage.total_tokens for step in steps) >= limit


@dataclass(slots=True, kw_only=True)
class StepOverrides:
    """What ``prepare_step`` may change for one step; ``None`` keeps the run's value."""

    model: LanguageModel | None = None
    messages: list[Message] | None = None
    """Replaces the whole prompt of this step (system message included)."""
    tools: Sequence[Tool[..., Any]] | None = None
    tool_choice: ToolChoice | None = None
    provider_options: dict[str, Any] | None = None


@dataclass(slots=True, frozen=True)
class StepContext:
    """What ``prepare_step`` sees."""

    step_number: int
    steps: Sequence[StepResult]
    messages: list[Message]
    model: LanguageModel


PrepareStep: TypeAlias = Callable[[StepContext], StepOverrides | None]
RepairToolCall: TypeAlias = Callable[[ToolCallPart, str], ToolCallPart | None]
"""Given an invalid call and its error, return a fixed call (or ``None`` to keep it invalid)."""


@dataclass(slots=True, kw_only=True)
class Callbacks:
    """Hooks called during a run; each is a plain (sync) function."""

    on_step_start: Callable[[int], None] | None = None
    on_step_finish: Callable[[StepResult], None] | None = None
    on_text_delta: Callable[[str], None] | None = None
    on_reasoning_delta: Callable[[str], None] | None = None
    on_tool_call: Callable[[ToolCallPart], None] | None = None
    on_tool_result: Callable[[ToolResultPart], None] | None = None
    on_retry: Callable[[Any], None] | None = None
    on_finish: Callable[[AgentResult], None] | None = None


@dataclass(slots=True, kw_only=True)
class RunConfig:
    """Everything one run needs, resolved from the agent and the call's arguments."""

    model: LanguageModel
    messages: list[Message]
    tools: Sequence[Tool[..., Any]]
    call_template: Call
    retry: RetryPolicy
    max_steps: int
    stop_when: Sequence[StopCondition]
    prepare_step: PrepareStep | None
    repair_tool_call: RepairToolCall | None
    callbacks: Callbacks


@dataclass(slots=True, kw_only=True)
class PlannedStep:
    """The model, call and tools of the next step."""

    model: LanguageModel
    call: Call
    tools: Mapping[str, Tool[..., Any]]


class RunState:
    """The conversation so far and the finished steps."""

    __slots__ = ("config", "messages", "result", "steps")

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.messages: list[Message] = list(config.messages)
        self.steps: list[StepResult] = []
        self.result: AgentResult | None = None

    def plan_step(self) -> PlannedStep:
        """Apply ``prepare_step`` and build the next call."""
        config = self.config
        model, messages, tools = config.model, self.messages, config.tools
        template = config.call_template
        tool_choice, provider_options = template.tool_choice, template.provider_options
        if config.prepare_step is not None:
            # Snapshots: a context kept (or changed) by the hook must not alias the run's state.
            context = StepContext(
                step_number=len(self.steps), steps=tuple(self.steps), messages=list(messages), model=model
            )
            overrides = config.prepare_step(context)
            if overrides is not None:
                model = overrides.model or model
                messages = overrides.messages if overrides.messages is not None else messages
                tools = overrides.tools if overrides.tools is not None else tools
                tool_choice = overrides.tool_choice if overrides.tool_choice is not None else tool_choice
                if overrides.provider_options is not None:
                    provider_options = overrides.provider_options
        call = Call(
            prompt=messages,
            tools=[item.definition() for item in tools],
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
        )
        return PlannedStep(model=model, call=call, tools={item.name: item for item in tools})

    def finish_step(self, step: StepResult) -> bool:
        """Record ``step``; return whether the run goes on."""
        self.steps.append(step)
        self.messages = [*self.messages, *step.messages]
        calls = [call for call in step.tool_calls if not call.provider_executed]
        if not calls or len(step.tool_results) < len(calls):
            return False
        if len(self.steps) >= self.config.max_steps:
            return False
        return not any(condition(self.steps) for condition in self.config.stop_when)

    def finish_run(self) -> AgentResult:
        """The run's result."""
        self.result = AgentResult(steps=self.steps)
        return self.result


class StepBuilder:
    """Folds one step's stream parts (or ``Response``) into content, usage and finish reason."""

    __slots__ = ("_content", "_finish", "_reasoning", "_texts", "usage", "warnings")

    def __init__(self) -> None:
        self._content: list[ContentPart | tuple[str, str]] = []
        self._texts: dict[str, list[str]] = {}
        self._reasoning: dict[str, tuple[list[str], ProviderMetadata]] = {}
        self._finish: tuple[FinishReason, ProviderMetadata] | None = None
        self.usage = Usage()
        self.warnings: list[CallWarning] = []

    def add(self, part: ModelStreamPart) -> None:
        """Fold in one model stream part."""
        if isinstance(part, TextDeltaPart):
            pieces = self._texts.get(part.id)
            if pieces is None:
                pieces = self._texts[part.id] = []
                self._content.append(("text", part.id))
            pieces.append(part.delta)
        elif isinstance(part, ReasoningStartPart | ReasoningDeltaPart | ReasoningEndPart):
            entry = self._reasoning.get(part.id)
            if entry is None:
                entry = self._reasoning[part.id] = ([], {})
                self._content.append(("reasoning", part.id))
            if isinstance(part, ReasoningDeltaPart) and part.delta:
                entry[0].append(part.delta)
            merge_metadata(entry[1], part.provider_metadata)
        elif isinstance(part, ToolCallPart | SourcePart | FilePart):
            self._content.append(part)
        elif isinstance(part, FinishPart):
            self._finish = (part.finish_reason, part.provider_metadata)
            self.usage = part.usage
        elif isinstance(part, StreamStartPart):
            self.warnings.extend(part.warnings)

    def add_response(
        self, response: Response, *, check_call: Callable[[ToolCallPart], ToolCallPart] | None = None
    ) -> None:
        """Take a whole non-streaming response; ``check_call`` validates its tool calls (not in place)."""
        for part in response.content:
            if check_call is not None and isinstance(part, ToolCallPart):
                part = check_call(part)
            self._content.append(part)
        self._finish = (response.finish_reason, response.provider_metadata)
        self.usage = response.usage
        self.warnings.extend(response.warnings)

    @property
    def finished(self) -> bool:
        """Whether the finish part (or a response) arrived."""
        return self._finish is not None

    def content(self) -> list[ContentPart]:
        """The content so far, text and reasoning joined per block."""
        content: list[ContentPart] = []
        for item in self._content:
            if isinstance(item, tuple):
                kind, key = item
                if kind == "text":
                    content.append(TextPart(text="".join(self._texts[key])))
                else:
                    pieces, metadata = self._reasoning[key]
                    content.append(ReasoningPart(text="".join(pieces), provider_metadata=metadata))
            else:
                content.append(item)
        return content

    def build(
        self, *, step_number: int, model: LanguageModel, tool_results: Sequence[ToolResultPart] = ()
    ) -> StepResult:
        """The step, with the tool results appended and its messages derived."""
        content = self.content()
        finish_reason, metadata = self._finish or ("unknown", {})
        messages: list[Message] = []
        assistant: list[ContentPart] = [part for part in content if not isinstance(part, ToolResultPart)]
        if assistant:
            messages.append(Message(role="assistant", content=assistant))
        if tool_results:
            messages.append(Message(role="tool", content=list(tool_results)))
        return StepResult(
            step_number=step_number,
            content=[*content, *tool_results],
            finish_reason=finish_reason,
            usage=self.usage,
            messages=messages,
            provider_metadata=metadata,
            warnings=list(self.warnings),
            model_id=model.model_id,
            provider=model.provider,
        )


def _cost_of(values: Mapping[str, Any]) -> float:
    cost = values.get("cost")
    return float(cost) if isinstance(cost, int | float) and not isinstance(cost, bool) else 0.0

"""Stream parts: what a model stream and an agent stream yield.

Names follow the Vercel AI SDK's noun_action rule in snake_case. A model stream yields
``stream_start``, the ``text_*``/``reasoning_*``/``tool_input_*`` triples keyed by ``id``,
``tool_call``, ``tool_result`` (of a tool the provider executed), ``source``, ``file`` and
``finish``, after a ``rate_limit_wait`` when the request first waited over a second for its
rate limiter. The agent stream forwards those (except the model's ``finish``) and adds
``step_start``, ``tool_result``, ``step_finish``, ``retry`` (with a ``Discarded`` summary of
the failed attempt) and a final ``finish`` carrying the run's total usage.

Errors are raised by the iterator, never yielded as parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from reverie._content import (
    CallWarning,
    FilePart,
    FinishReason,
    ProviderMetadata,
    SourcePart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from reverie._record import FrozenRecord, Record

if not TYPE_CHECKING:
    from reverie._record import frozen_dataclass
else:  # last: type checkers and the docs see @dataclass itself (see reverie._record)
    from dataclasses import dataclass as frozen_dataclass

if TYPE_CHECKING:
    from reverie._errors import ReverieError
    from reverie._results import StepResult


def _metadata() -> ProviderMetadata:
    return {}


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class StreamStartPart(Record):
    """Opens a model stream; carries the warnings of the request."""

    warnings: list[CallWarning] = field(default_factory=list[CallWarning])
    type: Literal["stream_start"] = "stream_start"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class TextStartPart(Record):
    """A text block with this ``id`` begins."""

    id: str
    provider_metadata: ProviderMetadata = field(default_factory=_metadata)
    type: Literal["text_start"] = "text_start"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class TextDeltaPart(Record):
    """More text for the block ``id``."""

    id: str
    delta: str
    type: Literal["text_delta"] = "text_delta"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class TextEndPart(Record):
    """The text block ``id`` is complete."""

    id: str
    provider_metadata: ProviderMetadata = field(default_factory=_metadata)
    type: Literal["text_end"] = "text_end"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ReasoningStartPart(Record):
    """A reasoning block with this ``id`` begins."""

    id: str
    provider_metadata: ProviderMetadata = field(default_factory=_metadata)
    type: Literal["reasoning_start"] = "reasoning_start"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ReasoningDeltaPart(Record):
    """More reasoning text (or metadata such as a signature) for the block ``id``."""

    id: str
    delta: str
    provider_metadata: ProviderMetadata = field(default_factory=_metadata)
    type: Literal["reasoning_delta"] = "reasoning_delta"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ReasoningEndPart(Record):
    """The reasoning block ``id`` is complete."""

    id: str
    provider_metadata: ProviderMetadata = field(default_factory=_metadata)
    type: Literal["reasoning_end"] = "reasoning_end"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolInputStartPart(Record):
    """The model starts writing the input of a call of ``tool_name``; ``id`` is the call id."""

    id: str
    tool_name: str
    type: Literal["tool_input_start"] = "tool_input_start"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolInputDeltaPart(Record):
    """A fragment of the JSON input of the call ``id``."""

    id: str
    delta: str
    type: Literal["tool_input_delta"] = "tool_input_delta"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolInputEndPart(Record):
    """The input of the call ``id`` is complete; a ``tool_call`` part follows."""

    id: str
    type: Literal["tool_input_end"] = "tool_input_end"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class FinishPart(Record):
    """Ends a model stream (per call) or an agent stream (``usage`` is then the run's total)."""

    finish_reason: FinishReason
    usage: Usage
    provider_metadata: ProviderMetadata = field(default_factory=_metadata)
    response_id: str | None = None
    """The id the server gave the response (``None`` if it sent none, and on an agent stream's finish)."""
    model_id: str | None = None
    """The model that answered, as the server names it (may differ from the requested id)."""
    type: Literal["finish"] = "finish"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class RateLimitWaitPart(Record):
    """The request waits ``seconds`` for its provider's ``RateLimiter`` before it is sent.

    Only waits longer than a second are shown (shorter ones are not worth a part). It comes
    before the model stream's ``stream_start``, and an agent stream forwards it; it is not
    content, so a retry never lists it as discarded.
    """

    seconds: float
    type: Literal["rate_limit_wait"] = "rate_limit_wait"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class StepStartPart(Record):
    """The agent starts step ``step_number`` (0-based)."""

    step_number: int
    type: Literal["step_start"] = "step_start"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class StepFinishPart(Record):
    """The agent finished a step, including running its tools."""

    step_number: int
    step: StepResult
    finish_reason: FinishReason
    usage: Usage
    provider_metadata: ProviderMetadata = field(default_factory=_metadata)
    type: Literal["step_finish"] = "step_finish"


@frozen_dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class Discarded(FrozenRecord):
    """What the failed attempt of a step had streamed, which a ``retry`` part discards.

    The failed attempt's parts are the model stream parts the agent stream yielded since the
    step's ``step_start`` part (or the previous ``retry`` part of the step): the last
    ``parts`` model stream parts before the ``retry`` part. This value says how many there
    were and what they carried, without keeping the part objects themselves, so a long
    stream's memory does not grow with its number of chunks. It is false when nothing was
    streamed before the failure.
    """

    parts: int = 0
    """How many model stream parts of the failed attempt the stream had yielded."""
    text: str = ""
    """The text those parts carried (every text block of the attempt, joined)."""
    reasoning: str = ""
    """The reasoning text those parts carried (every reasoning block, joined)."""
    tool_calls: int = 0
    """How many complete tool calls (``tool_call`` parts) were among them."""

    def __bool__(self) -> bool:
        return self.parts > 0


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class RetryPart(Record):
    """The current step failed and starts over after ``delay`` seconds, on ``model``.

    Every part of the failed attempt (``discarded`` says how many, and their text) must be
    forgotten by the consumer: the new attempt streams its own parts from the beginning. The
    new attempt goes to the same model (a retry) or, with a ``FallbackModel``, to the next one (at once).
    A direct ``stream`` call on a ``FallbackModel`` yields it too, with ``step_number`` 0.
    """

    step_number: int
    attempt: int
    """1 for the first retry (failures so far in the step, every model's)."""
    delay: float
    error: ReverieError
    discarded: Discarded
    """What the failed attempt had streamed (counts and text, not the parts)."""
    model: str
    """The model id of the next attempt (``StepResult.model_id`` if it answers)."""
    provider: str
    """The provider of the next attempt's model."""
    type: Literal["retry"] = "retry"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class OutputPart(Record):
    """The agent's typed output parsed so far (plain JSON values); emitted only when it changed.

    The last one of a run equals the validated ``AgentResult.output`` as plain JSON.
    """

    object: Any
    type: Literal["output"] = "output"


ModelStreamPart: TypeAlias = (
    StreamStartPart
    | TextStartPart
    | TextDeltaPart
    | TextEndPart
    | ReasoningStartPart
    | ReasoningDeltaPart
    | ReasoningEndPart
    | ToolInputStartPart
    | ToolInputDeltaPart
    | ToolInputEndPart
    | ToolCallPart
    | ToolResultPart
    | SourcePart
    | FilePart
    | FinishPart
    | RateLimitWaitPart
)
"""What a language model's ``stream`` yields."""

AgentStreamPart: TypeAlias = (
    ModelStreamPart | StepStartPart | StepFinishPart | ToolResultPart | RetryPart | OutputPart
)
"""What an agent stream yields."""

"""Content parts, messages and usage: the pure data every other layer speaks.

These are plain slotted dataclasses with no validation, because they sit on the hot
streaming path. Providers translate them to and from their wire formats; the agent
loop folds them into steps. Nothing here performs I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from reverie._record import FrozenRecord, Record

if not TYPE_CHECKING:
    from reverie._record import frozen_dataclass
else:  # last: type checkers and the docs see @dataclass itself (see reverie._record)
    from dataclasses import dataclass as frozen_dataclass

ProviderMetadata: TypeAlias = dict[str, dict[str, Any]]
"""Provider-specific data keyed by provider name, e.g. ``{"anthropic": {"signature": "..."}}``."""

FinishReason: TypeAlias = Literal[
    "stop", "length", "content_filter", "tool_calls", "error", "other", "unknown"
]
"""Why the model stopped generating (the Vercel AI SDK's unified set)."""

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class TextPart(Record):
    """Text produced by the model or sent by the user."""

    text: str
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    """Provider-specific data returned with this part."""
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    """Provider-specific options sent with this part (e.g. cache markers)."""
    type: Literal["text"] = "text"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ReasoningPart(Record):
    """Reasoning ("thinking") produced by the model.

    Providers that sign their reasoning keep the signature in ``provider_metadata``
    (``["anthropic"]["signature"]``) so that it can be sent back on the next step.
    """

    text: str
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    type: Literal["reasoning"] = "reasoning"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolCallPart(Record):
    """A call of a tool requested by the model."""

    tool_call_id: str
    """The provider's id for this call, echoed back unchanged with the result."""
    tool_name: str
    input: str
    """The arguments as the exact JSON text the model produced (never re-serialised)."""
    invalid: bool = False
    """True when the tool is unknown or the input failed to parse or validate."""
    error: str | None = None
    """Why the call is invalid, when it is."""
    provider_executed: bool = False
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    type: Literal["tool_call"] = "tool_call"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class ToolResultPart(Record):
    """The outcome of running a tool, sent back to the model."""

    tool_call_id: str
    tool_name: str
    output: str
    """The text the model receives: a ``str`` return as is, anything else as JSON."""
    is_error: bool = False
    provider_executed: bool = False
    """True for the result of a tool the provider ran (it stays in the assistant's turn)."""
    media: FilePart | None = None
    """A file the tool returned (a screenshot, a PDF), sent after ``output`` where the provider
    accepts files in tool results; elsewhere a placeholder and a ``CallWarning``."""
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    type: Literal["tool_result"] = "tool_result"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class FilePart(Record):
    """Binary content (an image, a document) with its media type."""

    data: bytes
    media_type: str
    filename: str | None = None
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    type: Literal["file"] = "file"


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class SourcePart(Record):
    """A source the model cited (URL or document)."""

    id: str
    url: str | None = None
    title: str | None = None
    source_type: Literal["url", "document"] = "url"
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    type: Literal["source"] = "source"


ContentPart: TypeAlias = TextPart | ReasoningPart | ToolCallPart | ToolResultPart | FilePart | SourcePart


# Weakly referenceable: an agent keeps a message's encoded form while the message lives.
@dataclass(slots=True, kw_only=True, weakref_slot=True, repr=False, eq=False)
class Message(Record):
    """One turn of a conversation."""

    role: Role
    content: list[ContentPart]
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])

    @classmethod
    def system(cls, text: str) -> Message:
        """A system message holding ``text``."""
        return cls(role="system", content=[TextPart(text=text)])

    @classmethod
    def user(cls, text: str, *files: FilePart) -> Message:
        """A user message holding ``text`` and optional files."""
        return cls(role="user", content=[TextPart(text=text), *files])

    @classmethod
    def assistant(cls, text: str) -> Message:
        """An assistant message holding ``text``."""
        return cls(role="assistant", content=[TextPart(text=text)])

    @property
    def text(self) -> str:
        """The concatenated text parts of this message."""
        return "".join(part.text for part in self.content if isinstance(part, TextPart))


# Not frozen_dataclass: a few are made on every step, where its __init__ would cost more.
@dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class Usage(FrozenRecord):
    """Token counts of one call or, summed, of a whole run."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cache_creation_tokens=self.cache_creation_tokens + other.cache_creation_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
        )


@frozen_dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class CallWarning(FrozenRecord):
    """A setting the provider does not support and therefore ignored."""

    setting: str
    message: str


def merge_metadata(target: ProviderMetadata, extra: ProviderMetadata) -> None:
    """Merge ``extra`` into ``target`` in place, one provider key at a time.

    Lists are concatenated (streamed ``reasoning_details`` arrive in pieces); other values
    are replaced by the later one (a streamed signature arrives whole).
    """
    for provider, values in extra.items():
        existing = target.setdefault(provider, {})
        for key, value in values.items():
            previous = existing.get(key)
            if isinstance(value, list) and isinstance(previous, list):
                existing[key] = [*cast(list[Any], previous), *cast(list[Any], value)]
            else:
                existing[key] = value

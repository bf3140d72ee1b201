"""The language-model protocol: one call in, one response or a stream of parts out.

A ``Call`` is everything a provider needs to build one request; a ``Response`` is what
one non-streaming request returned. ``LanguageModel`` is the seam between the agent and
the providers (and ``reverie.testing.MockModel``). No I/O here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, runtime_checkable

from reverie._content import CallWarning, ContentPart, FinishReason, Message, ProviderMetadata, Usage
from reverie._parts import ModelStreamPart, RetryPart
from reverie._record import FrozenRecord, Record

if not TYPE_CHECKING:
    from reverie._record import frozen_dataclass
else:  # last: type checkers and the docs see @dataclass itself (see reverie._record)
    from dataclasses import dataclass as frozen_dataclass

if TYPE_CHECKING:
    from reverie._wire_cache import WireCache

ToolChoice: TypeAlias = Literal["auto", "none", "required"] | str
"""``"auto"``, ``"none"``, ``"required"`` (some tool must be called) or the name of one tool."""


@frozen_dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class ToolDefinition(FrozenRecord):
    """A tool as the model sees it: name, description and JSON schema of the input."""

    name: str
    description: str
    parameters: dict[str, Any]
    provider_options: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])


@frozen_dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class ProviderTool(FrozenRecord):
    """A tool the provider defines (web search, computer use), made by a provider's factory.

    It is sent by the codec of the provider named in ``id`` (``"anthropic.web_search_20250305"``);
    every other codec raises a ``UserError`` naming it. Most such tools are run by the provider
    itself, which returns their calls and results (``provider_executed=True``) in the same
    answer. A few, like computer use, are run by the client: in an ``Agent`` their ``run``
    callable receives the model's input as a dict and returns a ``str`` or a ``FilePart``.

    Attributes:
        id: ``"<provider>.<type>"``, e.g. ``"anthropic.computer_20250124"``.
        name: The name the model calls it by (``"web_search"``, ``"computer"``).
        args: The tool's settings, as the provider's wire spells them.
        run: For a tool the client executes: called with the model's input in an ``Agent``.
    """

    id: str
    name: str
    args: Mapping[str, Any] = field(default_factory=dict[str, Any])
    run: Callable[[dict[str, Any]], Any] | None = field(default=None, compare=False, repr=False)

    @property
    def provider(self) -> str:
        """The provider whose codec sends this tool (the part of ``id`` before the first dot)."""
        return self.id.partition(".")[0]


@frozen_dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class ResponseFormat(FrozenRecord):
    """A request for a JSON reply that matches ``schema`` (the provider's native JSON-schema output).

    Codecs whose provider has native structured output encode it (OpenAI chat
    ``response_format``, Gemini ``responseJsonSchema``); the others never receive one.
    """

    schema: dict[str, Any]
    """The JSON schema, without ``title`` keys and with ``$defs`` inlined."""
    name: str
    """The schema's name (OpenAI requires one)."""
    description: str | None = None


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Call(Record):
    """Everything one model request carries."""

    prompt: list[Message]
    tools: list[ToolDefinition | ProviderTool] = field(default_factory=list[ToolDefinition | ProviderTool])
    """Function tools, and provider-defined tools the model's codec sends (others raise ``UserError``)."""
    tool_choice: ToolChoice | None = None
    """``None`` lets the provider decide (the OpenAI family sends ``"auto"`` when tools exist)."""
    max_output_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop_sequences: list[str] | None = None
    seed: int | None = None
    provider_options: dict[str, Any] = field(default_factory=dict[str, Any])
    """Options keyed by provider name: plain dicts or typed ``Options`` instances."""
    headers: dict[str, str] = field(default_factory=dict[str, str])
    response_format: ResponseFormat | None = None
    """Native JSON output matching a schema; ``None`` for free text."""
    timeout: float | None = None
    """Seconds this request may take in all, whole stream included (``None``: no bound
    beyond the HTTP client's own timeouts). Set per attempt by the run (see ``CallSettings``)."""
    wire_cache: WireCache | None = field(default=None, repr=False, compare=False)
    """Set by an agent run: the wire forms of messages and tools its earlier requests encoded,
    for the codec to reuse (``None``: everything is encoded)."""
    deadline_at: float | None = None
    """When the run's ``deadline`` passes, on the monotonic clock of ``reverie._clock``
    (``None``: no deadline). Set per attempt by the run: a rate-limit wait that would end
    after it raises ``DeadlineExceededError`` at once."""


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class Response(Record):
    """The result of one non-streaming model call."""

    content: list[ContentPart]
    finish_reason: FinishReason
    usage: Usage
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    warnings: list[CallWarning] = field(default_factory=list[CallWarning])
    response_id: str | None = None
    model_id: str | None = None


@runtime_checkable
class LanguageModel(Protocol):
    """A model that can answer a ``Call``, whole or streamed, sync or async."""

    @property
    def provider(self) -> str:
        """Provider name, also the key of its ``provider_options`` and ``provider_metadata``."""
        ...

    @property
    def model_id(self) -> str:
        """The provider's model identifier."""
        ...

    def generate(self, call: Call) -> Response:
        """Answer ``call`` in one response."""
        ...

    def stream(self, call: Call) -> Iterator[ModelStreamPart | RetryPart]:
        """Answer ``call`` as a stream of parts ending with a ``finish`` part.

        A model that starts its answer over by itself (a ``FallbackModel`` whose model
        failed mid-stream) yields a ``retry`` part first: forget the parts before it.
        Provider models never do.
        """
        ...

    async def generate_async(self, call: Call) -> Response:
        """Async ``generate``."""
        ...

    def stream_async(self, call: Call) -> AsyncIterator[ModelStreamPart | RetryPart]:
        """Async ``stream``."""
        ...

"""``StepBuilder``: folds one model call's stream parts (or whole ``Response``) into a step.

It keeps content in the order the model produced it, joins text and reasoning per block
with their provider metadata (signatures), takes usage, finish reason, response id and
model from the finish part or the response, and derives the step's messages: a
provider-executed tool result stays in the assistant turn, the results of tools the run
executed go in a tool message.

It keeps only what the step's result needs, never the delta parts: each block's text is
written into a ``TextBuffer``, which grows one string in place as the pieces come, so a
stream of many small chunks costs the memory of its text, not of its chunks. Tool input deltas
are not kept at all (the ``tool_call`` part carries the whole input).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
from reverie._model import LanguageModel, Response
from reverie._parts import (
    FinishPart,
    ModelStreamPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningStartPart,
    StreamStartPart,
    TextDeltaPart,
    TextEndPart,
    TextStartPart,
)
from reverie._results import StepResult
from reverie._text_buffer import TextBuffer

# Made once: ``A | B`` in ``isinstance`` builds a union on every call (every stream part).
_TEXT_EDGES = (TextStartPart, TextEndPart)
_REASONING_PARTS = (ReasoningStartPart, ReasoningDeltaPart, ReasoningEndPart)
_KEPT_PARTS = (ToolCallPart, ToolResultPart, SourcePart, FilePart)
_NO_USAGE = Usage()
"""A step's usage until its finish part comes (one shared instance: ``Usage`` is frozen)."""
_Block = tuple[TextBuffer, ProviderMetadata]
"""The text of a text or reasoning block so far and the metadata its parts carried."""


def _write_nowhere(text: str) -> None:
    raise AssertionError("write_last_text is only called for block last_text_id")


class StepBuilder:
    """Folds one step's stream parts (or ``Response``) into content, usage and finish reason."""

    __slots__ = (
        "_content",
        "_finish",
        "_reasoning",
        "_texts",
        "last_text_id",
        "response_id",
        "response_model_id",
        "usage",
        "warnings",
        "write_last_text",
    )

    def __init__(self) -> None:
        self._content: list[ContentPart | tuple[str, str]] = []
        self._texts: dict[str, _Block] = {}
        self._reasoning: dict[str, _Block] = {}
        self._finish: tuple[FinishReason, ProviderMetadata] | None = None
        self.usage = _NO_USAGE
        self.warnings: list[CallWarning] = []
        self.response_id: str | None = None
        self.response_model_id: str | None = None
        # The per-token path: a text delta for the block the last one went to can be
        # written with ``write_last_text(delta)`` instead of ``add`` (same result, fewer calls).
        self.last_text_id: str | None = None
        """The id of the text block the last text delta went to (``None``: none yet)."""
        self.write_last_text: Callable[[str], None] = _write_nowhere
        """Appends to the text of block ``last_text_id``."""

    def add(self, part: ModelStreamPart) -> None:
        """Fold in one model stream part."""
        if isinstance(part, TextDeltaPart):
            block = self._texts.get(part.id)
            if block is None:
                block = self._open(self._texts, "text", part.id)
            self.last_text_id, self.write_last_text = part.id, block[0].write
            block[0].write(part.delta)
        elif isinstance(part, _TEXT_EDGES):
            # Only metadata (a Gemini signature) opens a block here: an empty block without it
            # would add an empty text part that the next request would send back.
            block = self._texts.get(part.id)
            if block is None and part.provider_metadata:
                block = self._open(self._texts, "text", part.id)
            if block is not None:
                merge_metadata(block[1], part.provider_metadata)
        elif isinstance(part, _REASONING_PARTS):
            block = self._reasoning.get(part.id)
            if block is None:
                block = self._open(self._reasoning, "reasoning", part.id)
            if isinstance(part, ReasoningDeltaPart) and part.delta:
                block[0].write(part.delta)
            merge_metadata(block[1], part.provider_metadata)
        elif isinstance(part, _KEPT_PARTS):
            self._content.append(part)
        elif isinstance(part, FinishPart):
            self._finish = (part.finish_reason, part.provider_metadata)
            self.usage = part.usage
            self.response_id = part.response_id
            self.response_model_id = part.model_id
        elif isinstance(part, StreamStartPart):
            self.warnings.extend(part.warnings)

    def _open(self, blocks: dict[str, _Block], kind: str, key: str) -> _Block:
        block: _Block = (TextBuffer(), {})
        blocks[key] = block
        self._content.append((kind, key))
        return block

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
        self.response_id = response.response_id
        self.response_model_id = response.model_id

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
                    buffer, metadata = self._texts[key]
                    content.append(TextPart(text=buffer.getvalue(), provider_metadata=metadata))
                else:
                    buffer, metadata = self._reasoning[key]
                    content.append(ReasoningPart(text=buffer.getvalue(), provider_metadata=metadata))
            else:
                content.append(item)
        return content

    def build(
        self, *, step_number: int, model: LanguageModel, tool_results: Sequence[ToolResultPart] = ()
    ) -> StepResult:
        """The step, with the run's tool results appended and its messages derived."""
        content = self.content()
        finish_reason, metadata = self._finish or ("unknown", {})
        messages: list[Message] = []
        if content:
            # Everything the model (and the provider, for the tools it ran) produced is its turn.
            messages.append(Message(role="assistant", content=content))
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
            response_id=self.response_id,
            response_model_id=self.response_model_id,
        )


def response_of(step: StepResult) -> Response:
    """The ``Response`` a step's model answer amounts to (its content, finish, usage and ids)."""
    return Response(
        content=list(step.content),
        finish_reason=step.finish_reason,
        usage=step.usage,
        provider_metadata=step.provider_metadata,
        warnings=list(step.warnings),
        response_id=step.response_id,
        model_id=step.response_model_id,
    )

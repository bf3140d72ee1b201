"""``MockModel``: a scripted language model for unit tests of agents.

Script it with responses (one per call, in order), a single response for every call, or
a function of the ``Call``. A script item is a ``Response``, a plain ``str`` (a text
answer), a tuple of stream parts (streamed as given; an exception among them breaks the
stream there, after the parts before it), or an exception (raised). Every
call is recorded in ``calls``. ``generate`` and ``stream`` (sync or async) serve the same
script: a ``Response`` is turned into parts for streaming, and parts are folded into a
``Response`` for ``generate``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, Literal, TypeAlias, cast

from reverie._async.objects import AsyncObjectMethods
from reverie._content import ContentPart, FinishReason, ReasoningPart, TextPart, ToolCallPart, Usage
from reverie._model import Call, Response
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
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
)
from reverie._provider_names import register_provider_name
from reverie._sync.objects import ObjectMethods

__all__ = ["MockModel", "ScriptItem"]

ScriptItem: TypeAlias = Response | str | tuple[ModelStreamPart | BaseException, ...] | BaseException
"""What the model answers to one call."""


class MockModel(ObjectMethods, AsyncObjectMethods):
    """A ``LanguageModel`` that answers from a script and records every call.

    It also has ``generate_object`` / ``stream_object`` (and their ``*_async`` twins):
    script the object as a text reply (modes ``json`` and ``text``) or as a tool call
    named after the schema (mode ``tool``).

    Args:
        script: One item for every call, a list consumed one item per call, or a function
            of the ``Call`` returning an item.
        provider: The provider name it reports (also its ``provider_options`` key).
        model_id: The model id it reports.
        object_mode: What ``generate_object(mode="auto")`` uses: native JSON output
            (``"json"``, a text reply) or a forced tool call (``"tool"``).
        supports_json_output: Whether ``mode="json"`` is allowed (default: when
            ``object_mode`` is ``"json"``, so ``"tool"`` behaves like a provider without
            native JSON output, such as Anthropic).
    """

    def __init__(
        self,
        script: ScriptItem | list[ScriptItem] | Callable[[Call], ScriptItem],
        *,
        provider: str = "mock",
        model_id: str = "mock-model",
        object_mode: Literal["json", "tool"] = "json",
        supports_json_output: bool | None = None,
    ) -> None:
        self._script = script
        self.object_mode: Literal["json", "tool"] = object_mode
        self.supports_json_output = (
            object_mode == "json" if supports_json_output is None else supports_json_output
        )
        self._provider = provider
        register_provider_name(provider)
        self._model_id = model_id
        self.calls: list[Call] = []

    @property
    def provider(self) -> str:
        """The provider name."""
        return self._provider

    @property
    def model_id(self) -> str:
        """The model id."""
        return self._model_id

    def __repr__(self) -> str:
        return f"MockModel(provider={self._provider!r}, model_id={self._model_id!r}, calls={len(self.calls)})"

    @staticmethod
    def text(text: str, *, usage: Usage | None = None, reasoning: str | None = None) -> Response:
        """A response that says ``text`` (after optional ``reasoning``)."""
        content: list[ContentPart] = [ReasoningPart(text=reasoning)] if reasoning else []
        content.append(TextPart(text=text))
        return Response(content=content, finish_reason="stop", usage=usage or Usage())

    @staticmethod
    def tool_calls(*calls: tuple[str, dict[str, Any] | str], usage: Usage | None = None) -> Response:
        """A response calling tools, e.g. ``("weather", {"location": "Rome"})`` (ids ``call_0``, ...)."""
        content: list[ContentPart] = [
            ToolCallPart(
                tool_call_id=f"call_{index}",
                tool_name=name,
                input=arguments if isinstance(arguments, str) else json.dumps(arguments),
            )
            for index, (name, arguments) in enumerate(calls)
        ]
        return Response(content=content, finish_reason="tool_calls", usage=usage or Usage())

    def _next(self, call: Call) -> ScriptItem:
        self.calls.append(call)
        script = self._script
        if isinstance(script, list):
            items = cast(list[ScriptItem], script)
            index = len(self.calls) - 1
            if index >= len(items):
                raise AssertionError(f"MockModel was called {index + 1} times but scripted for {len(items)}")
            return items[index]
        if callable(script) and not isinstance(script, BaseException):
            return script(call)
        return script

    def generate(self, call: Call) -> Response:
        """Answer from the script."""
        return _as_response(self._next(call))

    def stream(self, call: Call) -> Iterator[ModelStreamPart]:
        """Answer from the script, as parts."""
        item = self._next(call)

        def parts() -> Iterator[ModelStreamPart]:
            yield from _as_parts(item)

        return parts()

    async def generate_async(self, call: Call) -> Response:
        """Async ``generate``."""
        return self.generate(call)

    def stream_async(self, call: Call) -> AsyncIterator[ModelStreamPart]:
        """Async ``stream``."""
        parts = self.stream(call)

        async def iterate() -> AsyncIterator[ModelStreamPart]:
            for part in parts:
                yield part

        return iterate()


def _as_response(item: ScriptItem) -> Response:
    if isinstance(item, BaseException):
        raise item
    if isinstance(item, Response):
        return item
    if isinstance(item, str):
        return MockModel.text(item)
    return _fold(item)


def _as_parts(item: ScriptItem) -> Iterator[ModelStreamPart]:
    if isinstance(item, BaseException):
        raise item
    if isinstance(item, str):
        item = MockModel.text(item)
    if not isinstance(item, Response):
        for part in item:
            if isinstance(part, BaseException):
                raise part
            yield part
        return
    yield StreamStartPart(warnings=list(item.warnings))
    for index, part in enumerate(item.content):
        key = str(index)
        if isinstance(part, TextPart):
            yield TextStartPart(id=key)
            yield TextDeltaPart(id=key, delta=part.text)
            yield TextEndPart(id=key)
        elif isinstance(part, ReasoningPart):
            yield ReasoningStartPart(id=key)
            yield ReasoningDeltaPart(id=key, delta=part.text, provider_metadata=part.provider_metadata)
            yield ReasoningEndPart(id=key)
        elif isinstance(part, ToolCallPart):
            yield ToolInputStartPart(id=part.tool_call_id, tool_name=part.tool_name)
            yield ToolInputDeltaPart(id=part.tool_call_id, delta=part.input)
            yield ToolInputEndPart(id=part.tool_call_id)
            yield part
    yield FinishPart(
        finish_reason=item.finish_reason,
        usage=item.usage,
        provider_metadata=item.provider_metadata,
        response_id=item.response_id,
        model_id=item.model_id,
    )


def _fold(parts: Sequence[ModelStreamPart | BaseException]) -> Response:
    texts: list[str] = []
    content: list[ContentPart] = []
    finish: FinishReason = "unknown"
    usage = Usage()
    for part in parts:
        if isinstance(part, BaseException):  # a stream scripted to break: the whole call fails
            raise part
        if part.type == "text_delta":
            texts.append(part.delta)
        elif part.type == "tool_call":
            content.append(part)
        elif part.type == "finish":
            finish, usage = part.finish_reason, part.usage
    if texts:
        content.insert(0, TextPart(text="".join(texts)))
    return Response(content=content, finish_reason=finish, usage=usage)

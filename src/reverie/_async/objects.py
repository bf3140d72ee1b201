"""Typed objects from any language model: ``generate_object_async`` and ``stream_object_async``.

This is the async source; ``reverie/_sync/objects.py`` is generated from it.
``AsyncObjectMethods`` is mixed into every model class (``HttpLanguageModel``,
``reverie.testing.MockModel``) and works through the ``LanguageModel`` protocol alone:
``reverie._objects.plan`` builds the call and reads the reply; this module only sends the
call and feeds the answer back. No retries here: an object call is one model call.
The core loads on the first object call, so importing a provider does not pay for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from reverie._errors import InvalidResponseError, UserError

if TYPE_CHECKING:
    # A dict schema leaves T unsolved: its default makes the result ObjectResult[Any], not Unknown.
    from typing_extensions import TypeVar as DefaultedTypeVar

    from reverie._content import Message
    from reverie._model import LanguageModel
    from reverie._objects.plan import ObjectMode, ObjectPlan
    from reverie._objects.results import ObjectResult, ObjectStreamPart

    T = DefaultedTypeVar("T", default=Any)
else:
    T = TypeVar("T")


class AsyncObjectMethods:
    """``generate_object_async`` and ``stream_object_async`` for a class that is a ``LanguageModel``."""

    async def generate_object_async(
        self: LanguageModel,
        prompt: str | Sequence[Message],
        *,
        schema: type[T] | dict[str, Any],
        schema_name: str | None = None,
        schema_description: str | None = None,
        mode: ObjectMode = "auto",
        max_output_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        provider_options: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> ObjectResult[T]:
        """Ask the model for an object matching ``schema`` and return it validated.

        Args:
            prompt: The user prompt, or the whole conversation.
            schema: A JSON-schema dict (the object stays plain JSON values) or a type
                pydantic can validate (a ``BaseModel``, dataclass, ``TypedDict``,
                ``list[...]``); the object is then an instance of it.
            schema_name: The schema's name (the tool's name in ``tool`` mode); defaults to
                the type's name, or ``"response"`` for a dict.
            schema_description: Sent beside the schema.
            mode: ``"auto"`` (the provider's usual way), ``"json"`` (native JSON-schema
                output), ``"tool"`` (a forced tool call) or ``"text"`` (schema in the prompt).
            max_output_tokens: Upper bound on generated tokens.
            temperature: Sampling temperature.
            top_p: Nucleus sampling.
            top_k: Top-k sampling.
            presence_penalty: Presence penalty.
            frequency_penalty: Frequency penalty.
            provider_options: Options keyed by provider name.
            headers: Extra HTTP headers for this request.

        Raises:
            NoObjectGeneratedError: The reply is not valid JSON or does not fit the schema.
            UserError: ``mode="json"`` on a provider without native JSON output.
        """
        from reverie._objects.plan import ObjectPlan  # loaded on first use, not with every provider

        plan = ObjectPlan.build(
            self,
            prompt,
            schema=schema,
            schema_name=schema_name,
            schema_description=schema_description,
            mode=mode,
            max_output_tokens=max_output_tokens,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            presence_penalty=presence_penalty,
            frequency_penalty=frequency_penalty,
            provider_options=provider_options,
            headers=headers,
        )
        return plan.read_response(await self.generate_async(plan.call))

    def stream_object_async(
        self: LanguageModel,
        prompt: str | Sequence[Message],
        *,
        schema: type[T] | dict[str, Any],
        schema_name: str | None = None,
        schema_description: str | None = None,
        mode: ObjectMode = "auto",
        max_output_tokens: int | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        provider_options: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> AsyncObjectStream[T]:
        """Stream an object matching ``schema``: partial objects as they grow, then the result.

        Takes the arguments of ``generate_object_async``. The request is sent when the
        stream is first iterated; errors (including ``NoObjectGeneratedError``) are raised
        by the iterator.
        """
        from reverie._objects.plan import ObjectPlan  # loaded on first use, not with every provider

        plan = ObjectPlan.build(
            self,
            prompt,
            schema=schema,
            schema_name=schema_name,
            schema_description=schema_description,
            mode=mode,
            max_output_tokens=max_output_tokens,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            presence_penalty=presence_penalty,
            frequency_penalty=frequency_penalty,
            provider_options=provider_options,
            headers=headers,
        )
        return AsyncObjectStream(self, plan)


class AsyncObjectStream(AsyncIterator["ObjectStreamPart"], Generic[T]):
    """The parts of a streamed object: ``object`` (partial), ``text_delta`` and a last ``finish``.

    With a ``FallbackModel`` a ``retry`` part may come between them: the object so far is
    void and the next attempt's parts follow. A ``rate_limit_wait`` part comes before a
    request that waits for its provider's ``RateLimiter`` longer than a second.

    Iterate with ``async for``, then ``await result()`` (which also drains what is left).
    ``aclose()`` (or leaving ``async with``) closes the HTTP response. Nothing is sent
    until the stream is iterated.
    """

    def __init__(self, model: LanguageModel, plan: ObjectPlan) -> None:
        self._model = model
        self._plan = plan
        self._parts: AsyncIterator[ObjectStreamPart] | None = None
        self._result: ObjectResult[T] | None = None

    def _iterator(self) -> AsyncIterator[ObjectStreamPart]:
        if self._parts is None:
            self._parts = self._drive()
        return self._parts

    async def _drive(self) -> AsyncIterator[ObjectStreamPart]:
        fold = self._plan.stream_fold()
        stream = self._model.stream_async(self._plan.call)
        try:
            async for part in stream:
                if part.type == "retry":
                    # The model starts its answer over (a FallbackModel's next attempt): the
                    # consumer drops the partial object, and parsing starts afresh.
                    fold = self._plan.stream_fold()
                    yield part
                    continue
                if part.type == "rate_limit_wait":
                    yield part  # carries no content: shown as every stream shows it
                    continue
                for out in fold.feed(part):
                    yield out
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        if fold.result is None:
            raise InvalidResponseError("the model stream ended without a finish part")
        self._result = fold.result

    def __aiter__(self) -> AsyncIterator[ObjectStreamPart]:
        return self._iterator()

    async def __anext__(self) -> ObjectStreamPart:
        return await self._iterator().__anext__()

    async def result(self) -> ObjectResult[T]:
        """Consume whatever is left of the stream and return the object."""
        async for _ in self._iterator():
            pass
        if self._result is None:
            raise UserError("the stream was closed before it finished; no object is available")
        return self._result

    async def aclose(self) -> None:
        """Stop the stream and release its HTTP response."""
        close = getattr(self._iterator(), "aclose", None)
        if close is not None:
            await close()

    async def __aenter__(self) -> AsyncObjectStream[T]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

"""Fallback across models: which failures move on to the next model, and one step's attempts.

``FallbackChain`` holds a ``FallbackModel``'s models and its rule, with no I/O (the public
class in ``reverie._fallback`` adds the calls). ``Attempts`` keeps the failed attempts of one
step (or of one direct call) and decides, from each new failure, what comes next: the same
model again after the retry policy's delay, the next model at once, or giving up with the
final error. A plain model is a chain of one, so an agent step without fallback takes the
same path and decides exactly what retrying alone decided.

The run machine (``reverie._run.machine``) asks these questions for agent steps;
``FallbackModel``'s own loop (``reverie._async.fallback`` and its generated sync twin) asks
them for direct ``generate``/``stream`` calls. Nothing here performs I/O or waits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, NoReturn, TypeAlias, cast

from reverie._content import ToolCallPart
from reverie._errors import ProviderError, ReverieError
from reverie._model import LanguageModel
from reverie._parts import (
    Discarded,
    ModelStreamPart,
    RateLimitWaitPart,
    ReasoningDeltaPart,
    RetryPart,
    TextDeltaPart,
)
from reverie._record import Record
from reverie._retry import RetryPolicy, final_error, retry_delay
from reverie._text_buffer import TextBuffer

FallbackOn: TypeAlias = Callable[[ReverieError], bool] | tuple[type[BaseException], ...]
"""Which failures move on to the next model: a predicate on the error, or exception types."""

NO_RETRY = RetryPolicy(max_retries=0)
"""A direct call's policy when ``FallbackModel(retry=None)``: move on at the first failure."""

_FINAL_STATUS = frozenset({400, 401, 403})
"""A bad request or bad credentials: another model would be sent the same, so it stops here."""


def moves_on_by_default(error: ReverieError) -> bool:
    """The default rule: whether a failure (after any retries) moves on to the next model.

    A prompt too large for the context window moves on (a bigger-context backup is a common
    setup), even as a 400. Otherwise 400, 401 and 403 stop; retryable failures (429, 408, 409,
    timeouts, broken connections, cut streams) and 5xx move on. Anything else stops (a 404,
    an unreadable answer, a misuse of the library): a backup would hide a mistake to fix.
    """
    if not isinstance(error, ProviderError):
        return False
    if error.is_context_too_large:
        return True
    status = error.status_code
    if status in _FINAL_STATUS:
        return False
    return error.is_retryable or (status is not None and status >= 500)


class FallbackChain:
    """The models a call may go to, in order, and the rule that moves a failure on (no I/O).

    Nested chains are flattened: ``FallbackChain(FallbackChain(a, b), c)`` tries ``a``, ``b``
    and ``c``, under the outer chain's rule.
    """

    __slots__ = ("_moves_on", "fallback_on", "models", "retry")

    def __init__(
        self,
        primary: LanguageModel,
        *fallbacks: LanguageModel,
        fallback_on: FallbackOn | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        models: list[LanguageModel] = []
        for model in (primary, *fallbacks):
            if isinstance(model, FallbackChain):
                models.extend(model.models)
            elif isinstance(model, LanguageModel):  # pyright: ignore[reportUnnecessaryIsInstance]
                models.append(model)
            else:
                raise TypeError(f"FallbackModel takes language models, got {type(model).__name__}")
        if retry is not None and not isinstance(retry, RetryPolicy):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"retry must be a RetryPolicy or None, got {type(retry).__name__}")
        self.models: tuple[LanguageModel, ...] = tuple(models)
        """Every model, the primary first."""
        self.fallback_on: FallbackOn | None = fallback_on
        """The rule given (``None``: ``moves_on_by_default``)."""
        self.retry: RetryPolicy | None = retry
        """How direct calls retry each model before the next (``None``: they move on at once)."""
        self._moves_on = _rule(fallback_on)

    def moves_on(self, error: ReverieError) -> bool:
        """Whether ``error`` (once the model's retries are spent) moves on to the next model."""
        return self._moves_on(error)

    @property
    def provider(self) -> str:
        """``"fallback"``: each step and ``retry`` part names the provider that actually answered."""
        return "fallback"

    @property
    def model_id(self) -> str:
        """Every model as ``provider:model_id``, comma-separated, the primary first."""
        return ",".join(f"{model.provider}:{model.model_id}" for model in self.models)

    @property
    def object_mode(self) -> Literal["json", "tool"]:
        """``"json"`` only when every model has native JSON output: one call must suit them all."""
        from reverie._objects.plan import native_mode  # structured output only

        return "json" if all(native_mode(model) == "json" for model in self.models) else "tool"

    @property
    def supports_json_output(self) -> bool:
        """Whether every model has native JSON-schema output (``mode="json"``)."""
        from reverie._objects.plan import supports_json_output  # structured output only

        return all(supports_json_output(model) for model in self.models)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(model) for model in self.models)})"


def _rule(fallback_on: FallbackOn | None) -> Callable[[ReverieError], bool]:
    if fallback_on is None:
        return moves_on_by_default
    if isinstance(fallback_on, type):
        # One exception type, not in a tuple: a class is callable too, and calling it as a
        # predicate would build an exception (always truthy) instead of testing the error.
        fallback_on = cast(tuple[type[BaseException], ...], (fallback_on,))
    if isinstance(fallback_on, tuple):
        kinds = cast(tuple[type[BaseException], ...], fallback_on)
        for kind in kinds:
            if not (isinstance(kind, type) and issubclass(kind, BaseException)):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise TypeError(f"fallback_on holds {kind!r}, which is no exception type")
        return lambda error: isinstance(error, kinds)
    if not callable(fallback_on):
        raise TypeError("fallback_on must be a predicate on the error or a tuple of exception types")
    return fallback_on


@dataclass(slots=True, repr=False, eq=False)
class NextAttempt(Record):
    """What follows a failure: ``model`` again after ``delay`` seconds, or the next model now.

    Treated as immutable; not frozen because a frozen dataclass costs two more generated
    methods at import.
    """

    model: LanguageModel
    delay: float
    """Seconds to wait first (``0`` when moving on to the next model)."""
    attempt: int
    """The failures of the step so far, every model's (1 for the first retry)."""
    same_model: bool
    """``True``: a retry of the model that failed, after a wait; ``False``: the next model, at once."""

    def announce(self, *, step_number: int, error: ReverieError, discarded: Discarded) -> RetryPart:
        """The ``retry`` part that tells a consumer to drop ``discarded`` before this attempt."""
        return RetryPart(
            step_number=step_number,
            attempt=self.attempt,
            delay=self.delay,
            error=error,
            discarded=discarded,
            model=self.model.model_id,
            provider=self.model.provider,
        )


def first_model(model: LanguageModel | FallbackChain) -> LanguageModel:
    """The model a step's first attempt goes to (``Attempts(model, ...).model`` before any failure)."""
    return model.models[0] if isinstance(model, FallbackChain) else model


class Attempts:
    """The failed attempts of one step over its models, and the decision after each one.

    Each model gets ``policy``'s retries (its delays start over per model); when they are
    spent, or the failure cannot be retried, a failure the chain's rule accepts moves on to
    the next model at once. ``errors`` lists every attempt of every model, in order.
    """

    __slots__ = ("_index", "_models", "_moves_on", "_policy", "_tries", "errors")

    def __init__(self, model: LanguageModel | FallbackChain, policy: RetryPolicy) -> None:
        if isinstance(model, FallbackChain):
            self._models = model.models
            self._moves_on = model.moves_on
        else:
            self._models = (model,)
            self._moves_on = moves_on_by_default  # never asked: a single model has no next one
        self._policy = policy
        self._index = 0
        self._tries: list[ReverieError] = []
        """The failures of the current model (its retries are counted from these)."""
        self.errors: list[ReverieError] = []

    @property
    def model(self) -> LanguageModel:
        """The model the next attempt goes to."""
        return self._models[self._index]

    def failed(self, error: ReverieError, *, now: float | None = None) -> NextAttempt | None:
        """Record ``error``; the attempt that follows, or ``None`` to give up (see ``give_up``).

        ``now`` is the wall clock for an HTTP-date ``retry-after`` (``None``: ``time.time``).
        """
        self.errors.append(error)
        self._tries.append(error)
        delay = retry_delay(self._policy, self._tries, now=now)
        if delay is not None:
            return NextAttempt(model=self.model, delay=delay, attempt=len(self.errors), same_model=True)
        if self._index + 1 < len(self._models) and self._moves_on(error):
            self._index += 1
            self._tries = []
            return NextAttempt(model=self.model, delay=0.0, attempt=len(self.errors), same_model=False)
        return None

    def give_up(self, error: ReverieError) -> NoReturn:
        """Raise the final error after ``failed`` returned ``None`` for ``error``.

        A single attempt raises its own error; several (retries, or other models: a
        fallback is an attempt too) raise a ``RetryError`` holding them all, from ``error``.
        """
        failure = final_error(self._policy, self.errors)
        if failure is error:
            raise error
        raise failure from error


class StreamTally:
    """What a direct stream's current attempt has yielded, as a ``Discarded`` if it fails.

    Counts and text only, not the parts, so a long stream's memory does not grow with its
    number of chunks (the run machine gets the same from its step builder).
    """

    __slots__ = ("_reasoning", "_text", "parts", "tool_calls")

    def __init__(self) -> None:
        self.parts = 0
        self.tool_calls = 0
        self._text = TextBuffer()
        self._reasoning = TextBuffer()

    def add(self, part: ModelStreamPart) -> None:
        """Count ``part``, keeping the text it carries (a ``rate_limit_wait`` is no content)."""
        if type(part) is RateLimitWaitPart:
            return
        self.parts += 1
        if isinstance(part, TextDeltaPart):
            self._text.write(part.delta)
        elif isinstance(part, ReasoningDeltaPart):
            self._reasoning.write(part.delta)
        elif isinstance(part, ToolCallPart):
            self.tool_calls += 1

    def discarded(self) -> Discarded:
        """The tally as the ``retry`` part reports it."""
        return Discarded(
            parts=self.parts,
            text=self._text.getvalue(),
            reasoning=self._reasoning.getvalue(),
            tool_calls=self.tool_calls,
        )

"""``FallbackModel``: a language model that hands a failed call on to backup models.

It holds no decision of its own: which failures move on and when is ``reverie._run.fallback``
(the same rule for agent steps, where the run machine calls the models one by one, and for
direct calls, made by ``reverie._async.fallback`` and its generated sync twin). This module
only binds those to the ``LanguageModel`` protocol and the object methods.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from reverie._async import fallback as async_fallback
from reverie._async.objects import AsyncObjectMethods
from reverie._model import Call, Response
from reverie._parts import ModelStreamPart, RetryPart
from reverie._run.fallback import FallbackChain
from reverie._sync import fallback as sync_fallback
from reverie._sync.objects import ObjectMethods


class FallbackModel(FallbackChain, ObjectMethods, AsyncObjectMethods):
    """A model that tries ``primary``, then each of ``fallbacks`` in turn, until one answers.

    It is usable wherever a model is: in an ``Agent``, with ``generate_object`` and
    ``stream_object``, and in direct ``generate`` / ``stream`` calls, sync or async.

    In an agent, each model gets the agent's ``RetryPolicy`` before the next one is tried
    (at once, without a wait). In a direct call, ``retry`` plays that part (by default none:
    the next model is tried at the first failure). Every new attempt, on the same model or
    the next, is announced by a ``retry`` part (``model`` and ``provider`` name the model of
    the new attempt, ``discarded`` what the failed one had streamed), and the step's result
    is the answering model's alone (``step.model_id``, ``step.provider``). When every model
    fails, ``RetryError.errors`` lists every attempt of every model, in order.

    Args:
        primary: The model tried first.
        *fallbacks: The backups, in order. A ``FallbackModel`` among the models is
            flattened into the chain (its models join in its place, under this rule).
        fallback_on: Which failures move on, replacing the default rule: a predicate on
            the error, or a tuple of exception types. By default retryable failures (after
            their retries: 429, timeouts, broken connections), 5xx and prompts too large
            for the context window (``is_context_too_large``) move on; 400, 401 and 403 and
            anything else do not.
        retry: How direct calls retry each model before moving on (``None``: not at all).
            Agents use their own ``retry`` instead.

    Example:
        ```python
        model = FallbackModel(
            openai.Provider().language_model("gpt-4.1"),
            anthropic.Provider().language_model("claude-sonnet-4-20250514"),
        )
        result = Agent(model).generate("Hello")
        print(result.steps[-1].provider)  # who answered
        ```
    """

    def generate(self, call: Call) -> Response:
        """The first answer to ``call``; raises the final error when every model failed."""
        return sync_fallback.generate(self, call)

    def stream(self, call: Call) -> Iterator[ModelStreamPart | RetryPart]:
        """Stream the first answer to ``call``.

        When a model fails (mid-stream too) and another attempt follows, a ``retry`` part
        comes first: forget the parts it lists, the new attempt's parts follow.
        """
        return sync_fallback.stream(self, call)

    async def generate_async(self, call: Call) -> Response:
        """Async ``generate``."""
        return await async_fallback.generate(self, call)

    def stream_async(self, call: Call) -> AsyncIterator[ModelStreamPart | RetryPart]:
        """Async ``stream``."""
        return async_fallback.stream(self, call)

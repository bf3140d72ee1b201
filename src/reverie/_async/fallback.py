"""A ``FallbackModel``'s direct calls: try its models in turn, retrying each as its policy says.

This is the async source; ``reverie/_sync/fallback.py`` is generated from it. Whether to
retry, move on or give up is decided by ``reverie._run.fallback.Attempts``, the same code the
run machine asks for agent steps; this module only calls the models, waits the delays and
hands over what they answered. In an agent none of this runs: the machine calls the models
itself, with the agent's retry policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from reverie import _concurrency
from reverie._errors import ReverieError
from reverie._model import Call, Response
from reverie._parts import ModelStreamPart, RetryPart
from reverie._run.fallback import NO_RETRY, Attempts, FallbackChain, StreamTally


async def generate(chain: FallbackChain, call: Call) -> Response:
    """The first answer of ``chain``'s models to ``call``; raises the final error if none answers."""
    attempts = Attempts(chain, chain.retry or NO_RETRY)
    while True:
        try:
            return await attempts.model.generate_async(call)
        except ReverieError as error:
            upcoming = attempts.failed(error)
            if upcoming is None:
                attempts.give_up(error)
        if upcoming.same_model:
            await _concurrency.async_sleep(upcoming.delay)


async def stream(chain: FallbackChain, call: Call) -> AsyncIterator[ModelStreamPart | RetryPart]:
    """Stream the first answer of ``chain``'s models to ``call``.

    A model that fails, even mid-stream, is followed by a ``retry`` part saying what to
    forget (what the failed attempt yielded), then by the next attempt's parts.
    """
    attempts = Attempts(chain, chain.retry or NO_RETRY)
    while True:
        emitted = StreamTally()
        parts = attempts.model.stream_async(call)
        try:
            async for part in parts:
                if isinstance(part, RetryPart):
                    emitted = StreamTally()  # the model started over by itself: what came before is void
                else:
                    emitted.add(part)
                yield part
            return
        except ReverieError as error:
            failure = error
        finally:
            # Close the failed (or abandoned) response before another request goes out.
            await _concurrency.close_stream_async(parts)
        upcoming = attempts.failed(failure)
        if upcoming is None:
            attempts.give_up(failure)
        yield upcoming.announce(step_number=0, error=failure, discarded=emitted.discarded())
        if upcoming.same_model:
            await _concurrency.async_sleep(upcoming.delay)

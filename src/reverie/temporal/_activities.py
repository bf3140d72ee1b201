"""The activities of a Temporal run: one model request, one tool call. They carry out; they decide nothing.

``call_model`` sends a step's request to the agent's model as a stream, heartbeating while
parts arrive (and between them), and returns the assembled ``Response``. A model error
(``ReverieError``) is returned as data, not raised: whether to retry, wait, move to a fallback
model or give up is the run machine's decision, in the workflow (``Run.feed_error``). So
Temporal retries an activity only when the activity itself was lost: its worker died, or a
heartbeat or the attempt's time ran out. An error that is not reverie's (a bug) fails the
activity without a retry, and the run with it, as it would end an in-process run.

``call_tool`` runs one valid call of a step with the agent's tool; what the tool raises
becomes an error result the model reads, as in the in-process driver
(``reverie._run.tools``). A tool may run more than once: when its worker dies mid-call,
Temporal runs it again on another worker.

Temporal is imported here (its ``activity`` module), only by ``reverie.temporal``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from contextlib import suppress
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from reverie import _clock, _concurrency
from reverie._agent import Agent
from reverie._errors import ReverieError, UserError
from reverie._model import Call, LanguageModel, Response
from reverie._parts import RetryPart
from reverie._run.step import StepBuilder, response_of
from reverie._run.tools import error_result, output_result
from reverie.temporal._payloads import (
    JSON,
    call_from_data,
    error_data,
    response_data,
    tool_call_from_data,
    tool_result_data,
)
from reverie.temporal._registry import agent_named, find_model, find_tool

MODEL_ACTIVITY = "reverie.model_request"
"""The name of the model activity type."""
TOOL_ACTIVITY = "reverie.tool_call"
"""The name of the tool activity type."""

T = TypeVar("T")


class Activities:
    """The activities of the runs of ``agents``; their methods are registered with the worker."""

    def __init__(self, agents: Mapping[str, Agent]) -> None:
        self._agents = dict(agents)

    @activity.defn(name=MODEL_ACTIVITY)
    async def call_model(self, request: JSON) -> JSON:
        """Send one model request; ``{"response": ...}``, or ``{"error": ...}`` when the model failed."""
        try:
            agent = self._agent(request)
            model = find_model(agent, request["model"])
            call = call_from_data(
                request["call"], now=_clock.now(), own_headers=agent.settings.get("headers")
            )
            response = await _with_heartbeats(_streamed_response(model, call))
        except ReverieError as error:
            return {"error": error_data(error)}
        except Exception as error:
            raise _not_retried(error) from error
        return {"response": response_data(response)}

    @activity.defn(name=TOOL_ACTIVITY)
    async def call_tool(self, request: JSON) -> Any:
        """Run one tool call of a step; its result (an error result when the tool raised)."""
        try:
            agent = self._agent(request)
            call = tool_call_from_data(request["call"])
        except Exception as error:
            raise _not_retried(error) from error
        found = find_tool(agent, call.tool_name)
        if found is None:
            missing = UserError(f"tool {call.tool_name!r} is not one of agent {request['agent']!r}'s tools")
            return tool_result_data(error_result(call, missing))
        try:
            arguments = found.validate(call.input)
            value = await _with_heartbeats(found.call_async(arguments))
        except Exception as error:  # the model reads the error and the run goes on
            return tool_result_data(error_result(call, error))
        return tool_result_data(output_result(call, value))

    def _agent(self, request: JSON) -> Agent:
        return agent_named(self._agents, str(request["agent"]))


async def _streamed_response(model: LanguageModel, call: Call) -> Response:
    """The model's stream, heartbeating at each part, folded into one ``Response``."""
    builder = StepBuilder()
    stream = model.stream_async(call)
    try:
        async for part in stream:
            activity.heartbeat()
            if isinstance(part, RetryPart):  # a FallbackModel started over: the parts so far are void
                builder = StepBuilder()
                continue
            builder.add(part)
    finally:
        await _concurrency.close_stream_async(stream)
    return response_of(builder.build(step_number=0, model=model))


async def _with_heartbeats(work: Awaitable[T]) -> T:
    """Await ``work`` while heartbeating every third of the heartbeat timeout.

    A request waiting for its first token, or a slow tool, sends no parts; the heartbeats
    say the worker is alive. A worker that dies stops them, and Temporal moves the activity
    to another worker once the heartbeat timeout passes.
    """
    timeout = activity.info().heartbeat_timeout
    if not timeout:
        return await work
    interval = max(timeout.total_seconds() / 3, 0.05)

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval)
            activity.heartbeat()

    ticker = asyncio.create_task(beat())
    try:
        return await work
    finally:
        ticker.cancel()
        with suppress(asyncio.CancelledError):
            await ticker


def _not_retried(error: Exception) -> ApplicationError:
    """An error that is not the model's or the tool's: the activity fails, and Temporal does not retry it."""
    return ApplicationError(str(error) or type(error).__name__, type=type(error).__name__, non_retryable=True)

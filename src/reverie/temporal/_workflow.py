"""The workflow of a Temporal run: the run machine, with activities for its I/O.

The workflow is the in-process driver (``reverie._async.runner``) with each action carried out
the Temporal way: it builds the run from the agent the worker registered under the input's
agent name (``_registry``), asks ``Run.next_action()``, and

- ``CallModel``: runs the model activity and feeds the ``Response`` (``feed_response``) or the
  error it returned (``feed_error``, which decides the retry);
- ``RunTools``: runs a tool activity per valid call (a batch's calls at once) and feeds the
  results in call order; an invalid call's error result is made here, without an activity;
- ``Wait``: ``workflow.sleep`` (a durable timer);
- ``Finish``: returns the ``AgentResult`` as a ``reverie.to_json`` document.

The machine reads workflow time (``workflow.time()`` for its deadline, ``workflow.now()`` for
HTTP-date ``retry-after``), so a replay takes the same decisions. The run is not streamed
(the activity streams, and returns the whole answer): ``on_text_delta`` and
``on_reasoning_delta`` are not called. The other callbacks, ``prepare_step``,
``repair_tool_call`` and the stop conditions run here, in the workflow, again on every
replay: they must be deterministic and do no I/O. Tracing hooks are left out (a replay
would record every span again).

A run that ends with an error (the final model error, a spent budget, a misuse) fails the
workflow with an ``ApplicationError`` whose details hold the error (``_payloads``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any, cast

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from reverie._agent import CallSettings
from reverie._content import Message, ToolResultPart
from reverie._errors import ReverieError
from reverie._run.actions import CallModel, Finish, ToolJob, Wait
from reverie._run.callbacks import adopt_callbacks_async
from reverie._run.hooks import NO_HOOKS
from reverie._run.machine import Run
from reverie._run.tools import invalid_result
from reverie.temporal._activities import MODEL_ACTIVITY, TOOL_ACTIVITY
from reverie.temporal._payloads import (
    JSON,
    call_data,
    document,
    error_data,
    error_from_data,
    read_document,
    response_from_data,
    tool_call_data,
    tool_result_from_data,
)
from reverie.temporal._registry import Served, agent_named, model_key, served

WORKFLOW_NAME = "reverie.AgentRun"
"""The name of the workflow type."""

ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=30)
)
"""Temporal's retry of a lost activity (a dead worker, a heartbeat or attempt timeout), without
limit: an activity that failed for the model's or the tool's reasons does not fail at all (it
returns what happened), so this never repeats what the run machine decided not to retry."""


@workflow.defn(name=WORKFLOW_NAME)
class AgentRunWorkflow:
    """One agent run; its input is what ``reverie.temporal.start_run`` sends."""

    @workflow.run
    async def run(self, request: JSON) -> Any:
        """Run the agent to the end; the ``AgentResult`` as a ``to_json`` document."""
        try:
            bounds = served(workflow.info().task_queue)
            return await _drive(bounds, request)
        except ReverieError as error:
            raise ApplicationError(
                str(error), error_data(error), type=type(error).__name__, non_retryable=True
            ) from None


async def _drive(bounds: Served, request: JSON) -> Any:
    agent_name = str(request["agent"])
    agent = agent_named(bounds.agents, agent_name)
    prompt_messages = request.get("prompt_messages")
    prompt: str | list[Message] | None = (
        read_document(prompt_messages, list[Message])
        if prompt_messages is not None
        else request.get("prompt")
    )
    history = request.get("messages")
    settings = cast(CallSettings, request.get("settings") or {})
    config = agent._config(
        prompt, None if history is None else read_document(history, list[Message]), settings
    )
    config, pending = adopt_callbacks_async(replace(config, hooks=NO_HOOKS))
    run = Run(config, streaming=False, now=lambda: workflow.now().timestamp(), clock=workflow.time)
    while True:
        action = run.next_action()
        await _settle(pending)
        run.events()  # nobody streams a workflow; the events are only let go
        if isinstance(action, Finish):
            if action.error is not None:
                raise action.error
            return document(action.result)
        if isinstance(action, CallModel):
            deadline = action.call.deadline_at
            outcome = await workflow.execute_activity(
                MODEL_ACTIVITY,
                {
                    "agent": agent_name,
                    "model": model_key(action.model),
                    "call": call_data(
                        action.call,
                        deadline_in=None if deadline is None else deadline - workflow.time(),
                        own_headers=agent.settings.get("headers"),
                    ),
                },
                **_activity_options(bounds),
            )
            outcome = cast(JSON, outcome)
            if "error" in outcome:
                run.feed_error(error_from_data(outcome["error"]))  # raises when retrying stops
            else:
                run.feed_response(response_from_data(outcome["response"]))
            await _settle(pending)
        elif isinstance(action, Wait):
            await workflow.sleep(action.seconds)
        else:
            for batch in action.batches:
                results = await asyncio.gather(*(_run_tool(bounds, agent_name, job) for job in batch))
                for result in results:
                    run.feed_tool_result(result)
                    await _settle(pending)
                run.events()


async def _run_tool(bounds: Served, agent_name: str, job: ToolJob) -> ToolResultPart:
    call, prepared = job
    if prepared is None:
        return invalid_result(call)  # decided, not run: no activity
    data = await workflow.execute_activity(
        TOOL_ACTIVITY, {"agent": agent_name, "call": tool_call_data(call)}, **_activity_options(bounds)
    )
    return tool_result_from_data(data)


def _activity_options(bounds: Served) -> dict[str, Any]:
    return {
        "start_to_close_timeout": bounds.activity_timeout,
        "heartbeat_timeout": bounds.heartbeat_timeout,
        "retry_policy": ACTIVITY_RETRY,
    }


async def _settle(pending: list[Any]) -> None:
    """Await what ``async def`` callbacks returned, in order (on the workflow's own loop)."""
    while pending:
        await pending.pop(0)

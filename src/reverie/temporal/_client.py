"""``worker``, ``start_run``, ``get_run``: serve agents on a task queue, start runs and read their results.

``worker`` registers the agents for the task queue (``_registry``) and returns Temporal's
``Worker`` with reverie's workflow and activities, its workflows in Temporal's sandbox with
reverie and the libraries it uses passed through (they are imported once, not per run: the
workflow's logic is reverie's own pure run machine). ``start_run`` starts a workflow whose id
is the run's id; ``RunHandle.result`` waits for it and reads the ``AgentResult`` back.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Literal

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import (
    ApplicationError,
    CancelledError,
    TerminatedError,
    WorkflowAlreadyStartedError,
)
from temporalio.exceptions import (
    TimeoutError as WorkflowTimeoutError,
)
from temporalio.service import RPCError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from reverie import _json
from reverie._agent import SETTING_NAMES, Agent
from reverie._content import Message
from reverie._errors import ReverieError, UserError
from reverie._results import AgentResult
from reverie.temporal._activities import Activities
from reverie.temporal._payloads import document, error_from_data, plain_options, read_document
from reverie.temporal._registry import Served, register
from reverie.temporal._workflow import WORKFLOW_NAME, AgentRunWorkflow

PASSED_THROUGH = (
    "reverie",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "typing_inspection",
    "json_repair",
    "genai_prices",
    "httpx2",
    "anyio",
)
"""Modules the workflow sandbox takes from the worker's process instead of importing per run:
reverie (whose agents the workflow reads from ``_registry``) and what it imports during a run."""

_NOT_SENT = frozenset({"stop_when", "budget", "journal"})
"""Settings that are objects of the worker's process, not data: give them to the ``Agent``
(a Temporal run needs no journal: the workflow's history is its record)."""


def worker(
    client: Client,
    task_queue: str,
    agents: Mapping[str, Agent],
    *,
    activity_timeout: timedelta = timedelta(minutes=10),
    heartbeat_timeout: timedelta = timedelta(seconds=30),
    **options: Any,
) -> Worker:
    """A Temporal worker that runs ``agents`` on ``task_queue``: run it with ``await worker.run()``.

    Every worker of a task queue must serve the same agents under the same names: a run's
    model requests and tool calls may each go to another worker.

    Args:
        client: A connected ``temporalio.client.Client``.
        task_queue: The task queue to poll (``start_run`` names the same one).
        agents: The agents by the names ``start_run`` uses; their models and tools are what the
            activities call.
        activity_timeout: How long one model request or tool call may take (Temporal's
            start-to-close timeout); past it, Temporal runs the activity again.
        heartbeat_timeout: How long an activity may go without a heartbeat; a worker that died
            stops them, and its activity moves to another worker after this long.
        **options: Passed on to ``temporalio.worker.Worker`` (``max_concurrent_activities``, ...).

    Raises:
        UserError: ``agents`` is empty, holds something other than an ``Agent``, or an agent
            with toolsets (which a workflow cannot hold open).
    """
    register(
        task_queue,
        Served(agents=dict(agents), activity_timeout=activity_timeout, heartbeat_timeout=heartbeat_timeout),
    )
    for name in PASSED_THROUGH:  # loaded before the sandbox asks for them, mid-run
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    importlib.import_module("reverie._serialisation")
    activities = Activities(agents)
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[AgentRunWorkflow],
        activities=[activities.call_model, activities.call_tool],
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
        **options,
    )


class TemporalError(ReverieError):
    """Temporal could not start a run or give its outcome (Temporal's error is the ``__cause__``)."""


class RunStoppedError(TemporalError):
    """A run's workflow ended without a result: it was cancelled, terminated or timed out.

    Attributes:
        run_id: The run's id (its workflow's id).
        reason: ``"cancelled"``, ``"terminated"``, ``"timed out"`` or ``"failed"`` (any other end).
    """

    def __init__(self, run_id: str, reason: StopReason) -> None:
        super().__init__(f"run {run_id!r} ended without a result: its workflow was {reason}")
        self.run_id = run_id
        self.reason: StopReason = reason


StopReason = Literal["cancelled", "terminated", "timed out", "failed"]


def _stop_reason(cause: BaseException | None) -> StopReason:
    if isinstance(cause, CancelledError):
        return "cancelled"
    if isinstance(cause, TerminatedError):
        return "terminated"
    if isinstance(cause, WorkflowTimeoutError):
        return "timed out"
    return "failed"


class RunHandle:
    """A run started on Temporal (its workflow): wait for its result, or reach the workflow.

    Attributes:
        run_id: The run's id, which is its workflow's id.
        workflow_handle: Temporal's handle of the workflow (to cancel it, describe it, ...).
    """

    def __init__(self, workflow_handle: WorkflowHandle[Any, Any]) -> None:
        self.workflow_handle = workflow_handle
        self.run_id: str = workflow_handle.id

    def __repr__(self) -> str:
        return f"RunHandle(run_id={self.run_id!r})"

    async def result(self) -> AgentResult[Any]:
        """Wait for the run to end and return its ``AgentResult`` (a typed output as plain JSON).

        Raises:
            ReverieError: the error the run ended with, read back from the workflow's failure: a
                ``ProviderError``, ``RetryError`` or ``DeadlineExceededError`` as such, any
                other as a ``RestoredError`` naming its class.
            RunStoppedError: the workflow ended without a result: cancelled, terminated or timed
                out (``reason`` says which; Temporal's own error is its ``__cause__``).
            TemporalError: Temporal could not give the run's outcome (no such run, the server
                cannot be reached).
        """
        try:
            data = await self.workflow_handle.result()
        except WorkflowFailureError as failure:
            cause = failure.cause
            if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
                raise error_from_data(cause.details[0]) from failure  # pyright: ignore[reportUnknownArgumentType]
            raise RunStoppedError(self.run_id, _stop_reason(cause)) from failure
        except RPCError as error:
            raise TemporalError(
                f"run {self.run_id!r}: Temporal could not give its outcome: {error}"
            ) from error
        return read_document(data, AgentResult)


async def start_run(
    client: Client,
    task_queue: str,
    agent_name: str,
    prompt: str | Sequence[Message] | None = None,
    *,
    run_id: str,
    messages: Sequence[Message] | None = None,
    **settings: Any,
) -> RunHandle:
    """Start a run of the agent a worker serves as ``agent_name``; its handle.

    Args:
        client: A connected ``temporalio.client.Client``.
        task_queue: The task queue the workers poll.
        agent_name: The agent's name in the workers' ``agents``.
        prompt: The user's message (a string) or messages to append.
        run_id: The workflow id: one run per id. An id whose run is running or finished is
            refused (``TemporalError``; ``get_run(client, run_id)`` finds that run); one whose run
            failed, was cancelled or terminated starts again.
        messages: Earlier conversation to continue.
        **settings: Overrides of the agent's settings, as data (``max_steps``, ``temperature``,
            ``deadline``, ...); ``stop_when`` and ``budget`` belong to the ``Agent``.

    Raises:
        UserError: a setting is not data, or there is nothing to send.
        TemporalError: the id names a run that is running or finished, or Temporal cannot be
            reached.
    """
    if prompt is None and not messages:
        raise UserError("nothing to send: pass a prompt or messages")
    request: dict[str, Any] = {
        "agent": agent_name,
        "prompt": prompt if isinstance(prompt, str) else None,
        "prompt_messages": None if prompt is None or isinstance(prompt, str) else document(list(prompt)),
        "messages": None if messages is None else document(list(messages)),
        "settings": _settings_data(settings),
    }
    try:
        handle = await client.start_workflow(
            WORKFLOW_NAME,
            request,
            id=run_id,
            task_queue=task_queue,
            # One id, one answered run (as a journal's run id): an id whose run failed, was
            # cancelled or terminated may start again; one running or finished may not.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
    except WorkflowAlreadyStartedError as error:
        raise TemporalError(
            f"a run with the id {run_id!r} is running or has finished: get its result with "
            f"get_run(client, {run_id!r}), or start this one with another run_id"
        ) from error
    except RPCError as error:
        raise TemporalError(f"could not start run {run_id!r} on Temporal: {error}") from error
    return RunHandle(handle)


def get_run(client: Client, run_id: str) -> RunHandle:
    """The handle of the run started as ``run_id`` (from any process)."""
    return RunHandle(client.get_workflow_handle(run_id))


def _settings_data(settings: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(settings) - SETTING_NAMES)
    if unknown:
        raise UserError(
            f"unknown setting(s): {', '.join(unknown)}; known: {', '.join(sorted(SETTING_NAMES))}"
        )
    sent: dict[str, Any] = {}
    for name, value in settings.items():
        if name in _NOT_SENT:
            raise UserError(
                f"{name} cannot be sent to a Temporal run: give it to the Agent the workers serve"
            )
        if name == "provider_options" and isinstance(value, dict):
            value = {key: plain_options(item) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
        try:
            _json.dumps(value)
        except (TypeError, ValueError):
            raise UserError(f"the setting {name} must be JSON data to reach a Temporal run") from None
        sent[name] = value
    return sent

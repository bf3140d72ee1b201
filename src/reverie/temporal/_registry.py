"""The agents a worker serves, and how a workflow or an activity finds them, their models and tools.

A workflow cannot be handed objects: Temporal builds it from its input, in the sandbox. So
``reverie.temporal.worker`` registers its agents here, per task queue, in this process; the
workflow reads them by the task queue it runs on and the agent's name in its input (this module
is passed through the sandbox, so the workflow sees the very objects the worker was given).
Activities get the worker's agents directly; they find the model of a request by its provider
and model id, and a tool by its name, among the agent's own.

Every worker of a task queue must serve the same agents, made the same way: a run may move
from one worker to another at any activity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from reverie._agent import Agent
from reverie._errors import UserError
from reverie._model import LanguageModel
from reverie._run.fallback import FallbackChain
from reverie._tools.protocol import Tool


@dataclass(frozen=True, slots=True)
class Served:
    """What the workers of one task queue in this process serve, and their activities' bounds."""

    agents: Mapping[str, Agent]
    activity_timeout: timedelta
    heartbeat_timeout: timedelta


_SERVED: dict[str, Served] = {}
"""By task queue: what the latest ``worker(...)`` for it in this process was given."""


def register(task_queue: str, served: Served) -> None:
    """Serve ``served`` on ``task_queue`` (a later worker for the same queue replaces it)."""
    check_agents(served.agents)
    _SERVED[task_queue] = served


def served(task_queue: str) -> Served:
    """What this process serves on ``task_queue``.

    Raises:
        UserError: no worker of this process serves the queue.
    """
    found = _SERVED.get(task_queue)
    if found is None:
        raise UserError(f"no reverie.temporal worker serves task queue {task_queue!r} in this process")
    return found


def agent_named(agents: Mapping[str, Agent], name: str) -> Agent:
    """The agent registered as ``name``.

    Raises:
        UserError: none is (the message lists the names there are).
    """
    agent = agents.get(name)
    if agent is None:
        known = ", ".join(sorted(agents)) or "none"
        raise UserError(f"no agent named {name!r} on this worker; it serves: {known}")
    return agent


def check_agents(agents: Mapping[str, Agent]) -> None:
    """Refuse what a workflow cannot run: no agents, or an agent with toolsets.

    A toolset (an MCP server) is a session the run opens and holds; a workflow can hold
    nothing open across activities, which may each run on another worker.
    """
    if not agents:
        raise UserError("a reverie.temporal worker needs at least one agent")
    for name, agent in agents.items():
        if not isinstance(agent, Agent):  # pyright: ignore[reportUnnecessaryIsInstance] - untyped callers
            raise UserError(f"agents[{name!r}] must be a reverie.Agent; got a {type(agent).__name__}")
        if agent.toolsets:
            raise UserError(
                f"agent {name!r} has toolsets ({', '.join(item.name for item in agent.toolsets)}), "
                "which a Temporal workflow cannot hold open; give it their tools as plain tools"
            )


def model_key(model: LanguageModel) -> dict[str, str]:
    """How an activity finds ``model`` among an agent's: its provider and model id."""
    return {"provider": model.provider, "model_id": model.model_id}


def find_model(agent: Agent, key: Mapping[str, str]) -> LanguageModel:
    """The agent's model (or one of its ``FallbackModel``'s) with the provider and id of ``key``.

    Raises:
        UserError: the agent has no such model (a model ``prepare_step`` made up elsewhere).
    """
    models = agent.model.models if isinstance(agent.model, FallbackChain) else (agent.model,)
    for model in models:
        if model.provider == key.get("provider") and model.model_id == key.get("model_id"):
            return model
    raise UserError(
        f"the agent has no model {key.get('provider')}:{key.get('model_id')}; a Temporal run can "
        "only call the agent's own model (or its FallbackModel's)"
    )


def find_tool(agent: Agent, name: str) -> Tool | None:
    """The agent's tool named ``name`` (``None``: it has none)."""
    for item in agent.tools:
        if item.name == name:
            return item
    return None

"""``reverie.temporal`` without a server: payloads, the registry, the activities, and import cost.

The activities run in Temporal's ``ActivityEnvironment`` (an activity context, no server).
Runs against a real dev server are in ``tests/temporal/``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import anyio
import pytest

pytest.importorskip("temporalio", reason='needs the temporal extra: pip install -e ".[dev]"')

from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from reverie import (
    Agent,
    Call,
    FallbackModel,
    Message,
    ProviderError,
    ResponseFormat,
    RetryError,
    ToolCallPart,
    UserError,
    tool,
)
from reverie._content import CallWarning, TextPart, Usage
from reverie._errors import DeadlineExceededError, InvalidResponseError, RestoredError
from reverie._model import ProviderTool, Response, ToolDefinition
from reverie._parts import ModelStreamPart
from reverie._retry import RetryPolicy, server_delay
from reverie.providers import openai
from reverie.temporal import _client, _payloads, _registry
from reverie.temporal._activities import Activities
from reverie.testing import MockModel
from tests.probes import run_probe

pytestmark = pytest.mark.anyio


# --------------------------------------------------------------------------- import cost


def test_import_reverie_does_not_import_temporal() -> None:
    code = "import json, sys, reverie; reverie.Agent; print(json.dumps(sorted(sys.modules)))"
    completed = run_probe(code)
    assert completed.returncode == 0, completed.stderr
    modules = json.loads(completed.stdout)
    assert [name for name in modules if name.split(".")[0] in ("temporalio", "reverie.temporal")] == []
    assert "reverie.temporal" not in modules


# --------------------------------------------------------------------------- payloads


def test_a_call_crosses_as_json_with_its_tools_options_and_what_is_left_of_the_deadline() -> None:
    call = Call(
        prompt=[Message.system("Be brief."), Message.user("Hi")],
        tools=[
            ToolDefinition(name="add", description="Add.", parameters={"type": "object"}),
            ProviderTool(id="anthropic.web_search_20250305", name="web_search", args={"max_uses": 2}),
        ],
        tool_choice="required",
        temperature=0.5,
        stop_sequences=["END"],
        provider_options={"openai": openai.Options(reasoning_effort="low"), "other": {"x": 1}},
        headers={"x-trace": "1"},
        response_format=ResponseFormat(schema={"type": "object"}, name="Answer"),
        timeout=12.5,
        deadline_at=1000.0,
    )
    data = _payloads.call_data(call, deadline_in=30.0, own_headers=None)
    rebuilt = _payloads.call_from_data(json.loads(json.dumps(data)), now=5.0, own_headers=None)
    assert rebuilt.prompt == call.prompt
    assert rebuilt.tools == call.tools
    assert (rebuilt.tool_choice, rebuilt.temperature, rebuilt.stop_sequences) == ("required", 0.5, ["END"])
    assert rebuilt.provider_options == {"openai": {"reasoning_effort": "low"}, "other": {"x": 1}}
    assert rebuilt.headers == {"x-trace": "1"}
    assert rebuilt.response_format == call.response_format
    assert rebuilt.timeout == 12.5
    assert rebuilt.deadline_at == 35.0  # on the activity's clock
    without_deadline = _payloads.call_data(call, deadline_in=None, own_headers=None)
    assert _payloads.call_from_data(without_deadline, now=5.0, own_headers=None).deadline_at is None


def test_the_agents_own_headers_stay_out_of_the_workflow_history() -> None:
    # The agent's headers often carry credentials; the activity has the agent and adds them back.
    own = {"Authorization": "Bearer sk-AGENT-SECRET", "x-team": "blue"}
    call = Call(
        prompt=[Message.user("Hi")],
        headers={"authorization": "Bearer sk-AGENT-SECRET", "x-team": "red", "x-trace": "1"},
    )
    data = _payloads.call_data(call, deadline_in=None, own_headers=own)
    assert "sk-AGENT-SECRET" not in json.dumps(data)
    assert data["headers"] == {"x-team": "red", "x-trace": "1"}  # what the run changed or added
    rebuilt = _payloads.call_from_data(data, now=0.0, own_headers=own)
    assert rebuilt.headers == {"authorization": "Bearer sk-AGENT-SECRET", "x-team": "red", "x-trace": "1"}


def test_a_response_crosses_as_json() -> None:
    response = Response(
        content=[TextPart(text="hello"), ToolCallPart(tool_call_id="c1", tool_name="add", input="{}")],
        finish_reason="tool-calls",
        usage=Usage(input_tokens=3, output_tokens=4, total_tokens=7),
        provider_metadata={"openai": {"x": 1}},
        warnings=[CallWarning(setting="seed", message="ignored")],
        response_id="r1",
        model_id="m1",
    )
    data = json.loads(json.dumps(_payloads.response_data(response)))
    assert _payloads.response_from_data(data) == response


def test_a_provider_error_keeps_what_the_retry_decision_reads() -> None:
    error = ProviderError(
        "slow down",
        status_code=429,
        url="https://api.example.test/v1",
        response_headers={"Retry-After": "7", "x-other": "no"},
        response_body="body",
    )
    error.reported_usage = Usage(input_tokens=5, total_tokens=5)
    rebuilt = _payloads.error_from_data(json.loads(json.dumps(_payloads.error_data(error))))
    assert isinstance(rebuilt, ProviderError)
    assert (rebuilt.status_code, rebuilt.message, rebuilt.url) == (429, "slow down", error.url)
    assert rebuilt.is_retryable
    assert server_delay(rebuilt) == 7.0
    assert rebuilt.response_headers == {"retry-after": "7"}
    assert rebuilt.reported_usage == error.reported_usage
    final = _payloads.error_from_data(
        _payloads.error_data(
            ProviderError("no", status_code=500, response_headers={"x-should-retry": "false"})
        )
    )
    assert isinstance(final, ProviderError) and not final.is_retryable


def test_other_errors_come_back_as_what_they_were_or_named() -> None:
    retry = _payloads.error_from_data(_payloads.error_data(RetryError([ProviderError("a", status_code=503)])))
    assert isinstance(retry, RetryError)
    assert isinstance(retry.last_error, ProviderError) and retry.last_error.status_code == 503
    deadline = _payloads.error_from_data(_payloads.error_data(DeadlineExceededError(3.0)))
    assert isinstance(deadline, DeadlineExceededError) and deadline.deadline == 3.0
    restored = _payloads.error_from_data(_payloads.error_data(InvalidResponseError("bad JSON")))
    assert isinstance(restored, RestoredError)
    assert (restored.type_name, str(restored)) == ("InvalidResponseError", "bad JSON")


# --------------------------------------------------------------------------- registry and settings


@tool
def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def test_a_worker_refuses_agents_a_workflow_cannot_run() -> None:
    from reverie import mcp

    with pytest.raises(UserError, match="at least one agent"):
        _registry.check_agents({})
    with pytest.raises(UserError, match=r"agents\['x'\] must be a reverie.Agent"):
        _registry.check_agents({"x": "agent"})  # type: ignore[dict-item]
    with_toolset = Agent(MockModel("hi"), tools=[mcp.stdio("python", ["-m", "server"], name="files")])
    with pytest.raises(UserError, match=r"agent 'files-agent' has toolsets \(files\)"):
        _client.worker(None, "queue", {"files-agent": with_toolset})  # type: ignore[arg-type]


def test_activities_find_the_agents_models_and_tools_by_name() -> None:
    primary, backup = MockModel("a", model_id="primary"), MockModel("b", model_id="backup")
    agent = Agent(FallbackModel(primary, backup), tools=[add])
    assert _registry.find_model(agent, _registry.model_key(backup)) is backup
    with pytest.raises(UserError, match="no model mock:other"):
        _registry.find_model(agent, {"provider": "mock", "model_id": "other"})
    assert _registry.find_tool(agent, "add") is add
    assert _registry.find_tool(agent, "nope") is None
    with pytest.raises(UserError, match="no agent named 'nope' on this worker; it serves: a"):
        _registry.agent_named({"a": agent}, "nope")
    with pytest.raises(UserError, match=r"no reverie\.temporal worker serves task queue 'unknown'"):
        _registry.served("unknown")


def test_only_settings_that_are_data_reach_a_run() -> None:
    sent = _client._settings_data({"max_steps": 3, "provider_options": {"openai": openai.Options(user="u")}})
    assert sent == {"max_steps": 3, "provider_options": {"openai": {"user": "u"}}}
    with pytest.raises(UserError, match="stop_when cannot be sent"):
        _client._settings_data({"stop_when": lambda steps: True})
    with pytest.raises(UserError, match="the setting seed must be JSON data"):
        _client._settings_data({"seed": object()})
    with pytest.raises(UserError, match="journal cannot be sent"):
        _client._settings_data({"journal": object()})
    with pytest.raises(UserError, match=r"unknown setting.*: temprature; known: .*temperature"):
        _client._settings_data({"temprature": 0.5})


# --------------------------------------------------------------------------- activities


def _model_request(model: MockModel, prompt: str = "Hi") -> dict[str, Any]:
    call = Call(prompt=[Message.user(prompt)])
    return {
        "agent": "a",
        "model": _registry.model_key(model),
        "call": _payloads.call_data(call, deadline_in=None, own_headers=None),
    }


def _environment() -> ActivityEnvironment:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, heartbeat_timeout=timedelta(seconds=1))
    return environment


async def test_the_model_activity_streams_and_returns_the_whole_response() -> None:
    model = MockModel("Hello there")
    activities = Activities({"a": Agent(model)})
    heartbeats: list[Any] = []
    environment = _environment()
    environment.on_heartbeat = lambda *details: heartbeats.append(details)
    outcome = await environment.run(activities.call_model, _model_request(model))
    response = _payloads.response_from_data(outcome["response"])
    assert [part.text for part in response.content if isinstance(part, TextPart)] == ["Hello there"]
    assert response.finish_reason == "stop"
    assert heartbeats  # one per part at least


class _SlowStart(MockModel):
    """A model that thinks ``delay`` seconds before its first part; it notes the heartbeats by then."""

    def __init__(self, text: str, *, delay: float, heartbeats: list[Any]) -> None:
        super().__init__(text)
        self._delay = delay
        self._heartbeats = heartbeats
        self.heartbeats_before_first_part: int | None = None

    def stream_async(self, call: Call) -> AsyncIterator[ModelStreamPart]:
        parts = super().stream_async(call)

        async def iterate() -> AsyncIterator[ModelStreamPart]:
            await anyio.sleep(self._delay)
            self.heartbeats_before_first_part = len(self._heartbeats)
            async for part in parts:
                yield part

        return iterate()


async def test_the_model_activity_heartbeats_while_it_waits_for_the_first_part() -> None:
    heartbeats: list[Any] = []
    model = _SlowStart("Hello", delay=0.6, heartbeats=heartbeats)
    activities = Activities({"a": Agent(model)})
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, heartbeat_timeout=timedelta(seconds=0.3))
    environment.on_heartbeat = lambda *details: heartbeats.append(details)
    outcome = await environment.run(activities.call_model, _model_request(model))
    assert "response" in outcome
    # A beat every third of the timeout (0.1 s) while no part came: a thinking model is alive.
    assert model.heartbeats_before_first_part is not None
    assert model.heartbeats_before_first_part >= 3


async def test_a_model_error_is_returned_as_data_for_the_run_to_decide() -> None:
    model = MockModel(ProviderError("busy", status_code=503))
    activities = Activities({"a": Agent(model)})
    outcome = await _environment().run(activities.call_model, _model_request(model))
    error = _payloads.error_from_data(outcome["error"])
    assert isinstance(error, ProviderError) and error.status_code == 503 and error.is_retryable


async def test_an_error_that_is_not_the_models_fails_the_activity_without_a_retry() -> None:
    model = MockModel(RuntimeError("bug"))
    activities = Activities({"a": Agent(model)})
    with pytest.raises(ApplicationError, match="bug") as caught:
        await _environment().run(activities.call_model, _model_request(model))
    assert caught.value.non_retryable and caught.value.type == "RuntimeError"


@tool
def divide(a: int, b: int) -> float:
    """Divide."""
    return a / b


async def test_the_tool_activity_runs_the_call_and_a_raising_tool_is_an_error_result() -> None:
    activities = Activities(
        {"a": Agent(MockModel("x"), tools=[add, divide], retry=RetryPolicy(max_retries=0))}
    )

    async def run(name: str, arguments: str) -> Any:
        call = ToolCallPart(tool_call_id="c1", tool_name=name, input=arguments)
        data = await _environment().run(
            activities.call_tool, {"agent": "a", "call": _payloads.tool_call_data(call)}
        )
        return _payloads.tool_result_from_data(data)

    added = await run("add", '{"a": 2, "b": 3}')
    assert (added.output, added.is_error, added.tool_call_id) == ("5", False, "c1")
    failed = await run("divide", '{"a": 1, "b": 0}')
    assert failed.is_error and failed.output == "ZeroDivisionError: division by zero"
    missing = await run("nope", "{}")
    assert missing.is_error and "not one of agent 'a'" in missing.output

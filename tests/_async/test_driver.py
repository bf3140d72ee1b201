"""The driver around the run machine: hooks wrap every action, tools see the caller's context.

This is the async source; ``tests/_sync/test_driver.py`` is generated from it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from reverie import Agent, ProviderError, RetryPolicy, Usage, tool
from reverie._content import ToolCallPart, ToolResultPart
from reverie._errors import ReverieError
from reverie._run.actions import Action, CallModel, RunTools, Wait
from reverie._run.hooks import ObservedRun, RunHooks
from reverie.testing import MockModel
from tests.agent_helpers import Echo

from .agent_runs import finish

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
COLOUR = "async" if "._async." in __name__ else "sync"
REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


class Recorder(RunHooks):
    """Hooks that log entering and leaving each action."""

    def __init__(self) -> None:
        self.log: list[str] = []

    @contextmanager
    def around(self, action: Action, /) -> Iterator[None]:
        name = type(action).__name__
        self.log.append(f"enter {name}")
        try:
            yield
        finally:
            self.log.append(f"exit {name}")


class Observer(RunHooks):
    """Hooks that log every call of the seam, in order."""

    def __init__(self) -> None:
        self.log: list[str] = []

    @contextmanager
    def around_run(self, run: ObservedRun, /) -> Iterator[None]:
        self.log.append("run")
        try:
            yield
        except BaseException as error:
            self.log.append(f"run failed: {type(error).__name__}")
            raise
        assert run.result is not None
        self.log.append(f"run ended: {run.result.text}")

    def model_answered(self, action: CallModel, run: ObservedRun, /) -> None:
        answer = run.answer()
        assert answer is not None
        self.log.append(f"answered {action.attempt}: {answer.finish_reason} {answer.usage.output_tokens}")

    def model_failed(self, action: CallModel, error: ReverieError, /) -> None:
        self.log.append(f"failed {action.attempt}: {error}")

    @contextmanager
    def around_tool(self, call: ToolCallPart, /) -> Iterator[None]:
        self.log.append(f"tool {call.tool_name}")
        yield
        self.log.append(f"tool {call.tool_name} done")

    def tool_ended(self, call: ToolCallPart, result: ToolResultPart, error: BaseException | None, /) -> None:
        self.log.append(f"result {result.output} error={type(error).__name__ if error else None}")


@tool
def weather(location: str) -> str:
    """Get the weather."""
    return f"40 C in {location}"


@tool(parallel=True)
def whose_request(n: int) -> str:
    """Report the request id this call runs under."""
    return f"{n}:{REQUEST_ID.get()}"


@pytest.mark.anyio
@MODES
async def test_every_action_is_wrapped_in_the_hooks(streaming: bool, sleeps: list[float]) -> None:
    model = MockModel(
        [
            ProviderError("busy", status_code=503),
            MockModel.tool_calls(("weather", {"location": "Rome"})),
            "It is 40 C.",
        ]
    )
    agent = Agent(model, tools=[weather], retry=RetryPolicy(max_retries=1, initial_delay=2.0))
    recorder = Recorder()
    agent._hooks = recorder  # pyright: ignore[reportPrivateUsage]
    result = await finish(agent, "Weather in Rome?", streaming=streaming)
    assert result.text == "It is 40 C."
    assert sleeps == [2.0]
    expected = [CallModel, Wait, CallModel, RunTools, CallModel]
    assert recorder.log == [f"{verb} {kind.__name__}" for kind in expected for verb in ("enter", "exit")]


@pytest.mark.anyio
@MODES
async def test_parallel_tools_run_in_the_callers_context(streaming: bool) -> None:
    model = MockModel(
        [MockModel.tool_calls(("whose_request", {"n": 1}), ("whose_request", {"n": 2})), "done"]
    )
    agent = Agent(model, tools=[whose_request])
    token = REQUEST_ID.set("req-42")
    try:
        result = await finish(agent, "go", streaming=streaming)
    finally:
        REQUEST_ID.reset(token)
    outputs = [part.output for part in result.steps[0].tool_results]
    assert outputs == ["1:req-42", "2:req-42"]


@pytest.mark.anyio
@MODES
async def test_a_tool_that_is_not_a_function_runs_through_the_protocol(streaming: bool) -> None:
    echo = Echo()
    model = MockModel([MockModel.tool_calls(("echo", {"text": "ab"}), ("echo", {"text": 3})), "done"])
    result = await finish(Agent(model, tools=[echo]), "go", streaming=streaming)
    good, bad = result.steps[0].tool_results
    assert good.output == "abab" and not good.is_error
    assert bad.is_error and bad.output == "text must be a string"
    assert echo.colours == [COLOUR]  # the twin of the API in use: call_async here, call in the sync twin
    assert model.calls[0].tools[0].name == "echo"


@pytest.mark.anyio
@MODES
async def test_the_hooks_see_the_run_each_attempt_and_each_tool(streaming: bool, sleeps: list[float]) -> None:
    model = MockModel(
        [
            ProviderError("busy", status_code=503),
            MockModel.tool_calls(
                ("weather", {"location": "Rome"}), ("nowhere", {}), usage=Usage(output_tokens=4)
            ),
            "It is 40 C.",
        ]
    )
    agent = Agent(model, tools=[weather], retry=RetryPolicy(max_retries=1, initial_delay=2.0))
    observer = Observer()
    agent._hooks = observer  # pyright: ignore[reportPrivateUsage]
    await finish(agent, "Weather in Rome?", streaming=streaming)
    assert observer.log == [
        "run",
        "failed 0: HTTP 503: busy",
        "answered 1: tool_calls 4",
        "tool weather",
        "result 40 C in Rome error=None",
        "tool weather done",
        "tool nowhere",
        "result unknown tool 'nowhere'; available tools: weather error=None",
        "tool nowhere done",
        "answered 0: stop 0",
        "run ended: It is 40 C.",
    ]


@pytest.mark.anyio
@MODES
async def test_the_hooks_see_a_failed_run(streaming: bool) -> None:
    agent = Agent(MockModel(ProviderError("bad request", status_code=400)))
    observer = Observer()
    agent._hooks = observer  # pyright: ignore[reportPrivateUsage]
    with pytest.raises(ProviderError):
        await finish(agent, "Hello", streaming=streaming)
    assert observer.log == ["run", "failed 0: HTTP 400: bad request", "run failed: ProviderError"]

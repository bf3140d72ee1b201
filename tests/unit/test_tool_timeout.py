"""``@tool(timeout=...)``: a tool over its time gives the model an error result, in every API.

An ``async def`` tool is cancelled; a ``def`` tool's thread cannot be stopped, so the run stops
waiting and the error says the thread was left running. The tools block on events that the
test sets afterwards (nothing depends on how long anything takes but the timeout itself,
which always expires first: the tools never finish on their own).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anyio
import pytest

from reverie import Agent, AgentResult, FunctionTool, UserError, tool
from reverie.testing import MockModel


@pytest.fixture
def release() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()  # lets an abandoned tool thread end


def script() -> MockModel:
    return MockModel([MockModel.tool_calls(("slow", {})), MockModel.text("gave up")])


def error_output(result: AgentResult) -> str:
    (tool_result,) = result.steps[0].tool_results
    assert tool_result.is_error
    return tool_result.output


def sync_tool(release: threading.Event) -> FunctionTool[[], str]:
    @tool(timeout=0.05)
    def slow() -> str:
        """Blocks until released."""
        release.wait()
        return "late"

    return slow


@tool(timeout=0.05)
async def slow_async() -> str:
    """Never finishes on its own."""
    await anyio.sleep_forever()
    return "never"


def test_a_sync_tool_over_its_time_in_the_sync_api(release: threading.Event) -> None:
    result = Agent(script(), tools=[sync_tool(release)]).generate("go")
    output = error_output(result)
    assert "timeout of 0.05 s" in output and "left running" in output
    assert result.text == "gave up"


@pytest.mark.anyio
async def test_a_sync_tool_over_its_time_in_the_async_api(release: threading.Event) -> None:
    result = await Agent(script(), tools=[sync_tool(release)]).generate_async("go")
    output = error_output(result)
    assert "timeout of 0.05 s" in output and "left running" in output


@pytest.mark.anyio
async def test_an_async_tool_over_its_time_is_cancelled() -> None:
    cancelled: list[bool] = []

    @tool(name="slow", timeout=0.05)
    async def slow() -> str:
        """Records its cancellation."""
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise
        return "never"

    result = await Agent(script(), tools=[slow]).generate_async("go")
    output = error_output(result)
    assert "ToolTimeoutError" in output and "timeout of 0.05 s" in output
    assert "left running" not in output
    assert cancelled == [True]


def test_an_async_tool_over_its_time_in_the_sync_api() -> None:
    slow = tool(name="slow", timeout=0.05)(slow_async.function)
    result = Agent(script(), tools=[slow]).generate("go")
    output = error_output(result)
    assert "timeout of 0.05 s" in output and "left running" not in output


def test_a_tool_within_its_time_returns_as_usual() -> None:
    @tool(name="slow", timeout=30.0)
    def quick() -> str:
        """Returns at once."""
        return "fine"

    result = Agent(script(), tools=[quick]).generate("go")
    (tool_result,) = result.steps[0].tool_results
    assert not tool_result.is_error and tool_result.output == "fine"


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan")])
def test_a_tool_timeout_must_be_positive(value: float) -> None:
    with pytest.raises(UserError, match="'slow': timeout"):
        tool(name="slow", timeout=value)(lambda: "")

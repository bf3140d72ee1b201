"""An agent repairs almost-JSON tool arguments before it runs the tool; a hook turns that off.

This is the async source; ``tests/_sync/test_tool_repair.py`` is generated from it.
"""

from __future__ import annotations

import pytest

from reverie import Agent, ToolCallPart, tool
from reverie.testing import MockModel

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])


@tool
def weather(location: str) -> str:
    """Get the weather of a city."""
    return f"40 C in {location}"


async def _run(agent: Agent, *, streaming: bool) -> list[ToolCallPart]:
    if streaming:
        stream = agent.stream_async("Weather in Florence?")
        async for _ in stream:
            pass
        result = await stream.result()
    else:
        result = await agent.generate_async("Weather in Florence?")
    return result.steps[0].tool_calls


@pytest.mark.anyio
@MODES
async def test_single_quoted_arguments_are_repaired_and_the_tool_runs(streaming: bool) -> None:
    model = MockModel([MockModel.tool_calls(("weather", "{'location': 'Florence',}")), "Hot."])
    (call,) = await _run(Agent(model, tools=[weather]), streaming=streaming)
    assert call.invalid is False
    assert call.input == '{"location": "Florence"}'
    tool_message = model.calls[1].prompt[-1]
    assert tool_message.role == "tool"
    assert [part.output for part in tool_message.content if part.type == "tool_result"] == [
        "40 C in Florence"
    ]
    # The next request carries the repaired arguments, which every provider can encode.
    assert model.calls[1].prompt[-2].content == [call]


@pytest.mark.anyio
@MODES
async def test_with_a_repair_hook_json_repair_is_not_applied(streaming: bool) -> None:
    model = MockModel([MockModel.tool_calls(("weather", "{'location': 'Florence'}")), "Sorry."])
    agent = Agent(model, tools=[weather], repair_tool_call=lambda call, error: None)
    (call,) = await _run(agent, streaming=streaming)
    assert call.invalid is True
    assert call.input == "{'location': 'Florence'}"

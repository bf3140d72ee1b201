"""Toolsets in an agent: tools known once open join the agent's for each run (no I/O here).

Also: a tool may return a ``ToolResultPart`` (text with a file, or an error without raising).

``FakeToolset`` implements the ``Toolset`` protocol with fixed tools and counts its entries;
MCP servers, the toolsets the library ships, are tested in ``tests/_async/test_mcp.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

import anyio
import pytest

from reverie import Agent, FilePart, Tool, ToolResultPart, Toolset, UserError, tool
from reverie._tools.toolset import ToolSet, split_toolsets, with_toolsets
from reverie.testing import MockModel


class FakeToolset:
    """A toolset with fixed tools that counts how many hold it open."""

    def __init__(self, name: str, tools: Sequence[Tool]) -> None:
        self.name = name
        self._tools = tuple(tools)
        self.entered = 0

    def tools(self) -> tuple[Tool, ...]:
        if not self.entered:
            raise UserError(f"{self.name} is not open")
        return self._tools

    def __enter__(self) -> FakeToolset:
        self.entered += 1
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.entered -= 1

    async def __aenter__(self) -> FakeToolset:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, traceback)


@tool
def add(a: int, b: int) -> int:
    """Add."""
    return a + b


@tool
def sub(a: int, b: int) -> int:
    """Subtract."""
    return a - b


def test_a_toolset_is_told_apart_from_tools() -> None:
    toolset = FakeToolset("remote", [sub])
    assert isinstance(toolset, Toolset) and not isinstance(toolset, Tool)
    tools, toolsets = split_toolsets([add, toolset])
    assert (tools, toolsets) == ([add], (toolset,))
    agent = Agent(MockModel([]), tools=[add, toolset])
    assert agent.tools == (add,)
    assert agent.toolsets == (toolset,)
    assert repr(agent).endswith("tools=['add'], toolsets=['remote'])")


def test_toolset_tools_follow_the_agents_own_and_an_unchanged_set_is_reused() -> None:
    own = ToolSet([add])
    remote = FakeToolset("remote", [sub])
    with remote:
        combined = with_toolsets(own, [remote])
        assert [item.name for item in combined.tools] == ["add", "sub"]
        assert with_toolsets(own, [remote]) is combined
    other = FakeToolset("other", [tool(name="mul")(lambda: 0)])
    with other:
        assert with_toolsets(own, [other]) is not combined


def test_names_shared_between_toolsets_or_with_own_tools_are_refused() -> None:
    left, right = FakeToolset("left", [add]), FakeToolset("right", [add])
    with left, right, pytest.raises(UserError) as caught:
        with_toolsets(ToolSet([add]), [left, right])
    assert str(caught.value).startswith(
        "tools share a name: 'add' from the agent's own tools and 'left' and 'right'; give a toolset a prefix"
    )


@pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
def test_a_run_holds_its_toolsets_open_while_it_runs(streaming: bool) -> None:
    toolset = FakeToolset("remote", [sub])
    model = MockModel([MockModel.tool_calls(("sub", {"a": 3, "b": 1})), MockModel.text("done")])
    seen: list[int] = []
    agent = Agent(model, tools=[add, toolset], on_tool_call=lambda call: seen.append(toolset.entered))
    result = agent.stream("Subtract.").result() if streaming else agent.generate("Subtract.")
    assert result.text == "done"
    assert (seen, toolset.entered) == ([1], 0)
    assert [definition.name for definition in model.calls[0].tools] == ["add", "sub"]
    assert result.steps[0].tool_results[0].output == "2"


def test_an_async_run_enters_its_toolsets_with_async_with() -> None:
    toolset = FakeToolset("remote", [sub])
    model = MockModel([MockModel.tool_calls(("sub", {"a": 3, "b": 1})), MockModel.text("done")])
    seen: list[int] = []
    agent = Agent(model, tools=[toolset], on_tool_call=lambda call: seen.append(toolset.entered))
    with toolset:  # held open by the caller: the run shares it and leaves it open
        result = anyio.run(agent.generate_async, "Subtract.")
    assert result.text == "done"
    assert (seen, toolset.entered) == ([2], 0)


def test_a_toolset_is_left_when_the_run_fails_before_its_first_step() -> None:
    left, right = FakeToolset("left", [add]), FakeToolset("right", [add])
    model = MockModel([MockModel.text("never sent")])
    with pytest.raises(UserError, match="tools share a name"):
        Agent(model, tools=[left, right]).generate("Add.")
    assert (left.entered, right.entered, model.calls) == (0, 0, [])


@tool
def chart(metric: str) -> ToolResultPart:
    """Draw a chart, or say why not."""
    if metric == "unknown":
        return ToolResultPart(tool_call_id="", tool_name="", output="no such metric", is_error=True)
    media = FilePart(data=b"\x89PNG", media_type="image/png")
    return ToolResultPart(tool_call_id="", tool_name="", output=f"{metric} over time", media=media)


def test_a_tool_may_return_its_result_with_text_a_file_and_the_error_flag() -> None:
    model = MockModel(
        [
            MockModel.tool_calls(("chart", {"metric": "sales"}), ("chart", {"metric": "unknown"})),
            MockModel.text("ok"),
        ]
    )
    result = Agent(model, tools=[chart]).generate("Chart it.")
    drawn, refused = result.steps[0].tool_results
    assert (drawn.tool_call_id, drawn.tool_name) == (result.steps[0].tool_calls[0].tool_call_id, "chart")
    assert (drawn.output, drawn.is_error) == ("sales over time", False)
    assert drawn.media == FilePart(data=b"\x89PNG", media_type="image/png")
    assert (refused.output, refused.is_error, refused.media) == ("no such metric", True, None)

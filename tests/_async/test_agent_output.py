"""Typed agent output (``Agent(output_type=...)``) with a scripted model, in every output mode.

This is the async source; ``tests/_sync/test_agent_output.py`` is generated from it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pydantic_core
import pytest
from pydantic import BaseModel

from reverie import (
    Agent,
    AgentResult,
    FinishPart,
    NoObjectGeneratedError,
    OutputPart,
    TextDeltaPart,
    TextEndPart,
    TextStartPart,
    ToolCallPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
    ToolResultPart,
    Usage,
    UserError,
    tool,
)
from reverie.testing import MockModel
from tests.agent_helpers import grows

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])


class Person(BaseModel):
    name: str
    age: int


@tool
def lookup(name: str) -> str:
    """Look a person up."""
    return f"{name} is 30 and lives in Paris"


async def run(agent: Agent[Any], prompt: str, *, streaming: bool) -> tuple[AgentResult[Any], list[Any]]:
    if not streaming:
        return await agent.generate_async(prompt), []
    stream = agent.stream_async(prompt)
    parts = [part async for part in stream]
    return await stream.result(), parts


@pytest.mark.anyio
@MODES
async def test_valid_json_output_the_first_time(streaming: bool) -> None:
    model = MockModel('{"name": "Alice", "age": 30}')  # native JSON output (MockModel's default)
    result, _ = await run(Agent(model, output_type=Person), "Alice, 30", streaming=streaming)
    assert result.output == Person(name="Alice", age=30)
    (call,) = model.calls
    assert call.response_format is not None and call.response_format.name == "Person"
    assert call.response_format.schema["required"] == ["name", "age"]
    assert call.tools == []


@pytest.mark.anyio
@MODES
async def test_invalid_text_output_is_sent_back_and_repaired(streaming: bool) -> None:
    model = MockModel(['{"name": "Alice", "age": "thirty"}', '{"name": "Alice", "age": 30}'])
    result, _ = await run(Agent(model, output_type=Person), "Alice, 30", streaming=streaming)
    assert result.output == Person(name="Alice", age=30)
    assert len(result.steps) == 2
    feedback = model.calls[1].prompt[-1]
    assert feedback.role == "user"
    assert "Invalid output" in feedback.text and "age" in feedback.text
    assert model.calls[1].prompt[-2].role == "assistant"
    # The feedback is part of the conversation the run hands back.
    assert [message.role for message in result.response_messages] == ["assistant", "user", "assistant"]


@pytest.mark.anyio
@MODES
async def test_invalid_tool_output_gets_an_error_result_and_is_repaired(streaming: bool) -> None:
    model = MockModel(
        [
            MockModel.tool_calls(("Person", {"name": "Alice", "age": "thirty"})),
            MockModel.tool_calls(("Person", {"name": "Alice", "age": 30})),
        ]
    )
    agent = Agent(model, output_type=Person, output_mode="tool")
    result, _ = await run(agent, "Alice, 30", streaming=streaming)
    assert result.output == Person(name="Alice", age=30)
    assert model.calls[0].tool_choice == "required"
    assert [definition.name for definition in model.calls[0].tools] == ["Person"]
    error = model.calls[1].prompt[-1].content[0]
    assert isinstance(error, ToolResultPart) and error.is_error and "age" in error.output
    # The accepted output call gets a result too, so the conversation can be continued.
    last = result.response_messages[-1].content[0]
    assert isinstance(last, ToolResultPart) and not last.is_error


@pytest.mark.anyio
@MODES
async def test_retries_exhausted_raise_no_object_generated_with_the_raw_text(streaming: bool) -> None:
    model = MockModel(["not json", '{"name": "Alice"}', "never asked"])
    agent = Agent(model, output_type=Person, output_retries=1)
    with pytest.raises(NoObjectGeneratedError) as raised:
        await run(agent, "Alice", streaming=streaming)
    assert raised.value.raw_text == '{"name": "Alice"}'
    assert "age" in str(raised.value)
    assert len(model.calls) == 2


@pytest.mark.anyio
@MODES
async def test_output_and_a_tool_in_one_run(streaming: bool) -> None:
    model = MockModel(
        [
            MockModel.tool_calls(("lookup", {"name": "Alice"})),
            MockModel.tool_calls(("Person", {"name": "Alice", "age": 30})),
        ]
    )
    # auto: the agent has tools, so the output is a tool beside them on every provider.
    result, _ = await run(
        Agent(model, tools=[lookup], output_type=Person), "Who is Alice?", streaming=streaming
    )
    assert result.output == Person(name="Alice", age=30)
    assert [definition.name for definition in model.calls[0].tools] == ["lookup", "Person"]
    assert model.calls[0].response_format is None
    assert result.steps[0].tool_results[0].output == "Alice is 30 and lives in Paris"


@pytest.mark.anyio
async def test_streamed_partial_output_only_grows_and_ends_equal_to_the_output() -> None:
    text = json.dumps({"name": "Alice Pleasance Liddell", "age": 30})
    pieces = [text[index : index + 3] for index in range(0, len(text), 3)]
    parts: tuple[Any, ...] = (
        ToolInputStartPart(id="c1", tool_name="Person"),
        *(ToolInputDeltaPart(id="c1", delta=piece) for piece in pieces),
        ToolInputEndPart(id="c1"),
        ToolCallPart(tool_call_id="c1", tool_name="Person", input=text),
        FinishPart(finish_reason="tool_calls", usage=Usage(total_tokens=9)),
    )
    agent = Agent(MockModel([parts]), output_type=Person, output_mode="tool")
    stream = agent.stream_async("Alice")
    outputs = [part.object async for part in stream if isinstance(part, OutputPart)]
    result = await stream.result()
    assert len(outputs) >= 3
    for before, after in itertools.pairwise(outputs):
        assert grows(before, after), (before, after)
    assert outputs[-1] == pydantic_core.to_jsonable_python(result.output)


@pytest.mark.anyio
async def test_streamed_partial_text_output_in_json_mode() -> None:
    model = MockModel('["red", "green", "blue", "cyan", "magenta", "yellow"]')
    stream = Agent(model, output_type=list[str]).stream_async("colours")
    outputs = [part.object async for part in stream if isinstance(part, OutputPart)]
    result = await stream.result()
    assert result.output == ["red", "green", "blue", "cyan", "magenta", "yellow"]
    assert outputs[-1] == result.output


@pytest.mark.anyio
@MODES
async def test_a_non_object_output_type(streaming: bool) -> None:
    model = MockModel('["a", "b"]')
    result, _ = await run(Agent(model, output_type=list[str]), "letters", streaming=streaming)
    assert result.output == ["a", "b"]
    assert model.calls[0].response_format is not None
    assert model.calls[0].response_format.schema == {"items": {"type": "string"}, "type": "array"}


@pytest.mark.anyio
@MODES
async def test_text_mode_puts_the_schema_in_the_prompt(streaming: bool) -> None:
    model = MockModel('```json\n{"name": "Bo", "age": 4}\n```')
    result, _ = await run(Agent(model, output_type=Person, output_mode="text"), "Bo", streaming=streaming)
    assert result.output == Person(name="Bo", age=4)
    first = model.calls[0].prompt[0]
    assert first.role == "system" and '"required":["name","age"]' in first.text


@pytest.mark.anyio
@MODES
async def test_without_output_type_the_output_is_the_text(streaming: bool) -> None:
    result, _ = await run(Agent(MockModel("Hello")), "hi", streaming=streaming)
    assert result.output == "Hello" == result.text


@pytest.mark.anyio
async def test_json_mode_on_a_model_without_native_output_is_a_user_error() -> None:
    agent = Agent(MockModel("{}", object_mode="tool"), output_type=Person, output_mode="json")
    with pytest.raises(UserError, match="no native JSON-schema output"):
        await agent.generate_async("x")


def test_bad_output_settings_are_user_errors() -> None:
    with pytest.raises(UserError, match="output_mode"):
        Agent(MockModel("{}"), output_type=Person, output_mode="yaml")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="output_retries"):
        Agent(MockModel("{}"), output_type=Person, output_retries=-1)


@pytest.mark.anyio
async def test_partial_output_arrives_while_the_model_is_still_streaming() -> None:
    text = json.dumps({"name": "Alice Pleasance Liddell", "age": 30})
    parts: tuple[Any, ...] = (
        TextStartPart(id="t"),
        *(TextDeltaPart(id="t", delta=text[index : index + 4]) for index in range(0, len(text), 4)),
        TextEndPart(id="t"),
        FinishPart(finish_reason="stop", usage=Usage(total_tokens=9)),
    )
    stream = Agent(MockModel([parts]), output_type=Person).stream_async("Alice")
    kinds = [part.type async for part in stream]
    first_output = kinds.index("output")
    assert first_output < kinds.index("text_end")
    assert "text_delta" in kinds[first_output:]  # the model was still writing

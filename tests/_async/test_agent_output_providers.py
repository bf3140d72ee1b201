"""Typed agent output through each API family's real codec, against provider-shaped answers.

Every case runs for OpenAI chat completions, OpenAI's Responses API, Anthropic and Gemini,
whole and streamed: the request bodies are the codecs' own, the answers are shaped like each
server's (``tests/output_servers.py``). This is the async source; the sync twin is generated.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pydantic_core
import pytest
from pydantic import BaseModel

from reverie import Agent, AgentResult, NoObjectGeneratedError, OutputPart, tool
from tests.agent_helpers import grows
from tests.output_servers import FAMILIES, Answer, Family, Server

CASES = pytest.mark.parametrize(
    ("family", "streaming"),
    [(family, streaming) for family in FAMILIES for streaming in (False, True)],
    ids=[
        f"{family.name}-{'stream' if streaming else 'generate'}"
        for family in FAMILIES
        for streaming in (False, True)
    ],
)


class Person(BaseModel):
    name: str
    age: int


@tool
def lookup(name: str) -> str:
    """Look a person up."""
    return f"{name} is 30"


ALICE = {"name": "Alice Pleasance Liddell", "age": 30}


def output_answer(family: Family, value: Any, *, tools: bool = False) -> Answer:
    """How the model gives ``value`` as output: JSON text (native output) or the output tool."""
    if family.native_json and not tools:
        return json.dumps(value)
    return ("Person", value)


async def run(agent: Agent[Any], *, streaming: bool) -> tuple[AgentResult[Any], list[Any]]:
    if not streaming:
        return await agent.generate_async("Who is Alice?"), []
    stream = agent.stream_async("Who is Alice?")
    parts = [part async for part in stream]
    return await stream.result(), parts


@pytest.mark.anyio
@CASES
async def test_valid_output_the_first_time(family: Family, streaming: bool) -> None:
    server = Server(family, [output_answer(family, ALICE)])
    result, parts = await run(Agent(server.model(), output_type=Person), streaming=streaming)
    assert result.output == Person(**ALICE)
    body = json.dumps(server.bodies[0])
    if family.native_json:
        assert (
            "response_format" in body
            or "responseJsonSchema" in body
            or '"format": {"type": "json_schema"' in body
        )
    else:
        assert '"name": "Person"' in body
    if streaming:
        outputs = [part.object for part in parts if isinstance(part, OutputPart)]
        assert outputs and outputs[-1] == ALICE


@pytest.mark.anyio
@CASES
async def test_invalid_output_is_sent_back_and_repaired(family: Family, streaming: bool) -> None:
    wrong = {"name": "Alice", "age": "thirty"}
    server = Server(family, [output_answer(family, wrong), output_answer(family, ALICE)])
    result, _ = await run(Agent(server.model(), output_type=Person), streaming=streaming)
    assert result.output == Person(**ALICE)
    second = json.dumps(server.bodies[1])
    assert "Invalid output" in second or "does not match the schema" in second
    assert "age" in second


@pytest.mark.anyio
@CASES
async def test_retries_exhausted(family: Family, streaming: bool) -> None:
    wrong = {"name": "Alice"}
    server = Server(family, [output_answer(family, wrong)] * 2)
    with pytest.raises(NoObjectGeneratedError) as raised:
        await run(Agent(server.model(), output_type=Person, output_retries=1), streaming=streaming)
    assert json.loads(raised.value.raw_text) == wrong
    assert len(server.bodies) == 2


@pytest.mark.anyio
@CASES
async def test_output_with_a_tool_call_in_the_same_run(family: Family, streaming: bool) -> None:
    server = Server(family, [("lookup", {"name": "Alice"}), output_answer(family, ALICE, tools=True)])
    agent = Agent(server.model(), tools=[lookup], output_type=Person)
    result, _ = await run(agent, streaming=streaming)
    assert result.output == Person(**ALICE)
    assert result.steps[0].tool_results[0].output == "Alice is 30"
    assert "Alice is 30" in json.dumps(server.bodies[1])


@pytest.mark.anyio
@pytest.mark.parametrize("family", FAMILIES, ids=[family.name for family in FAMILIES])
async def test_streamed_partial_output_only_grows(family: Family) -> None:
    server = Server(family, [output_answer(family, ALICE)])
    _, parts = await run(Agent(server.model(), output_type=Person), streaming=True)
    outputs = [part.object for part in parts if isinstance(part, OutputPart)]
    assert len(outputs) >= 2
    for before, after in itertools.pairwise(outputs):
        assert grows(before, after), (before, after)
    assert outputs[-1] == ALICE


@pytest.mark.anyio
@CASES
async def test_a_non_object_output_type(family: Family, streaming: bool) -> None:
    colours = ["red", "green", "blue"]
    answer: Answer = json.dumps(colours) if family.native_json else ("list", {"response": colours})
    server = Server(family, [answer])
    result, _ = await run(Agent(server.model(), output_type=list[str]), streaming=streaming)
    assert result.output == colours
    assert pydantic_core.to_jsonable_python(result.output) == colours
    if not family.native_json:  # a tool's input is an object: the list is wrapped
        tools = json.dumps(server.bodies[0]["tools"])
        assert '"response"' in tools

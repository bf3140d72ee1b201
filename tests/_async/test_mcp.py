"""MCP tools in an agent's tool loop, against a real MCP server over stdio and streamable HTTP.

The server is ``tests/mcp_server.py``, written with the SDK's own server API; the model is a
scripted ``MockModel``. Each test checks what the model is sent (the tool list, and on the
next request the results of its calls) and how a server's life follows the runs.

This is the async source; ``tests/_sync/test_mcp.py`` is generated from it, so the sync API
is exercised against the same servers. Every wait is bounded: servers start within
``CONNECT_TIMEOUT`` and calls answer within ``CALL_TIMEOUT``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from reverie import Agent, AgentResult, FilePart, Message, ToolResultPart, UserError
from reverie.mcp import MCPServer, MCPServerError, MCPTool, http, stdio
from reverie.testing import MockModel
from tests.agent_helpers import call_in_running_loop
from tests.mcp_helpers import PNG, ROOT, SERVER_ARGS, free_port

CONNECT_TIMEOUT = 30.0
CALL_TIMEOUT = 15.0
TOOL_NAMES = ["add", "fail", "image", "weather", "echo_env", "pid", "sleep"]
MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])


def stdio_server(**options: Any) -> MCPServer:
    options = {"name": "test-stdio", "timeout": CALL_TIMEOUT, "connect_timeout": CONNECT_TIMEOUT, **options}
    return stdio(sys.executable, SERVER_ARGS, cwd=ROOT, **options)


def http_server(url: str, **options: Any) -> MCPServer:
    options = {"name": "test-http", "timeout": CALL_TIMEOUT, "connect_timeout": CONNECT_TIMEOUT, **options}
    return http(url, **options)


@pytest.fixture(scope="module")
def open_stdio_server() -> Iterator[MCPServer]:
    """One stdio session for the module's tests (each run inside shares it)."""
    with stdio_server() as server:
        yield server


@pytest.fixture(scope="module")
def open_http_server(mcp_http_url: str) -> Iterator[MCPServer]:
    with http_server(mcp_http_url) as server:
        yield server


@pytest.fixture(params=["stdio", "http"])
def server(request: pytest.FixtureRequest) -> MCPServer:
    return request.getfixturevalue(f"open_{request.param}_server")


async def run(agent: Agent, prompt: str = "Use the tools.", *, streaming: bool = False) -> AgentResult:
    if not streaming:
        return await agent.generate_async(prompt)
    stream = agent.stream_async(prompt)
    async for _ in stream:
        pass
    return await stream.result()


def script(*calls: tuple[str, dict[str, Any]], answer: str = "done") -> MockModel:
    """A model that makes ``calls`` in its first step, then answers."""
    return MockModel([MockModel.tool_calls(*calls), MockModel.text(answer)])


def results_sent(model: MockModel, request: int = 1) -> list[ToolResultPart]:
    """The tool results in the prompt of the model's ``request``-th request (0-based)."""
    messages: list[Message] = model.calls[request].prompt
    return [part for message in messages for part in message.content if isinstance(part, ToolResultPart)]


def wait_until_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


# --------------------------------------------------------------------------- the tool loop


@MODES
@pytest.mark.anyio
async def test_the_model_is_sent_the_servers_tools(server: MCPServer, streaming: bool) -> None:
    model = MockModel([MockModel.text("hello")])
    await run(Agent(model, tools=[server]), streaming=streaming)
    definitions = {definition.name: definition for definition in model.calls[0].tools}
    assert list(definitions) == TOOL_NAMES
    add = definitions["add"]
    assert add.description == "Add two integers."  # type: ignore[union-attr]
    assert add.parameters == {  # type: ignore[union-attr]
        "type": "object",
        "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
        "required": ["a", "b"],
        "title": "addArguments",
    }
    assert all(isinstance(item, MCPTool) for item in server.tools())


@MODES
@pytest.mark.anyio
async def test_a_result_reaches_the_models_next_request(server: MCPServer, streaming: bool) -> None:
    model = script(("add", {"a": 2, "b": 3}), answer="2 + 3 = 5")
    result = await run(Agent(model, tools=[server]), streaming=streaming)
    (sent,) = results_sent(model)
    assert (sent.tool_name, sent.output, sent.is_error, sent.media) == ("add", "5", False, None)
    assert sent.tool_call_id == result.steps[0].tool_calls[0].tool_call_id
    assert result.text == "2 + 3 = 5"


@pytest.mark.anyio
async def test_a_server_side_error_is_an_error_result_and_the_run_goes_on(server: MCPServer) -> None:
    model = script(("fail", {}), ("add", {"a": 1, "b": 1}))
    result = await run(Agent(model, tools=[server]))
    failed, added = results_sent(model)
    assert failed.is_error
    assert "the tool failed on purpose" in failed.output
    assert (added.output, added.is_error) == ("2", False)
    assert result.text == "done"


@pytest.mark.anyio
async def test_arguments_the_server_rejects_are_an_error_result(server: MCPServer) -> None:
    model = script(("add", {"a": "two", "b": 3}))
    await run(Agent(model, tools=[server]))
    (sent,) = results_sent(model)
    assert sent.is_error
    assert "a" in sent.output and "integer" in sent.output


@pytest.mark.anyio
async def test_an_image_result_reaches_the_model_as_media(server: MCPServer) -> None:
    model = script(("image", {}))
    await run(Agent(model, tools=[server]))
    (sent,) = results_sent(model)
    assert sent.media == FilePart(data=PNG, media_type="image/png")
    assert (sent.output, sent.is_error) == ("", False)


@pytest.mark.anyio
async def test_a_structured_result_reaches_the_model_as_json(server: MCPServer) -> None:
    model = script(("weather", {"city": "Paris"}))
    await run(Agent(model, tools=[server]))
    (sent,) = results_sent(model)
    assert json.loads(sent.output) == {"city": "Paris", "celsius": 21.5}


@pytest.mark.anyio
async def test_a_call_past_its_timeout_is_an_error_result(mcp_http_url: str) -> None:
    model = script(("sleep", {"seconds": 5}), ("add", {"a": 1, "b": 2}))
    started = time.monotonic()
    await run(Agent(model, tools=[http_server(mcp_http_url, timeout=0.5)]))
    assert time.monotonic() - started < 4.5
    slept, added = results_sent(model)
    assert slept.is_error
    assert "MCPServerError" in slept.output and "timeout of 0.5 s" in slept.output
    assert added.output == "3"  # the session outlives a call that timed out


# --------------------------------------------------------------------------- names


@pytest.mark.anyio
async def test_a_prefix_tells_two_servers_apart(open_stdio_server: MCPServer, mcp_http_url: str) -> None:
    remote = http_server(mcp_http_url, prefix="remote")
    model = script(("add", {"a": 1, "b": 2}), ("remote_add", {"a": 3, "b": 4}))
    await run(Agent(model, tools=[open_stdio_server, remote]))
    assert [definition.name for definition in model.calls[0].tools] == [
        *TOOL_NAMES,
        *(f"remote_{name}" for name in TOOL_NAMES),
    ]
    sent = [(result.tool_name, result.output) for result in results_sent(model)]
    assert sent == [("add", "3"), ("remote_add", "7")]


@pytest.mark.anyio
async def test_servers_whose_tools_share_names_are_refused(
    open_stdio_server: MCPServer, open_http_server: MCPServer
) -> None:
    model = MockModel([MockModel.text("never sent")])
    agent = Agent(model, tools=[open_stdio_server, open_http_server])
    with pytest.raises(UserError, match="prefix") as caught:
        await run(agent)
    assert "'add' from 'test-stdio' and 'test-http'" in str(caught.value)
    assert model.calls == []
    assert open_stdio_server.is_open and open_http_server.is_open  # the fixtures still hold them


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.anyio
async def test_a_stdio_server_given_to_an_agent_lives_for_one_run() -> None:
    server = stdio_server(env={"REVERIE_MCP_TEST": "from the agent"})
    seen_open: list[bool] = []
    model = script(("echo_env", {"name": "REVERIE_MCP_TEST"}), ("pid", {}))
    agent = Agent(model, tools=[server], on_tool_call=lambda call: seen_open.append(server.is_open))
    await run(agent)
    assert seen_open == [True, True]
    assert not server.is_open
    echoed, pid = results_sent(model)
    assert echoed.output == "from the agent"  # env extends the environment (PATH and all)
    assert wait_until_gone(int(pid.output)), "the server process outlived the run"


@pytest.mark.anyio
async def test_an_http_server_opens_for_each_run_and_closes_after(mcp_http_url: str) -> None:
    server = http_server(mcp_http_url)
    for answer in ("first", "second"):
        model = script(("add", {"a": 1, "b": 1}), answer=answer)
        result = await run(Agent(model, tools=[server]), streaming=answer == "second")
        assert result.text == answer
        assert not server.is_open
    with pytest.raises(UserError, match="is not open"):
        server.tools()


@pytest.mark.anyio
async def test_a_stream_closed_early_closes_its_server(mcp_http_url: str) -> None:
    server = http_server(mcp_http_url)
    stream = Agent(script(("add", {"a": 1, "b": 1})), tools=[server]).stream_async("Add.")
    async for _ in stream:
        break
    assert server.is_open
    await stream.aclose()
    assert not server.is_open


@pytest.mark.anyio
async def test_runs_inside_with_share_one_session(mcp_http_url: str) -> None:
    server = http_server(mcp_http_url)
    async with server:
        tools = server.tools()
        for _ in range(2):
            await run(Agent(script(("add", {"a": 2, "b": 2})), tools=[server]))
            assert server.is_open
            assert server.tools() is tools
    assert not server.is_open


@pytest.mark.anyio
async def test_reopened_servers_give_the_same_tools_again(mcp_http_url: str) -> None:
    # The agent reuses the definitions (and encodings) of tools that did not change.
    server = http_server(mcp_http_url)
    async with server:
        first = server.tools()
    async with server:
        assert server.tools() is first


def test_the_sync_api_works_inside_a_running_event_loop(mcp_http_url: str) -> None:
    # As in a notebook: the server's session runs on its own loop, not the caller's.
    model = script(("add", {"a": 2, "b": 5}))
    agent = Agent(model, tools=[http_server(mcp_http_url)])
    result = call_in_running_loop(lambda: agent.generate("Add."))
    assert result.steps[0].tool_results[0].output == "7"


# --------------------------------------------------------------------------- failures


@pytest.mark.anyio
async def test_a_command_that_cannot_start_raises_a_typed_error() -> None:
    server = stdio("/nonexistent/reverie-mcp-server", name="missing", connect_timeout=CONNECT_TIMEOUT)
    agent = Agent(MockModel([MockModel.text("never sent")]), tools=[server])
    with pytest.raises(MCPServerError, match="MCP server 'missing': could not connect") as caught:
        await run(agent)
    assert caught.value.server == "missing"
    assert isinstance(caught.value.__cause__, FileNotFoundError)
    assert not server.is_open


@pytest.mark.anyio
async def test_a_refused_connection_raises_a_typed_error() -> None:
    server = http(f"http://127.0.0.1:{free_port()}/mcp", connect_timeout=CONNECT_TIMEOUT)
    with pytest.raises(MCPServerError, match="could not connect"):
        await run(Agent(MockModel([MockModel.text("never sent")]), tools=[server]))
    assert not server.is_open


@pytest.mark.anyio
async def test_a_server_that_never_answers_times_out() -> None:
    silent = stdio(sys.executable, ["-c", "import sys; sys.stdin.read()"], name="silent", connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(MCPServerError, match="'silent': did not start and list its tools within 1 s"):
        async with silent:
            pass
    assert time.monotonic() - started < 10
    assert not silent.is_open

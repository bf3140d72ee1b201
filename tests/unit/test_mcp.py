"""``reverie.mcp`` without a server: results, arguments, names, and what importing it costs.

The results are the SDK's own types (``mcp_types``), built here as a server would send them.
The tool loop against real servers is in ``tests/_async/test_mcp.py``.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import subprocess
import sys
from typing import Any

import pytest
from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from reverie import (
    Agent,
    FilePart,
    Tool,
    ToolInputError,
    ToolResultPart,
    Toolset,
    UserError,
    tool,
)
from reverie.mcp import MCPServer, MCPServerError, MCPTool, http, stdio
from reverie.mcp._results import tool_result
from tests.conftest import ROOT

PNG = b"\x89PNG\r\n\x1a\nnot really"
WAV = b"RIFF....WAVEfmt "


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def convert(*content: Any, structured: Any = None, is_error: bool = False) -> ToolResultPart:
    result = CallToolResult(content=list(content), structured_content=structured, is_error=is_error)
    return tool_result(result, tool_name="tool", server="server")


# --------------------------------------------------------------------------- results


def test_text_blocks_are_the_results_text_one_a_line() -> None:
    converted = convert(TextContent(type="text", text="one"), TextContent(type="text", text="two"))
    assert (converted.output, converted.is_error, converted.media) == ("one\ntwo", False, None)


def test_an_image_is_the_results_media_after_the_text() -> None:
    converted = convert(
        TextContent(type="text", text="a chart"),
        ImageContent(type="image", data=encoded(PNG), mime_type="image/png"),
    )
    assert converted.output == "a chart"
    assert converted.media == FilePart(data=PNG, media_type="image/png")


def test_a_result_carries_one_file_and_names_the_others() -> None:
    converted = convert(
        AudioContent(type="audio", data=encoded(WAV), mime_type="audio/wav"),
        ImageContent(type="image", data=encoded(PNG), mime_type="image/png"),
    )
    assert converted.media == FilePart(data=WAV, media_type="audio/wav")
    assert converted.output == "[a further image/png file was not sent: a tool result carries one file]"


def test_embedded_resources_give_text_or_a_named_file() -> None:
    converted = convert(
        EmbeddedResource(
            type="resource", resource=TextResourceContents(uri="file:///notes.txt", text="the notes")
        ),
        EmbeddedResource(
            type="resource",
            resource=BlobResourceContents(
                uri="file:///reports/q3.pdf", blob=encoded(b"%PDF"), mime_type=None
            ),
        ),
    )
    assert converted.output == "the notes"
    assert converted.media == FilePart(data=b"%PDF", media_type="application/octet-stream", filename="q3.pdf")


def test_a_resource_link_is_named_in_the_text() -> None:
    converted = convert(ResourceLink(type="resource_link", name="readme", uri="file:///README.md"))
    assert converted.output == "resource readme: file:///README.md"


def test_structured_content_is_sent_as_json_when_there_is_no_text() -> None:
    converted = convert(structured={"city": "Paris", "celsius": 21.5})
    assert json.loads(converted.output) == {"city": "Paris", "celsius": 21.5}


def test_text_wins_over_structured_content() -> None:
    # Servers that follow the specification send the same JSON as text too.
    converted = convert(TextContent(type="text", text='{"result": 3}'), structured={"result": 3})
    assert converted.output == '{"result": 3}'


def test_is_error_makes_an_error_result_with_the_servers_message() -> None:
    converted = convert(TextContent(type="text", text="no such city"), is_error=True)
    assert (converted.output, converted.is_error) == ("no such city", True)


def test_a_file_that_is_not_base64_is_the_servers_error() -> None:
    with pytest.raises(MCPServerError, match="MCP server 'server': tool 'tool' returned a file that is not"):
        convert(ImageContent(type="image", data="not base64!", mime_type="image/png"))


# --------------------------------------------------------------------------- tools and arguments


class Caller:
    """Stands in for a server in ``MCPTool`` (records calls; the protocol has two methods)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResultPart:
        self.calls.append((name, arguments))
        return ToolResultPart(tool_call_id="", tool_name=name, output="ok")

    async def call_tool_async(self, name: str, arguments: dict[str, Any]) -> ToolResultPart:
        return self.call_tool(name, arguments)


def mcp_tool(name: str = "add", caller: Caller | None = None) -> MCPTool:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    return MCPTool(
        caller or Caller(), name=f"calc_{name}", remote_name=name, description="Add.", parameters=schema
    )


def test_an_mcp_tool_is_a_tool_that_calls_the_server_by_its_own_name() -> None:
    caller = Caller()
    item = mcp_tool(caller=caller)
    assert isinstance(item, Tool)
    assert item.definition().name == "calc_add"
    assert item.call(item.validate('{"a": 1}')).output == "ok"
    assert caller.calls == [("add", {"a": 1})]


@pytest.mark.parametrize(
    ("input_json", "message"),
    [("[1, 2]", "must be a JSON object"), ("{'a': 1", "invalid JSON input for tool 'calc_add'")],
)
def test_input_that_is_not_a_json_object_is_refused(input_json: str, message: str) -> None:
    with pytest.raises(ToolInputError, match=message):
        mcp_tool().validate(input_json)


def test_empty_input_is_no_arguments() -> None:
    assert mcp_tool().validate("  ") == {}


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: stdio("python", "-m server"), "args must be a list of strings"),
        (lambda: stdio(""), "command must be a non-empty string"),
        (lambda: stdio("python", env={"A": 1}), "env must map strings to strings"),  # type: ignore[dict-item]
        (lambda: stdio("python", prefix=""), "prefix must be a non-empty string"),
        (lambda: stdio("python", timeout=0), "timeout must be a positive number"),
        (lambda: http("ws://127.0.0.1/mcp"), "must be an http:// or https:// URL"),
        (lambda: http("http://127.0.0.1/mcp", headers={"x-key": "a\nb"}), "contains a line break"),
        (lambda: http("http://127.0.0.1/mcp", connect_timeout=float("nan")), "connect_timeout must be"),
    ],
)
def test_mistakes_are_refused_when_the_server_is_described(make: Any, message: str) -> None:
    with pytest.raises(UserError, match=message):
        make()


def test_default_names_hide_credentials_and_queries() -> None:
    server = http("https://user:hunter2@example.test:8443/mcp?token=abc#x")
    assert server.name == "https://example.test:8443/mcp"
    assert "hunter2" not in repr(server) and "token" not in repr(server)
    assert stdio("/usr/bin/python3", ["-m", "server"]).name == "python3 -m server"


def test_credential_headers_are_masked_in_errors() -> None:
    token = "sk-test-0123456789abcdef"
    server = http("http://127.0.0.1/mcp", headers={"Authorization": f"Bearer {token}"}, name="remote")
    error = MCPServerError(server.name, f"the server said: bad token {token}")
    assert token not in str(error)
    assert str(error).startswith("MCP server 'remote': the server said: bad token ")


def test_a_closed_server_has_no_tools_and_says_how_to_open_it() -> None:
    server = stdio("python", ["-m", "server"], name="calc")
    assert not server.is_open
    with pytest.raises(UserError, match=r"MCP server 'calc' is not open: .*Agent\(tools=\[server\]\)"):
        server.tools()
    with pytest.raises(UserError, match="tool 'add' cannot be called"):
        server.call_tool("add", {})
    server.__exit__(None, None, None)  # an exit without an entry changes nothing
    assert not server.is_open


def test_without_the_sdk_a_server_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "mcp" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(UserError, match=r'pip install "reverie\[mcp\]"'):
        stdio("python")


def test_importing_reverie_mcp_and_describing_servers_loads_no_sdk() -> None:
    script = (
        "import json, sys, reverie.mcp; "
        "reverie.mcp.stdio('python', ['-m', 'server']); reverie.mcp.http('http://127.0.0.1/mcp'); "
        "print(json.dumps(sorted(sys.modules)))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    modules = json.loads(completed.stdout)
    heavy = ("mcp", "mcp_types", "anyio", "asyncio", "pydantic", "httpx2")
    assert [name for name in modules if name.split(".")[0] in heavy] == []


# --------------------------------------------------------------------------- toolsets in an agent


@tool
def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def test_an_mcp_server_is_a_toolset_and_an_agent_keeps_it_apart_from_its_tools() -> None:
    from reverie.testing import MockModel

    server = stdio("python", ["-m", "server"])
    assert isinstance(server, Toolset) and isinstance(server, MCPServer)
    assert not isinstance(server, Tool)
    agent = Agent(MockModel([]), tools=[add, server])
    assert [item.name for item in agent.tools] == ["add"]
    assert agent.toolsets == (server,)
    assert "toolsets=['python -m server']" in repr(agent)

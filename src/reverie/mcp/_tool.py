"""``MCPTool``: one tool of an MCP server as the run sees it (the ``Tool`` protocol).

The definition is the server's: its name (after the server's prefix, if any), description
and input schema, passed on as the server gives it (each provider's codec converts it to its
own dialect, as it does for ``@tool`` schemas). ``validate`` only checks that the input is a
JSON object: the server validates the arguments, and its error reaches the model as an error
result. Calls go to the server that listed the tool; this module does no I/O of its own.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from reverie import _json
from reverie._content import ToolResultPart
from reverie._model import ToolDefinition
from reverie._tools.protocol import ToolInputError


class ToolCaller(Protocol):
    """What an ``MCPTool`` needs from its server: calls by the server's own tool name."""

    def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResultPart:
        """Call ``name`` from sync code."""
        ...

    async def call_tool_async(self, name: str, arguments: dict[str, Any]) -> ToolResultPart:
        """Call ``name`` from async code."""
        ...


class MCPTool:
    """A tool listed by an MCP server; implements the ``Tool`` protocol.

    Attributes:
        name: The name the model calls it by (the server's, after ``prefix_`` if one is set).
        remote_name: The name the server knows it by.
        description: The server's description (or title) of the tool.
        parameters: The JSON schema of the input, as the server gives it.
    """

    __slots__ = ("_server", "description", "name", "parameters", "remote_name")

    def __init__(
        self,
        server: ToolCaller,
        *,
        name: str,
        remote_name: str,
        description: str,
        parameters: dict[str, Any],
    ) -> None:
        self._server = server
        self.name = name
        self.remote_name = remote_name
        self.description = description
        self.parameters = parameters

    def __repr__(self) -> str:
        return f"MCPTool(name={self.name!r})"

    @property
    def parallel(self) -> bool:
        """Never: a server's tools may act on shared state, in the order the model asked."""
        return False

    def same_as(self, other: MCPTool) -> bool:
        """Whether ``other`` is listed exactly as this tool (name, description and schema)."""
        return (
            self.name == other.name
            and self.remote_name == other.remote_name
            and self.description == other.description
            and self.parameters == other.parameters
        )

    def definition(self) -> ToolDefinition:
        """The tool as sent to the model."""
        return ToolDefinition(name=self.name, description=self.description, parameters=self.parameters)

    def validate(self, input_json: str) -> dict[str, Any]:
        """The model's input as a dict of arguments.

        Raises:
            ToolInputError: the input is not a JSON object.
        """
        try:
            value: Any = _json.loads(input_json) if input_json.strip() else {}
        except ValueError as error:
            raise ToolInputError(f"invalid JSON input for tool {self.name!r}: {error}") from None
        if not isinstance(value, dict):
            raise ToolInputError(f"the input of tool {self.name!r} must be a JSON object")
        return cast(dict[str, Any], value)

    def call(self, arguments: dict[str, Any]) -> ToolResultPart:
        """Call the tool on its server from sync code."""
        return self._server.call_tool(self.remote_name, arguments)

    async def call_async(self, arguments: dict[str, Any]) -> ToolResultPart:
        """Call the tool on its server from async code."""
        return await self._server.call_tool_async(self.remote_name, arguments)

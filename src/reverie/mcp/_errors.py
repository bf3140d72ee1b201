"""``MCPServerError``: what goes wrong with an MCP server, named after the server.

Whatever the SDK or a transport raises (a command that does not start, a refused
connection, a JSON-RPC error, a closed session, a call past its timeout) is raised as this
error, with the original as its ``__cause__``. A tool that answers with an error result
(``isError``) does not raise: the model reads the error. This module only defines the error.
"""

from __future__ import annotations

from reverie._errors import ReverieError
from reverie._secrets import redact


class MCPServerError(ReverieError):
    """An MCP server could not be reached, started or understood, or a request to it failed.

    Attributes:
        server: The server's name (``MCPServer.name``).
        code: The JSON-RPC error code when the server answered with an error, else ``None``.
    """

    def __init__(self, server: str, message: str, *, code: int | None = None) -> None:
        # Header values that look like credentials are known secrets: a message quoting one is masked.
        super().__init__(redact(f"MCP server {server!r}: {message}"))
        self.server = server
        self.code = code

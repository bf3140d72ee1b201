"""An MCP server for the MCP tests, written with the SDK's own server API (``MCPServer``).

Tools: ``add(a, b)``, ``fail()`` (raises), ``image()`` (a small PNG), ``weather(city)``
(structured content: a typed result), ``echo_env(name)`` (an environment variable of the
server process, to check what ``env=`` passes), ``pid()`` (to check the process stops) and
``sleep(seconds)`` (for timeouts).

Run it over stdio (``python -m tests.mcp_server``, what ``reverie.mcp.stdio`` starts) or over
streamable HTTP on 127.0.0.1 (``python -m tests.mcp_server --http PORT``; the endpoint is
``/mcp``). It stops by itself when its parent stops: over stdio when stdin closes, over HTTP
when the process that started it is gone (``--parent PID``), so a failed test leaves nothing
running.
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image
from pydantic import BaseModel

from tests.mcp_helpers import PNG

server = MCPServer("reverie-test", log_level="WARNING")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def fail() -> str:
    """Always fails."""
    raise ToolError("the tool failed on purpose")


@server.tool()
def image() -> Image:
    """Return a tiny red PNG."""
    return Image(data=PNG, format="png")


class Weather(BaseModel):
    city: str
    celsius: float


@server.tool(structured_output=True)
def weather(city: str) -> Weather:
    """The weather in a city."""
    return Weather(city=city, celsius=21.5)


@server.tool()
def echo_env(name: str) -> str:
    """The value of an environment variable of the server process."""
    return os.environ.get(name, "<unset>")


@server.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
async def sleep(seconds: float) -> str:
    """Wait, then answer."""
    await anyio.sleep(seconds)
    return "awake"


def _exit_with_parent(parent: int) -> None:
    """Stop this process once ``parent`` is gone (a test that died does not leave a server)."""

    def watch() -> None:
        while True:
            try:
                os.kill(parent, 0)
            except OSError:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, default=None, help="serve streamable HTTP on 127.0.0.1:PORT")
    parser.add_argument("--parent", type=int, default=None, help="exit when this process is gone")
    options = parser.parse_args()
    if options.parent is not None:
        _exit_with_parent(options.parent)
    if options.http is None:
        server.run()
    else:
        server.run("streamable-http", host="127.0.0.1", port=options.http)


if __name__ == "__main__":
    main()

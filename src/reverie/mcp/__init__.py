"""MCP tools: the tools of a Model Context Protocol server, called by an agent.

    from reverie import Agent
    from reverie import mcp

    files = mcp.stdio("npx", ["-y", "@modelcontextprotocol/server-filesystem", "."])
    agent = Agent(model, tools=[files])                 # each run opens and closes the server
    with files:                                         # or: one session for every run inside
        agent.generate("Which files are here?")

``stdio`` starts a server as a subprocess; ``http`` reaches one over streamable HTTP. Either
is a ``reverie.Toolset``: its tools (``MCPTool``) join the agent's for each run, with the
server's names (after ``prefix`` and ``_``), descriptions and input schemas. A result's text,
images and structured content reach the model as the tool's result; a server-side error
reaches it as an error result with the server's message. Failures to start, reach or
understand a server raise ``MCPServerError``, naming the server.

Needs the ``mcp`` extra (``pip install "reverie[mcp]"``), the official MCP SDK, which is
imported only when a server opens. Sync and async agents both work: an open server keeps
its session on an event loop of its own, on a thread of its own.
"""

from reverie.mcp._errors import MCPServerError
from reverie.mcp._server import MCPServer, http, stdio
from reverie.mcp._tool import MCPTool

__all__ = ["MCPServer", "MCPServerError", "MCPTool", "http", "stdio"]

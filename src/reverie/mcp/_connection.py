"""The session with one MCP server, run by the SDK's client on the server's own event loop.

``Connection.serve`` is one long task: it starts the transport (a subprocess over stdio, or
streamable HTTP), opens the SDK's ``Client`` (the protocol handshake), lists the tools, hands
them over and holds the session until told to stop; then the SDK closes it (stdin closed, the
process stopped; the HTTP session ended). Keeping the whole session in one task is what the
SDK's structured concurrency asks (its task groups and cancel scopes must be left by the task
that entered them). ``Connection.call`` calls a tool; each call is its own task on the same loop.

Every failure leaves as ``MCPServerError`` naming the server, its cause chained. Which loop
and thread this runs on, and who waits for it, is ``reverie.mcp._server``'s concern.
"""

from __future__ import annotations

import math
import sys
from collections.abc import AsyncGenerator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio
import httpx2
from mcp import Client, MCPError
from mcp.client import Transport
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import Implementation
from mcp_types import Tool as ListedTool

from reverie._content import ToolResultPart
from reverie._version import __version__
from reverie.mcp._errors import MCPServerError
from reverie.mcp._results import tool_result
from reverie.mcp._targets import HttpTarget, StdioTarget

_MAX_PAGES = 100
"""Pages of ``tools/list`` read at most (a server whose cursor never ends cannot hang the run)."""
_CLIENT = Implementation(name="reverie", version=__version__)
"""How reverie introduces itself to servers."""
_HTTP_TIMEOUT = httpx2.Timeout(30.0, read=300.0)
"""The SDK's own defaults for MCP over HTTP: a server may hold a response stream open."""


class Connection:
    """One session with a server; lives on the server's event loop thread.

    Args:
        target: Where the server is.
        server: The server's name, for errors.
        connect_timeout: Seconds to start, shake hands and list the tools.
        timeout: Seconds a tool call may take (``None``: no bound).
    """

    def __init__(
        self, target: StdioTarget | HttpTarget, *, server: str, connect_timeout: float, timeout: float | None
    ) -> None:
        self.target = target
        self.server = server
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._client: Client | None = None

    async def serve(self, ready: Future[list[ListedTool]], stop: anyio.Event) -> None:
        """Connect, list the tools into ``ready``, hold the session until ``stop``, then close it.

        Raises:
            MCPServerError: the server could not be started, reached or understood in time.
        """
        with anyio.CancelScope(deadline=anyio.current_time() + self.connect_timeout) as scope:
            try:
                async with Client(self._transport(), client_info=_CLIENT) as client:
                    listed = await _list_tools(client)
                    scope.deadline = math.inf  # connected: the session lasts until told to stop
                    self._client = client
                    ready.set_result(listed)
                    await stop.wait()
                    self._client = None
            except MCPServerError:
                raise
            except MCPError as error:
                raise MCPServerError(
                    self.server, f"the session failed: {error.message}", code=error.code
                ) from error
            except Exception as error:  # whatever the transport or the SDK raised, named for the user
                what = "the session failed" if ready.done() else "could not connect"
                raise MCPServerError(self.server, f"{what}: {describe(error)}") from error
        if scope.cancelled_caught and not ready.done():
            raise MCPServerError(
                self.server, f"did not start and list its tools within {self.connect_timeout:g} s"
            )

    async def call(self, name: str, arguments: dict[str, Any]) -> ToolResultPart:
        """Call the server's tool ``name``; its result as the model reads it.

        Raises:
            MCPServerError: the call failed (an error answer, a closed session, the timeout).
        """
        client = self._client
        if client is None:
            raise MCPServerError(self.server, f"the session is closed; tool {name!r} was not called")
        try:
            with anyio.fail_after(self.timeout if self.timeout is not None else math.inf):
                result = await client.call_tool(name, arguments)
        except TimeoutError:
            raise MCPServerError(
                self.server, f"tool {name!r} did not answer within its timeout of {self.timeout:g} s"
            ) from None
        except MCPError as error:
            raise MCPServerError(self.server, f"tool {name!r}: {error.message}", code=error.code) from error
        except Exception as error:  # the session broke (the process died, the connection dropped)
            raise MCPServerError(self.server, f"calling tool {name!r} failed: {describe(error)}") from error
        return tool_result(result, tool_name=name, server=self.server)

    def _transport(self) -> Transport:
        target = self.target
        if isinstance(target, StdioTarget):
            parameters = StdioServerParameters(
                command=target.command, args=list(target.args), env=target.environment(), cwd=target.cwd
            )
            # The server's stderr goes to this process's stderr as it is now (the SDK's default
            # is the stream that was stderr when it was imported).
            return stdio_client(parameters, errlog=sys.stderr)
        return _http_transport(target)


@asynccontextmanager
async def _http_transport(
    target: HttpTarget,
) -> AsyncGenerator[tuple[ReadStream[SessionMessage | Exception], WriteStream[SessionMessage]]]:
    # An HTTP client of our own, to send the headers; closed with the session.
    async with (
        httpx2.AsyncClient(headers=dict(target.headers), timeout=_HTTP_TIMEOUT) as http_client,
        streamable_http_client(target.url, http_client=http_client) as streams,
    ):
        yield streams


async def _list_tools(client: Client) -> list[ListedTool]:
    listed: list[ListedTool] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        listed.extend(page.tools)
        cursor = page.next_cursor
        if cursor is None:
            break
    return listed


def describe(error: BaseException) -> str:
    """What went wrong, in one line: the innermost of nested single-error groups, with its type."""
    found = _innermost(error)
    detail = str(found)
    return f"{type(found).__name__}: {detail}" if detail else type(found).__name__


def _innermost(error: BaseException) -> BaseException:
    if not isinstance(error, BaseExceptionGroup):
        return error
    inner: tuple[BaseException, ...] = cast(Any, error).exceptions
    return _innermost(inner[0]) if len(inner) == 1 else cast(BaseException, error)

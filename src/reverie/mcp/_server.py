"""``MCPServer``: an MCP server's tools as a toolset, for sync and async agents alike.

The SDK is async-only, and a session must be closed by the task that opened it. So an open
server owns a small event loop on a thread of its own (anyio's blocking portal), where the
whole session lives (``reverie.mcp._connection``). Sync code waits for that loop directly;
async code waits in a worker thread, so any event loop (or none) can use the same server,
and a run's stream may be closed from any task, or by the garbage collector, without
breaking the SDK's task rules.

A server counts its users: ``with`` / ``async with`` and every run of an agent that has it
enter it; the first opens the session and the last closes it. So a server given to an agent
is opened for each run, unless the caller holds it open around several runs, which then
share one session (and one subprocess).

The SDK is imported when a server opens, never on ``import reverie.mcp``.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from concurrent.futures import TimeoutError as FutureTimeoutError
from contextlib import suppress
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from reverie._content import ToolResultPart
from reverie._errors import UserError
from reverie._log import logger
from reverie.mcp._errors import MCPServerError
from reverie.mcp._targets import HttpTarget, StdioTarget, http_target, stdio_target
from reverie.mcp._tool import MCPTool

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    import anyio
    from anyio.from_thread import BlockingPortal
    from mcp_types import Tool as ListedTool

    from reverie.mcp._connection import Connection

_GRACE = 15.0
"""Seconds, past ``connect_timeout``, to wait for a start that does not end on its own."""
_CLOSE_TIMEOUT = 15.0
"""Seconds to wait for the SDK to close a session (it bounds each of its own steps)."""


@dataclass(slots=True)
class _Session:
    """What an open server holds: its loop thread, the session task and the listed tools."""

    portal_context: AbstractContextManager[BlockingPortal]
    portal: BlockingPortal
    connection: Connection
    task: Future[None]
    stop: anyio.Event
    tools: tuple[MCPTool, ...]


class MCPServer:
    """An MCP server whose tools an agent may call: a ``reverie.Toolset``.

    Made by ``reverie.mcp.stdio`` or ``reverie.mcp.http``. Give it to an agent
    (``Agent(model, tools=[server])``) and each run opens it and closes it; or hold it open
    with ``with server:`` / ``async with server:`` and every run inside shares one session.
    While open, ``tools()`` lists its tools (``MCPTool``s).

    Attributes:
        name: What errors call the server (``name=`` if given, else the command or URL).
        prefix: Put before each tool's name with ``_`` (``None``: the server's names as they are).
        timeout: Seconds a tool call may take; past them the model gets an error result.
        connect_timeout: Seconds to start the server, shake hands and list its tools.
    """

    def __init__(
        self,
        target: StdioTarget | HttpTarget,
        *,
        name: str | None = None,
        prefix: str | None = None,
        timeout: float | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        _require_sdk()
        if prefix is not None and (not isinstance(prefix, str) or not prefix):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"an MCP server's prefix must be a non-empty string; got {prefix!r}")
        for what, value in (("timeout", timeout), ("connect_timeout", connect_timeout)):
            if value is not None and not value > 0:  # NaN fails this too
                raise UserError(f"an MCP server's {what} must be a positive number of seconds; got {value!r}")
        self.target = target
        self.name = name or target.describe()
        self.prefix = prefix
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._users = 0
        self._session: _Session | None = None
        self._listed: tuple[MCPTool, ...] = ()
        """The tools of the last session: given again while a new session lists the same."""

    def __repr__(self) -> str:
        state = "open" if self._session is not None else "closed"
        return f"MCPServer(name={self.name!r}, prefix={self.prefix!r}, {state})"

    @property
    def is_open(self) -> bool:
        """Whether a session is open (inside ``with``, or during a run)."""
        return self._session is not None

    def tools(self) -> tuple[MCPTool, ...]:
        """The server's tools, as listed when the session opened.

        Raises:
            UserError: the server is not open.
        """
        session = self._session
        if session is None:
            raise self._not_open("its tools are known once it is open")
        return session.tools

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> MCPServer:
        self._enter()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._exit()

    async def __aenter__(self) -> MCPServer:
        # Shielded: an open that completes in its thread must be counted, or no exit would
        # close it; it is bounded by connect_timeout.
        await _in_thread_shielded(self._enter)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await _in_thread_shielded(self._exit)

    def _enter(self) -> None:
        with self._lock:
            if self._session is None:
                self._session = self._open()
            self._users += 1

    def _exit(self) -> None:
        with self._lock:
            if self._users == 0:
                return  # more exits than entries: nothing is open
            self._users -= 1
            if self._users:
                return
            session, self._session = self._session, None
        if session is not None:
            self._close(session)

    def _open(self) -> _Session:
        from anyio import Event
        from anyio.from_thread import start_blocking_portal

        from reverie.mcp._connection import Connection

        connection = Connection(
            self.target, server=self.name, connect_timeout=self.connect_timeout, timeout=self.timeout
        )
        portal_context = start_blocking_portal(name="reverie-mcp")
        portal = portal_context.__enter__()
        try:
            stop = portal.call(Event)
            ready: Future[list[ListedTool]] = Future()
            task = portal.start_task_soon(connection.serve, ready, stop)
            started: list[Future[Any]] = [ready, task]
            wait(started, timeout=self.connect_timeout + _GRACE, return_when=FIRST_COMPLETED)
            if not ready.done():
                if task.done():
                    task.result()  # raises what the start failed with
                task.cancel()
                raise MCPServerError(self.name, f"did not start within {self.connect_timeout:g} s")
            listed = ready.result()
        except MCPServerError:
            _stop_portal(portal_context, portal)
            raise
        except Exception as error:  # cancelled, or the loop failed: still the server's error
            _stop_portal(portal_context, portal)
            raise MCPServerError(self.name, f"could not connect: {error!r}") from error
        except BaseException:
            _stop_portal(portal_context, portal)
            raise
        return _Session(
            portal_context=portal_context,
            portal=portal,
            connection=connection,
            task=task,
            stop=stop,
            tools=self._make_tools(listed),
        )

    def _close(self, session: _Session) -> None:
        try:
            session.portal.call(session.stop.set)
            session.task.result(timeout=_CLOSE_TIMEOUT)
        except FutureTimeoutError:
            logger.warning(
                "MCP server %r did not close within %g s; its session was abandoned",
                self.name,
                _CLOSE_TIMEOUT,
            )
        except Exception as error:  # closing must not fail a run that has its result
            logger.warning("MCP server %r failed while closing: %s", self.name, error)
        _stop_portal(session.portal_context, session.portal)

    def _make_tools(self, listed: list[ListedTool]) -> tuple[MCPTool, ...]:
        prefix = f"{self.prefix}_" if self.prefix else ""
        tools = tuple(
            MCPTool(
                self,
                name=prefix + item.name,
                remote_name=item.name,
                description=item.description or item.title or "",
                parameters={"type": "object", **item.input_schema},
            )
            for item in listed
        )
        previous = self._listed
        if len(previous) == len(tools) and all(map(MCPTool.same_as, previous, tools)):
            return previous  # the same tools: an agent reuses their definitions and encodings
        self._listed = tools
        return tools

    # -- calls -----------------------------------------------------------------------------

    def call_tool(self, name: str, arguments: dict[str, Any]) -> ToolResultPart:
        """Call the server's tool ``name`` (its own name, without the prefix) from sync code.

        Raises:
            UserError: the server is not open.
            MCPServerError: the call failed (an error answer, a closed session, the timeout).
        """
        future = self._submit(name, arguments)
        try:
            return future.result()
        except CancelledError:
            raise MCPServerError(self.name, f"the server was closed while tool {name!r} ran") from None

    async def call_tool_async(self, name: str, arguments: dict[str, Any]) -> ToolResultPart:
        """Call the server's tool ``name`` from async code (see ``call_tool``)."""
        import anyio.to_thread

        future = self._submit(name, arguments)
        try:
            return await anyio.to_thread.run_sync(future.result, abandon_on_cancel=True)
        except CancelledError:
            raise MCPServerError(self.name, f"the server was closed while tool {name!r} ran") from None
        finally:
            future.cancel()  # the caller was cancelled (a no-op once the call is done)

    def _submit(self, name: str, arguments: dict[str, Any]) -> Future[ToolResultPart]:
        session = self._session
        if session is not None:
            try:
                return session.portal.start_task_soon(session.connection.call, name, arguments)
            except RuntimeError:  # the session closed meanwhile
                pass
        raise self._not_open(f"tool {name!r} cannot be called")

    def _not_open(self, detail: str) -> UserError:
        return UserError(
            f"MCP server {self.name!r} is not open: {detail}. Give the server to "
            "Agent(tools=[server]), which opens it for each run, or hold it open with "
            "`with server:` / `async with server:`"
        )


def stdio(
    command: str,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    prefix: str | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    name: str | None = None,
    timeout: float | None = None,
    connect_timeout: float = 30.0,
) -> MCPServer:
    """An MCP server started as a subprocess and spoken to over its stdin and stdout.

    Args:
        command: The program to run (``"npx"``, ``sys.executable``, ...).
        args: Its arguments.
        env: Variables added to the current environment for the server process.
        prefix: Put before each tool's name with ``_`` (tells two servers' tools apart).
        cwd: The server's working directory (default: this process's).
        name: What errors call the server (default: the command and its arguments).
        timeout: Seconds a tool call may take; past them the model gets an error result
            (default: no bound).
        connect_timeout: Seconds to start the server, shake hands and list its tools.

    Raises:
        UserError: the ``mcp`` extra is not installed, or an argument is of the wrong kind.
    """
    return MCPServer(
        stdio_target(command, args, env, cwd),
        name=name,
        prefix=prefix,
        timeout=timeout,
        connect_timeout=connect_timeout,
    )


def http(
    url: str,
    headers: Mapping[str, str] | None = None,
    prefix: str | None = None,
    *,
    name: str | None = None,
    timeout: float | None = None,
    connect_timeout: float = 30.0,
) -> MCPServer:
    """An MCP server reached over streamable HTTP.

    Args:
        url: The server's MCP endpoint (e.g. ``"http://127.0.0.1:8000/mcp"``).
        headers: Sent with every request (e.g. ``{"authorization": "Bearer ..."}``); values of
            credential-like headers are masked in error messages.
        prefix: Put before each tool's name with ``_`` (tells two servers' tools apart).
        name: What errors call the server (default: the URL without credentials or query).
        timeout: Seconds a tool call may take; past them the model gets an error result
            (default: no bound).
        connect_timeout: Seconds to connect, shake hands and list the tools.

    Raises:
        UserError: the ``mcp`` extra is not installed, the URL is not http(s) or a header
            cannot be sent.
    """
    return MCPServer(
        http_target(url, headers),
        name=name,
        prefix=prefix,
        timeout=timeout,
        connect_timeout=connect_timeout,
    )


def _require_sdk() -> None:
    if importlib.util.find_spec("mcp") is None:  # finds the package without importing it
        raise UserError('MCP tools need the MCP SDK: pip install "reverie[mcp]"')


async def _in_thread_shielded(function: Callable[[], None]) -> None:
    import anyio
    import anyio.to_thread

    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(function)


def _stop_portal(portal_context: AbstractContextManager[BlockingPortal], portal: BlockingPortal) -> None:
    """Stop the server's loop, cancelling what still runs there, and join its thread."""
    with suppress(RuntimeError):  # already stopped
        portal.call(portal.stop, True)
    portal_context.__exit__(None, None, None)

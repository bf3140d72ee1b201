"""The ``Tool`` protocol: what the run needs from anything the model can call.

A tool describes itself (``definition``), checks the model's JSON input once
(``validate``) and runs with the checked arguments (``call`` from sync code,
``call_async`` from async code). ``@tool`` functions are one implementation; tools
that are not Python functions (a remote server's tools, say) implement the same four
members and fit the run unchanged. A tool may also have a ``requires_approval`` attribute
(``True``, or a function of the validated arguments returning whether a call needs it): the
run then pauses before its calls for a person to approve them (``reverie._run.approval``); and
an ``idempotent`` attribute (``False`` when absent): a durable run interrupted while a call ran
runs an idempotent tool's call again, and stops at any other's (``InterruptedToolError``).
Running a step's calls, in order or concurrently, is the run's job, not the tool's. A tool's
``call`` may return a ``ToolResultPart`` to send text with a file, or an error result, without
raising.

A ``Toolset`` is a source of tools known only once it is open (an MCP server's tools): an
``Agent`` takes it beside its tools and opens it for each run, or uses it as it is while the
caller holds it open.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any, Protocol, runtime_checkable

from reverie._errors import ReverieError
from reverie._model import ProviderTool, ToolDefinition


class ToolInputError(ReverieError, ValueError):
    """The model's input for a tool could not be parsed or validated.

    Raised by ``Tool.validate``; the message is sent to the model as the call's error result.
    """


@runtime_checkable
class Tool(Protocol):
    """Something the model may call: a name, a schema, validation and a way to run."""

    @property
    def name(self) -> str:
        """The name the model calls the tool by (unique within a run)."""
        ...

    @property
    def parallel(self) -> bool:
        """Whether calls of this tool in one step may run concurrently with other parallel calls."""
        ...

    def definition(self) -> ToolDefinition | ProviderTool:
        """The tool as sent to the model (a ``ProviderTool`` for a provider-defined tool).

        An agent asks once, at its first run, and sends the same definition (and its encoded
        form) on every later step and run: a tool whose definition changes is a new tool.
        """
        ...

    def validate(self, input_json: str) -> Any:
        """Check the model's JSON input and return the arguments for ``call``.

        Raises:
            ToolInputError: the input is not JSON or does not fit the schema.
        """
        ...

    def call(self, arguments: Any) -> Any:
        """Run with validated ``arguments`` from sync code; the return value is the result.

        A ``str`` is sent as is, a ``FilePart`` as the result's ``media``, a ``ToolResultPart``
        as its ``output``, ``media`` and ``is_error`` (its id and name are the call's), and
        anything else as JSON. A raised exception becomes an error result.
        """
        ...

    async def call_async(self, arguments: Any) -> Any:
        """Run with validated ``arguments`` from async code."""
        ...


@runtime_checkable
class Toolset(Protocol):
    """Tools that are known only once opened: an MCP server's tools, say.

    ``Agent(tools=[...])`` takes a toolset beside its tools. Each run enters it (``with`` in
    sync runs, ``async with`` in async ones), asks for its ``tools()`` once, and leaves it
    when the run ends. Entering counts uses: a toolset the caller already holds open stays
    open after the run, and every run inside the caller's ``with`` shares it.
    """

    @property
    def name(self) -> str:
        """What error messages call the toolset."""
        ...

    def tools(self) -> Sequence[Tool]:
        """The tools, while the toolset is open.

        Raises:
            UserError: the toolset is not open.
        """
        ...

    def __enter__(self) -> Any: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> Any: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> Any: ...

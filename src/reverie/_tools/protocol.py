"""The ``Tool`` protocol: what the run needs from anything the model can call.

A tool describes itself (``definition``), checks the model's JSON input once
(``validate``) and runs with the checked arguments (``call`` from sync code,
``call_async`` from async code). ``@tool`` functions are one implementation; tools
that are not Python functions (a remote server's tools, say) implement the same four
members and fit the run unchanged. A tool may also have a ``requires_approval`` attribute
(``True``, or a function of the validated arguments returning whether a call needs it): the
run then pauses before its calls for a person to approve them (``reverie._run.approval``).
Running a step's calls, in order or concurrently, is the run's job, not the tool's.
"""

from __future__ import annotations

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
        """Run with validated ``arguments`` from sync code; the return value is the result."""
        ...

    async def call_async(self, arguments: Any) -> Any:
        """Run with validated ``arguments`` from async code."""
        ...

"""``ProviderToolRunner``: a provider-defined tool (``ProviderTool``) as the run sees it.

An ``Agent`` takes ``ProviderTool``s beside ``@tool`` functions; each is wrapped here so that
the run treats it like any other ``Tool``. Its definition is the ``ProviderTool`` itself, which
the provider's codec sends. A tool the provider runs (web search) is never called: its calls
come back ``provider_executed`` and the run skips them. A tool the client runs (computer use)
calls the ``ProviderTool``'s ``run`` with the model's input as a dict. This module does not
encode the tool for any provider.
"""

from __future__ import annotations

import functools
import json
from typing import Any, cast

from reverie import _concurrency
from reverie._errors import UserError
from reverie._model import ProviderTool
from reverie._tools.protocol import Tool, ToolInputError


class ProviderToolRunner:
    """Implements the ``Tool`` protocol for one ``ProviderTool``."""

    __slots__ = ("tool",)

    def __init__(self, tool: ProviderTool) -> None:
        self.tool = tool

    def __repr__(self) -> str:
        return f"ProviderToolRunner({self.tool.id!r}, name={self.tool.name!r})"

    @property
    def name(self) -> str:
        """The name the model calls the tool by."""
        return self.tool.name

    @property
    def parallel(self) -> bool:
        """Never: actions on one computer (say) must happen in the order the model asked."""
        return False

    def definition(self) -> ProviderTool:
        """The ``ProviderTool``, which the provider's codec encodes."""
        return self.tool

    def validate(self, input_json: str) -> dict[str, Any]:
        """The model's input as a dict.

        Raises:
            ToolInputError: the input is not a JSON object.
        """
        try:
            value: Any = json.loads(input_json) if input_json.strip() else {}
        except ValueError as error:
            raise ToolInputError(f"invalid JSON input for tool {self.name!r}: {error}") from None
        if not isinstance(value, dict):
            raise ToolInputError(f"the input of tool {self.name!r} must be a JSON object")
        return cast(dict[str, Any], value)

    def call(self, arguments: dict[str, Any]) -> Any:
        """Run the tool's ``run`` with the model's input (from sync code)."""
        return self._run()(arguments)

    async def call_async(self, arguments: dict[str, Any]) -> Any:
        """Run the tool's ``run`` in a worker thread (from async code)."""
        return await _concurrency.run_in_thread(functools.partial(self._run(), arguments), {})

    def _run(self) -> Any:
        run = self.tool.run
        if run is None:
            raise UserError(
                f"the provider tool {self.name!r} ({self.tool.id}) has no run=...: "
                "pass one to run it in an agent"
            )
        return run


def as_tool(item: Tool | ProviderTool) -> Tool:
    """``item`` as the run sees it: a ``ProviderTool`` wrapped, any other tool as it is."""
    return ProviderToolRunner(item) if isinstance(item, ProviderTool) else item

"""``ToolSet``: a step's tools resolved once, and the check of an agent's tools.

A run needs its tools three ways on every step: as ``Tool``s by name (to validate and run
calls), as definitions for the ``Call``, and encoded by the provider's codec. A ``ToolSet``
does the first two once for a sequence of tools and keeps, in ``wire``, what codecs encoded
of its definitions, so a step whose tools did not change costs nothing per tool. An agent
builds one for its own tools; the run builds one per distinct tool set a ``prepare_step``
hook returns. ``check_tools`` checks an agent's tools in one pass; ``split_toolsets`` takes
the toolsets (``Toolset``: tools known only once open, an MCP server's) out of them, and
``with_toolsets`` adds what open toolsets list to a set. Nothing here opens a toolset, calls a
tool or encodes one for a provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import is_
from typing import TYPE_CHECKING, cast

from reverie._errors import UserError
from reverie._model import ProviderTool, ToolDefinition
from reverie._wire_cache import WireStore

if TYPE_CHECKING:
    # The tool classes load with the first tool: an agent without tools (a plain call) makes
    # an empty set and never needs them.
    from reverie._tools.protocol import Tool, Toolset


class ToolSet:
    """Tools resolved for the steps that use them.

    Attributes:
        source: The tools as given (``ProviderTool``s unwrapped), compared by identity.
        tools: As the run sees them (``ProviderTool``s wrapped).
        by_name: ``tools`` by name (a later tool wins over an earlier one of the same name).
        wire: What codecs encoded of ``definitions``, reused while the set is.
        extended: The set ``with_toolsets`` made last from this one (``None``: none yet).
    """

    __slots__ = ("_definitions", "by_name", "extended", "source", "tools", "wire")

    def __init__(self, items: Sequence[Tool | ProviderTool]) -> None:
        # A tuple is kept as it is, so that its owner can tell by identity that it is unchanged.
        self.source: tuple[Tool | ProviderTool, ...] = items if isinstance(items, tuple) else tuple(items)
        self.tools: tuple[Tool, ...] = _as_tools(self.source) if self.source else ()
        self.by_name: Mapping[str, Tool] = {item.name: item for item in self.tools}
        # Tool definitions are frozen, and a changed tool set is a new ToolSet: identity suffices.
        self.wire = WireStore()
        self._definitions: tuple[ToolDefinition | ProviderTool, ...] | None = None
        self.extended: ToolSet | None = None

    def __repr__(self) -> str:
        return f"ToolSet({[item.name for item in self.tools]})"

    @property
    def definitions(self) -> tuple[ToolDefinition | ProviderTool, ...]:
        """Each tool's ``definition()``, asked once, on first use.

        Not sooner: a ``@tool`` whose annotations name types defined later in its module
        builds its schema on first use, which may come after the agent is made.
        """
        definitions = self._definitions
        if definitions is None:
            definitions = self._definitions = tuple(item.definition() for item in self.tools)
        return definitions

    def made_from(self, items: Sequence[Tool | ProviderTool]) -> bool:
        """Whether ``items`` are the very tools (same objects, same order) this set was made from."""
        source = self.source
        return len(items) == len(source) and all(map(is_, items, source))


def _as_tools(items: Sequence[Tool | ProviderTool]) -> tuple[Tool, ...]:
    """``items`` as the run sees them (``ProviderTool``s wrapped)."""
    from reverie._tools.provider import as_tool  # with the first tool

    return tuple(as_tool(item) for item in items)


def _known_tool_types() -> tuple[type, ...]:
    """The tool classes known to implement ``Tool`` (loaded with the first tool)."""
    from reverie._tools.function import FunctionTool
    from reverie._tools.provider import ProviderToolRunner

    return (FunctionTool, ProviderToolRunner)


def check_tools(items: Sequence[Tool | ProviderTool]) -> tuple[Tool, ...]:
    """``items`` as ``Tool``s, checked in one pass: each is a tool, and no two share a name.

    Raises:
        UserError: an item is no tool, or names are shared (the message lists them).
    """
    if not items:
        return ()
    from reverie._tools.protocol import Tool

    known = _known_tool_types()
    tools = _as_tools(items)
    seen: set[str] = set()
    duplicates: set[str] = set()
    for item in tools:
        # The runtime protocol check is slow (it inspects every member, ~16 µs a tool): the
        # classes defined here are known to implement it.
        if not isinstance(item, known) and not isinstance(item, Tool):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(
                f"tools must be made with @tool, implement reverie.Tool or be a ProviderTool; got {item!r}"
            )
        name = item.name
        if name in seen:
            duplicates.add(name)
        seen.add(name)
    if duplicates:
        raise UserError(f"two tools share the name(s) {', '.join(sorted(duplicates))}")
    return tools


def split_toolsets(
    items: Sequence[Tool | ProviderTool | Toolset],
) -> tuple[list[Tool | ProviderTool], tuple[Toolset, ...]]:
    """``items`` parted into tools (in order) and toolsets (in order)."""
    tools: list[Tool | ProviderTool] = []
    toolsets: list[Toolset] = []
    if not items:
        return tools, ()
    from reverie._tools.protocol import Toolset

    known = (*_known_tool_types(), ProviderTool)
    for item in items:
        # The known tool classes skip the slow runtime protocol check.
        if not isinstance(item, known) and isinstance(item, Toolset):
            toolsets.append(item)
        else:
            tools.append(cast("Tool | ProviderTool", item))  # check_tools says what is not a tool
    return tools, tuple(toolsets)


def with_toolsets(own: ToolSet, toolsets: Sequence[Toolset]) -> ToolSet:
    """``own``'s tools followed by the tools of each open toolset, as one set.

    The set made last is kept on ``own`` (``extended``) and given again while it holds the
    very same tools, so that runs whose toolsets list unchanged tools share definitions and
    their encoded forms.

    Raises:
        UserError: two tools share a name (the message says whose they are).
    """
    owners: dict[str, list[str]] = {}
    for item in own.tools:
        owners.setdefault(item.name, []).append("the agent's own tools")
    listed: list[Tool] = []
    for toolset in toolsets:
        for item in toolset.tools():
            listed.append(item)
            owners.setdefault(item.name, []).append(repr(toolset.name))
    clashes = sorted((name, where) for name, where in owners.items() if len(where) > 1)
    if clashes:
        described = "; ".join(f"{name!r} from {' and '.join(where)}" for name, where in clashes)
        raise UserError(
            f"tools share a name: {described}; give a toolset a prefix "
            "(e.g. reverie.mcp.stdio(..., prefix=...)) so that its tools' names are its own"
        )
    items = (*own.source, *listed)
    cached = own.extended
    if cached is not None and cached.made_from(items):
        return cached
    own.extended = extended = ToolSet(items)
    return extended

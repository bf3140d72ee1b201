"""Blocks of the tools Anthropic runs itself (web search, web fetch, code execution, ...).

The API answers a server-side tool with two blocks in the assistant's message: the call
(``server_tool_use``, or another ``*_tool_use`` type) and its result (``web_search_tool_result``,
``code_execution_tool_result``, any ``*_tool_result``). They become a ``ToolCallPart`` and a
``ToolResultPart`` with ``provider_executed=True``, which the run keeps in the assistant turn
and never runs; this module also sends them back on the next request, as the API requires
(the result with its ``encrypted_content``). Types reverie does not know are kept the same
way rather than dropped: the block's own fields ride in ``provider_metadata["anthropic"]``.

Web search results, and the ``web_search_result_location`` citations of text blocks, also
become ``SourcePart``s. Pure functions; the decoders in ``decode.py`` and ``stream.py`` call
them, ``encode.py`` sends the blocks back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from reverie._content import SourcePart, ToolCallPart, ToolResultPart
from reverie.providers.anthropic.wire import PROVIDER

# Fields of a response block that are not sent back (the recorded follow-ups leave "caller" out).
_CALL_FIELDS = frozenset({"type", "id", "name", "input", "caller"})
_RESULT_FIELDS = frozenset({"type", "tool_use_id", "content", "caller"})


def is_server_call(kind: str) -> bool:
    """Whether a block type is the call of a tool the API runs (``server_tool_use``, ``mcp_tool_use``)."""
    return kind.endswith("_tool_use") and kind != "tool_use"


def is_server_result(kind: str) -> bool:
    """Whether a block type is the result of a tool the API ran (``web_search_tool_result``, ...)."""
    return kind.endswith("_tool_result") and kind != "tool_result"


def server_call(block: Mapping[str, Any], *, input_json: str | None = None) -> ToolCallPart:
    """The provider-executed call of a ``server_tool_use`` (or other ``*_tool_use``) block.

    ``input_json`` is the streamed input; without it the block's ``input`` is used.
    """
    if input_json is None:
        arguments = block.get("input")
        input_json = _compact(arguments if arguments is not None else {})
    metadata = {key: value for key, value in block.items() if key not in _CALL_FIELDS}
    metadata["type"] = block.get("type") or "server_tool_use"
    return ToolCallPart(
        tool_call_id=str(block.get("id") or ""),
        tool_name=str(block.get("name") or ""),
        input=input_json or "{}",
        provider_executed=True,
        provider_metadata={PROVIDER: metadata},
    )


def server_result(
    block: Mapping[str, Any], tool_names: Mapping[str, str]
) -> tuple[ToolResultPart, list[SourcePart]]:
    """The provider-executed result of a ``*_tool_result`` block, and the sources it found.

    Args:
        block: The block, e.g. ``{"type": "web_search_tool_result", "tool_use_id": ..., "content": [...]}``.
        tool_names: Names of the calls seen so far by id (the block does not repeat the tool's name).
    """
    kind = str(block.get("type") or "")
    call_id = str(block.get("tool_use_id") or "")
    content = _without_nulls(block.get("content"))
    metadata: dict[str, Any] = {key: value for key, value in block.items() if key not in _RESULT_FIELDS}
    metadata.update(type=kind, content=content)
    sources: list[SourcePart] = []
    is_error = False
    if isinstance(content, list):
        results = [cast(dict[str, Any], item) for item in cast(list[Any], content) if isinstance(item, dict)]
        found = [item for item in results if item.get("type") == "web_search_result"]
        for index, item in enumerate(found):
            sources.append(SourcePart(id=f"{call_id}_{index}", url=item.get("url"), title=item.get("title")))
        if found:
            output = _compact([{"title": item.get("title"), "url": item.get("url")} for item in found])
        else:
            output = _compact(content)
    else:
        # An error ({"type": "web_search_tool_result_error", "error_code": ...}) or another shape.
        is_error = isinstance(content, dict) and str(cast(dict[str, Any], content).get("type", "")).endswith(
            "_error"
        )
        output = _compact(content)
    name = tool_names.get(call_id) or kind.removesuffix("_tool_result")
    part = ToolResultPart(
        tool_call_id=call_id,
        tool_name=name,
        output=output,
        is_error=is_error,
        provider_executed=True,
        provider_metadata={PROVIDER: metadata},
    )
    return part, sources


def citation_source(citation: Mapping[str, Any], index: int) -> SourcePart | None:
    """A ``SourcePart`` for a text block's citation that names a URL (web search); else ``None``."""
    url = citation.get("url")
    if not isinstance(url, str) or not url:
        return None
    title = citation.get("title")
    return SourcePart(id=f"citation_{index}", url=url, title=title if isinstance(title, str) else None)


def encode_server_call(part: ToolCallPart) -> dict[str, Any] | None:
    """The block that sends a provider-executed call back; ``None`` if Anthropic did not run it."""
    metadata = part.provider_metadata.get(PROVIDER)
    if not metadata or "type" not in metadata:
        return None
    extra = {key: value for key, value in metadata.items() if key != "type"}
    try:
        arguments: Any = json.loads(part.input) if part.input else {}
    except ValueError:
        arguments = {}
    return {
        "type": metadata["type"],
        "id": part.tool_call_id,
        "name": part.tool_name,
        "input": arguments,
        **extra,
    }


def encode_server_result(part: ToolResultPart) -> dict[str, Any] | None:
    """The block that sends a provider-executed result back (with its ``encrypted_content``)."""
    metadata = part.provider_metadata.get(PROVIDER)
    if not metadata or "type" not in metadata:
        return None
    extra = {key: value for key, value in metadata.items() if key not in ("type", "content")}
    return {
        "type": metadata["type"],
        "tool_use_id": part.tool_call_id,
        "content": metadata.get("content"),
        **extra,
    }


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _without_nulls(value: Any) -> Any:
    # The API answers "page_age": null but the recorded follow-ups leave such keys out.
    if isinstance(value, dict):
        items = cast(dict[str, Any], value).items()
        return {key: _without_nulls(item) for key, item in items if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in cast(list[Any], value)]
    return value

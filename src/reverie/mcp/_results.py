"""An MCP tool result (``CallToolResult``) as the result the model reads (``ToolResultPart``).

- text blocks, and the text of embedded text resources, become the result's text, one block
  a line;
- an image, an audio clip or an embedded binary resource becomes the result's ``media`` (a
  ``FilePart``), as a ``@tool`` returning a file does; a result holds one file, so a later
  one is named in the text instead of being sent;
- a resource link is named in the text (its name and URI);
- structured content is sent as JSON when the result has no text (servers that follow the
  specification send both, the text being the same JSON);
- ``isError`` makes an error result carrying the server's message.

Pure: no I/O. The SDK's result types are imported from ``mcp_types`` (the ``mcp`` extra).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from mcp_types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

from reverie._content import FilePart, ToolResultPart
from reverie._run.tools import encode_tool_output
from reverie.mcp._errors import MCPServerError

_BINARY_DEFAULT = "application/octet-stream"


def tool_result(result: CallToolResult, *, tool_name: str, server: str) -> ToolResultPart:
    """``result`` of a call of ``tool_name`` as the model reads it (the run sets the call's id).

    Raises:
        MCPServerError: a file in the result is not valid base64.
    """
    texts: list[str] = []
    media: FilePart | None = None
    for block in result.content:
        found: FilePart | None = None
        if isinstance(block, TextContent):
            texts.append(block.text)
        elif isinstance(block, ImageContent | AudioContent):
            found = FilePart(data=_decode(block.data, tool_name, server), media_type=block.mime_type)
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            if isinstance(resource, TextResourceContents):
                texts.append(resource.text)
            else:
                found = _blob(resource, tool_name, server)
        elif isinstance(block, ResourceLink):  # pyright: ignore[reportUnnecessaryIsInstance] - a newer SDK may add kinds
            texts.append(f"resource {block.name}: {block.uri}")
        if found is None:
            continue
        if media is None:
            media = found
        else:
            texts.append(f"[a further {found.media_type} file was not sent: a tool result carries one file]")
    structured: Any = result.structured_content
    if not texts and structured is not None:
        texts.append(encode_tool_output(structured))
    return ToolResultPart(
        tool_call_id="",
        tool_name=tool_name,
        output="\n".join(texts),
        is_error=result.is_error,
        media=media,
    )


def _blob(resource: BlobResourceContents, tool_name: str, server: str) -> FilePart:
    name = resource.uri.rstrip("/").rpartition("/")[2] or None
    return FilePart(
        data=_decode(resource.blob, tool_name, server),
        media_type=resource.mime_type or _BINARY_DEFAULT,
        filename=name,
    )


def _decode(data: str, tool_name: str, server: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise MCPServerError(server, f"tool {tool_name!r} returned a file that is not valid base64") from None

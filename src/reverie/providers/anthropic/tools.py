"""Anthropic's provider-defined tools: web search (run by the API) and computer use (run by you).

``web_search()`` and ``computer_use()`` return ``ProviderTool``s for ``Agent(tools=[...])`` or
``Call.tools``. ``encode_provider_tool`` spells one as the API wants it and ``BETAS`` says
which ``anthropic-beta`` flag a tool type needs (computer use is a beta: its requests go to
``/messages?beta=true``). This module builds no request and reads no response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from reverie._content import FilePart
from reverie._errors import UserError
from reverie._model import ProviderTool
from reverie.providers.anthropic.wire import PROVIDER

WEB_SEARCH_TYPE = "web_search_20250305"

BETAS: dict[str, str] = {
    "computer_20250124": "computer-use-2025-01-24",
    "computer_20251124": "computer-use-2025-11-24",
}
"""The ``anthropic-beta`` flag each beta tool type needs."""


def web_search(
    *,
    max_uses: int | None = None,
    allowed_domains: Sequence[str] | None = None,
    blocked_domains: Sequence[str] | None = None,
    user_location: Mapping[str, str] | None = None,
) -> ProviderTool:
    """Web search run by Anthropic (``web_search_20250305``), named ``web_search``.

    Its calls and results come back in the answer as provider-executed parts, the pages it
    found as ``SourcePart``s; the run does not wait for it.

    Args:
        max_uses: At most this many searches per request.
        allowed_domains: Search only these domains (not with ``blocked_domains``).
        blocked_domains: Never search these domains.
        user_location: Where results should be local to: ``city``, ``region``, ``country``
            (ISO code) and ``timezone`` (IANA), e.g. ``{"city": "Rome", "country": "IT"}``.

    Raises:
        UserError: both ``allowed_domains`` and ``blocked_domains`` were given.
    """
    if allowed_domains is not None and blocked_domains is not None:
        raise UserError("web_search takes allowed_domains or blocked_domains, not both")
    args: dict[str, Any] = {}
    if max_uses is not None:
        args["max_uses"] = max_uses
    if allowed_domains is not None:
        args["allowed_domains"] = list(allowed_domains)
    if blocked_domains is not None:
        args["blocked_domains"] = list(blocked_domains)
    if user_location is not None:
        args["user_location"] = {"type": "approximate", **user_location}
    return ProviderTool(id=f"{PROVIDER}.{WEB_SEARCH_TYPE}", name="web_search", args=args)


def computer_use(
    *,
    display_width_px: int,
    display_height_px: int,
    version: Literal["20250124", "20251124"],
    display_number: int | None = None,
    run: Callable[[dict[str, Any]], str | FilePart] | None = None,
) -> ProviderTool:
    """Computer use (``computer_<version>``), a tool named ``computer`` that your code runs.

    The model asks for actions (``{"action": "screenshot"}``, ``{"action": "left_click",
    "coordinate": [x, y]}``, ...); in an ``Agent``, ``run`` receives that input and returns
    text or a ``FilePart`` (a screenshot), which goes back as an image. A direct model call
    needs only the definition. Requests carrying it use the beta Messages endpoint.

    Args:
        display_width_px: The screen's width in pixels.
        display_height_px: The screen's height in pixels.
        version: The tool version (``"20250124"``; ``"20251124"`` for the newest models).
        display_number: The X11 display number, if any.
        run: Carries out one action; needed when an ``Agent`` uses the tool.
    """
    if f"computer_{version}" not in BETAS:
        raise UserError(f"computer_use version must be one of 20250124, 20251124; got {version!r}")
    args: dict[str, Any] = {"display_width_px": display_width_px, "display_height_px": display_height_px}
    if display_number is not None:
        args["display_number"] = display_number
    return ProviderTool(id=f"{PROVIDER}.computer_{version}", name="computer", args=args, run=run)


def encode_provider_tool(tool: ProviderTool) -> dict[str, Any]:
    """The ``tools`` entry of an Anthropic provider tool: ``{"type", "name", **args}``.

    Raises:
        UserError: the tool belongs to another provider.
    """
    if tool.provider != PROVIDER:
        raise UserError(
            f"the provider tool {tool.name!r} ({tool.id}) cannot be sent to anthropic: "
            f"it belongs to the {tool.provider} provider"
        )
    return {"type": tool_type(tool), "name": tool.name, **tool.args}


def tool_type(tool: ProviderTool) -> str:
    """The API's type of a provider tool (``id`` without the provider)."""
    return tool.id.partition(".")[2]

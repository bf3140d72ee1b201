"""OpenAI's built-in tools on the Responses API: web search (run by OpenAI).

``web_search()`` returns a ``ProviderTool`` for ``Agent(tools=[...])`` or ``Call.tools``
(``openai.web_search``); ``encode_tool`` spells a tool of a call as the ``tools`` array wants
it. The chat-completions API has no built-in tools: its codec refuses them
(``check_chat_tools``). This module builds no request and reads no response.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from reverie._errors import UserError
from reverie._model import Call, ProviderTool, ToolDefinition

PROVIDER = "openai"
WEB_SEARCH = "web_search"
"""The built-in web search's tool type, and the name its provider-executed calls carry."""
_TYPES = frozenset({WEB_SEARCH})


def web_search(
    *,
    search_context_size: Literal["low", "medium", "high"] | None = None,
    user_location: Mapping[str, str] | None = None,
    allowed_domains: Sequence[str] | None = None,
) -> ProviderTool:
    """Web search run by OpenAI (Responses API only), named ``web_search``.

    Its calls and results come back in the answer as provider-executed parts and the pages
    it cites as ``SourcePart``s (``url_citation`` annotations); the run does not wait for it.

    Args:
        search_context_size: How much of the found pages the model reads.
        user_location: Where results should be local to: ``city``, ``region``, ``country``
            (ISO code) and ``timezone`` (IANA), e.g. ``{"city": "Rome", "country": "IT"}``.
        allowed_domains: Search only these domains.
    """
    args: dict[str, Any] = {}
    if search_context_size is not None:
        args["search_context_size"] = search_context_size
    if user_location is not None:
        args["user_location"] = {"type": "approximate", **user_location}
    if allowed_domains is not None:
        args["filters"] = {"allowed_domains": list(allowed_domains)}
    return ProviderTool(id=f"{PROVIDER}.{WEB_SEARCH}", name=WEB_SEARCH, args=args)


def encode_tool(tool: ToolDefinition | ProviderTool) -> dict[str, Any]:
    """One entry of the ``tools`` array: a non-strict function, or a built-in tool by its type.

    Raises:
        UserError: a ``ProviderTool`` of another provider, or of a type OpenAI does not have.
    """
    if isinstance(tool, ToolDefinition):
        return {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
            "strict": False,
        }
    kind = tool.id.partition(".")[2]
    if tool.provider != PROVIDER or kind not in _TYPES:
        raise UserError(
            f"the provider tool {tool.name!r} ({tool.id}) cannot be sent to the OpenAI Responses API: "
            f"it belongs to the {tool.provider} provider"
        )
    return {"type": kind, **tool.args}


def check_chat_tools(call: Call) -> None:
    """Refuse OpenAI's built-in tools on chat completions, which has none.

    Raises:
        UserError: naming the tool and the way to use it (``api="responses"``).
    """
    for tool in call.tools:
        if isinstance(tool, ProviderTool) and tool.provider == PROVIDER:
            raise UserError(
                f"the OpenAI tool {tool.name!r} ({tool.id}) works on the Responses API only: "
                'use openai.Provider(api="responses") (or azure.Provider(api="responses"))'
            )

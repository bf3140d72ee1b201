"""``@tool(provider_options=...)`` reaches the request, e.g. an Anthropic cache marker on a tool."""

from __future__ import annotations

from reverie import Agent, tool
from reverie.providers import anthropic
from tests.unit.test_reasoning_round_trip import ANTHROPIC_TEXT, ANTHROPIC_TEXT_EVENTS, scripted, sse


def test_a_tool_marker_set_with_the_decorator_reaches_the_anthropic_request() -> None:
    marker = {"anthropic": {"cache_control": {"type": "ephemeral"}}}

    @tool(provider_options=marker)
    def weather(location: str) -> str:
        """Get weather information for a location."""
        return "40 C"

    client, bodies = scripted([(ANTHROPIC_TEXT, sse(ANTHROPIC_TEXT_EVENTS))])
    with client:
        provider = anthropic.Provider(api_key="k", http_client=client)
        Agent(provider.language_model("claude-sonnet-4-20250514"), tools=[weather]).generate("hi")
    [entry] = bodies[0]["tools"]
    assert entry["name"] == "weather"
    assert entry["cache_control"] == {"type": "ephemeral"}
    assert weather.definition().provider_options == marker

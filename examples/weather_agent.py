"""A weather agent: one tool, a tool call, then the answer.

Runs offline on a scripted ``MockModel``. Give a model string to run it on a real provider
(with its key set), e.g. ``python examples/weather_agent.py openai:gpt-4o``.
"""

from __future__ import annotations

import sys
from typing import Annotated

from pydantic import Field

from reverie import Agent, LanguageModel, ToolCallPart, ToolResultPart, model, tool
from reverie.testing import MockModel


@tool
def weather(location: Annotated[str, Field(description="the city")]) -> str:
    """Get weather information for a location."""
    return "40 C"


def scripted_model() -> MockModel:
    """A model that calls the tool, then answers with its result."""
    return MockModel(
        [
            MockModel.tool_calls(("weather", {"location": "Florence"})),
            "It is 40 C in Florence: stay in the shade.",
        ]
    )


def show_call(call: ToolCallPart) -> None:
    """Print a tool call as the agent makes it."""
    print(f"-> {call.tool_name}({call.input})")


def show_result(result: ToolResultPart) -> None:
    """Print a tool's result as it goes back to the model."""
    print(f"<- {result.output}")


def main(model_string: str | None = None) -> None:
    """Ask the agent about the weather and print what it did."""
    language_model: LanguageModel = model(model_string) if model_string else scripted_model()
    agent = Agent(
        language_model,
        system_prompt="You are a helpful assistant",
        tools=[weather],
        on_tool_call=show_call,
        on_tool_result=show_result,
    )
    result = agent.generate("What's the weather in Florence?")
    print(f"answer: {result.text}")
    print(f"steps: {len(result.steps)}, finish: {result.finish_reason}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

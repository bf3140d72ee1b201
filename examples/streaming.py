"""Streaming an agent's run: text as it arrives, tool calls, and a retry mid-stream.

The scripted model's first answer breaks after a few words (a retryable error); the stream
yields a ``retry`` part saying what to forget, then the new attempt's parts. Offline.
"""

from __future__ import annotations

from reverie import (
    Agent,
    FinishPart,
    ProviderError,
    RetryPart,
    RetryPolicy,
    StepStartPart,
    TextDeltaPart,
    TextEndPart,
    TextStartPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
    tool,
)
from reverie.testing import MockModel


@tool
def population(city: str) -> int:
    """The population of a city."""
    return {"Lisbon": 545_000}.get(city, 0)


def scripted_model() -> MockModel:
    """A tool call; then an answer that breaks mid-stream; then the whole answer."""
    broken = (
        TextStartPart(id="0"),
        TextDeltaPart(id="0", delta="Lisbon has about "),
        ProviderError("connection reset", retryable=True),
    )
    whole = (
        TextStartPart(id="0"),
        TextDeltaPart(id="0", delta="Lisbon has about "),
        TextDeltaPart(id="0", delta="545,000 people."),
        TextEndPart(id="0"),
        FinishPart(finish_reason="stop", usage=Usage(input_tokens=40, output_tokens=9, total_tokens=49)),
    )
    return MockModel([MockModel.tool_calls(("population", {"city": "Lisbon"})), broken, whole])


def main() -> None:
    """Stream the run and print each kind of part as it comes."""
    agent = Agent(scripted_model(), tools=[population], retry=RetryPolicy(initial_delay=0.0))
    stream = agent.stream("How many people live in Lisbon?")
    shown = ""
    for part in stream:
        match part:
            case StepStartPart(step_number=number):
                print(f"[step {number}]")
            case ToolCallPart(tool_name=name, input=arguments):
                print(f"[tool call] {name}({arguments})")
            case ToolResultPart(output=output):
                print(f"[tool result] {output}")
            case TextDeltaPart(delta=delta):
                shown += delta
                print(f"[text] {delta!r}")
            case RetryPart(attempt=attempt, error=error, discarded=discarded):
                print(f"[retry {attempt}] {error}; forget {discarded.text!r}")
                shown = shown[: len(shown) - len(discarded.text)]
            case _:
                pass
    result = stream.result()
    print(f"shown: {shown}")
    print(f"answer: {result.text}")
    print(f"usage: {result.total_usage.total_tokens} tokens")


if __name__ == "__main__":
    main()

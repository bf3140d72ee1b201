"""Typed objects: from a model, streamed, and as an agent's output beside its tools. Offline."""

from __future__ import annotations

from pydantic import BaseModel, Field

from reverie import Agent, FinishPart, TextDeltaPart, TextEndPart, TextStartPart, Usage, tool
from reverie.testing import MockModel


class Person(BaseModel):
    """Someone mentioned in a text."""

    name: str = Field(description="The person's name")
    age: int
    city: str


class Trip(BaseModel):
    """A planned journey."""

    destination: str
    days: int
    budget_eur: int


@tool
def daily_cost(city: str) -> int:
    """What a day in a city costs, in euros."""
    return {"Porto": 120}.get(city, 150)


def main() -> None:
    """Extract a person, stream the same object, then plan a trip with a tool."""
    reply = '{"name": "Alice", "age": 30, "city": "Paris"}'

    person = MockModel(reply).generate_object("Alice, 30, lives in Paris.", schema=Person).object
    print(f"object: {person!r}")

    chunks = ['{"name": "Al', 'ice", "age"', ": 30, ", '"city": "Paris"}']
    streamed = MockModel(
        (
            TextStartPart(id="0"),
            *(TextDeltaPart(id="0", delta=chunk) for chunk in chunks),
            TextEndPart(id="0"),
            FinishPart(finish_reason="stop", usage=Usage()),
        )
    )
    stream = streamed.stream_object("Alice, 30, lives in Paris.", schema=Person)
    for part in stream:
        if part.type == "object":
            print(f"partial: {part.object}")
    print(f"streamed: {stream.result().object!r}")

    planner = MockModel(
        [
            MockModel.tool_calls(("daily_cost", {"city": "Porto"})),
            MockModel.tool_calls(("Trip", {"destination": "Porto", "days": 3, "budget_eur": 360})),
        ]
    )
    result = Agent(planner, tools=[daily_cost], output_type=Trip).generate("Plan 3 days in Porto")
    trip = result.output
    print(f"output: {trip!r}")
    print(f"per day: {trip.budget_eur // trip.days} EUR")


if __name__ == "__main__":
    main()

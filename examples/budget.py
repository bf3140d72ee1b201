"""A ``Budget`` ends a run that spends too much, and keeps what it did. Offline.

The scripted model keeps calling a search tool; every step costs tokens, priced as
``gpt-4o`` with the price data bundled with reverie. The budget allows five cents.
"""

from __future__ import annotations

from reverie import Agent, Budget, BudgetExceededError, Usage, tool
from reverie.testing import MockModel


@tool
def search(query: str) -> str:
    """Search the web."""
    return f"results for {query}"


def main() -> None:
    """Run a research agent under a budget and report what was spent."""
    step_usage = Usage(input_tokens=4_000, output_tokens=1_000, total_tokens=5_000)
    model = MockModel(
        MockModel.tool_calls(("search", {"query": "more"}), usage=step_usage),
        provider="openai",
        model_id="gpt-4o",
    )
    budget = Budget(max_cost=0.05)
    agent = Agent(model, tools=[search], budget=budget)
    try:
        agent.generate("Research everything about tides")
    except BudgetExceededError as error:
        print(f"stopped: {error}")
        print(f"steps kept: {len(error.result.steps)}")
        print(f"spent: ${budget.spent.cost:.4f} in {budget.spent.requests} requests")
    else:
        print("the run finished within its budget")


if __name__ == "__main__":
    main()

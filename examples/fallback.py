"""A ``FallbackModel``: the primary model is overloaded, so the backup answers. Offline."""

from __future__ import annotations

from reverie import Agent, FallbackModel, ProviderError, RetryPart, RetryPolicy
from reverie.testing import MockModel


def show_retry(retry: RetryPart) -> None:
    """Print each failed attempt and where the next one goes."""
    print(f"attempt {retry.attempt} failed: {retry.error} -> next: {retry.provider}:{retry.model}")


def main() -> None:
    """Run one prompt on a primary model that keeps failing, with a backup."""
    primary = MockModel(
        ProviderError("overloaded", status_code=529), provider="anthropic", model_id="claude-opus"
    )
    backup = MockModel("A short summary.", provider="openai", model_id="gpt-4.1")
    agent = Agent(
        FallbackModel(primary, backup),
        retry=RetryPolicy(max_retries=2, initial_delay=0.0),  # each model: 2 retries, then the next
        on_retry=show_retry,
    )
    result = agent.generate("Summarize the report")
    step = result.steps[-1]
    print(f"answer: {result.text}")
    print(f"answered by: {step.provider}:{step.model_id}")
    print(f"requests: primary {len(primary.calls)}, backup {len(backup.calls)}")


if __name__ == "__main__":
    main()

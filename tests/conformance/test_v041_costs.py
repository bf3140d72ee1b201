"""Every provider's recorded usage, priced: fantasy v0.41.2's recordings replayed, each step's cost checked.

Each case replays one recording of ``../shared/cassettes-v041`` through the public API (as the
conformance test does) and checks the first step's cost against a hand computation written out
from the price data bundled with genai-prices: price per million tokens x the tokens of the
recorded usage block, quoted beside it. The prices are checked against the data first, so a
change of the price data fails with a clear message. OpenRouter reports its cost: that one is
preferred to the computed one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import genai_prices
import httpx2
import pytest

from reverie import StepResult
from reverie.testing import Cassette
from reverie.testing.scenarios import Scenario, build_agent, load_manifest, run_scenario
from tests.conftest import CASSETTES_V041

M = 1_000_000


@dataclass(frozen=True)
class Case:
    path: str
    """The recording, under ../shared/cassettes-v041."""
    price_model: str
    price_provider: str | None
    prices: tuple[str, str]
    """Input and output price per million tokens in the price data."""
    tokens: tuple[int, int, int, int]
    """The step's usage as reverie reads it: input (not cached), cache read, output, reasoning."""
    input: float
    output: float
    cache_read: float = 0.0


CASES = [
    # OpenAI chat: "prompt_tokens":19,"completion_tokens":139 ("reasoning_tokens":128 of them).
    Case(
        "TestOpenAICommon/openai-gpt-5/simple.yaml",
        "gpt-5-2025-08-07",
        "openai",
        ("1.25", "10"),
        (19, 0, 139, 128),
        input=19 * 1.25 / M,
        output=139 * 10 / M,
    ),
    # OpenAI Responses: "input_tokens":20,"output_tokens":3.
    Case(
        "TestOpenAIResponsesCommon/openai-gpt-4o-mini/simple.yaml",
        "gpt-4o-mini-2024-07-18",
        "openai",
        ("0.15", "0.6"),
        (20, 0, 3, 0),
        input=20 * 0.15 / M,
        output=3 * 0.6 / M,
    ),
    # Azure chat: "prompt_tokens":19,"completion_tokens":85 ("reasoning_tokens":64).
    Case(
        "TestAzureCommon/azure-o4-mini/simple.yaml",
        "o4-mini-2025-04-16",
        "azure",
        ("1.1", "4.4"),
        (19, 0, 85, 64),
        input=19 * 1.1 / M,
        output=85 * 4.4 / M,
    ),
    # Azure Responses: "input_tokens":19,"output_tokens":164 ("reasoning_tokens":128).
    Case(
        "TestAzureResponsesCommon/azure-gpt-5-mini/simple.yaml",
        "gpt-5-mini",
        "azure",
        ("0.25", "2"),
        (19, 0, 164, 128),
        input=19 * 0.25 / M,
        output=164 * 2 / M,
    ),
    # Anthropic: "input_tokens":16,"output_tokens":34 (no cache reads or writes).
    Case(
        "TestAnthropicCommon/claude-sonnet-4/simple.yaml",
        "claude-sonnet-4-20250514",
        "anthropic",
        ("3", "15"),
        (16, 0, 34, 0),
        input=16 * 3 / M,
        output=34 * 15 / M,
    ),
    # Bedrock, the us. inference profile (regional price): "input_tokens":16,"output_tokens":7.
    Case(
        "TestBedrockCommon/bedrock-anthropic-claude-sonnet-4-5/simple.yaml",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "aws",
        ("3.3", "16.5"),
        (16, 0, 7, 0),
        input=16 * 3.3 / M,
        output=7 * 16.5 / M,
    ),
    # Gemini (answered by gemini-3.1-pro-preview): "promptTokenCount":11,
    # "candidatesTokenCount":34,"thoughtsTokenCount":222; thoughts are billed as output.
    Case(
        "TestGoogleCommon/gemini-3-pro-preview/simple.yaml",
        "gemini-3.1-pro-preview",
        "google",
        ("2", "12"),
        (11, 0, 34, 222),
        input=11 * 2 / M,
        output=(34 + 222) * 12 / M,
    ),
    # Gemini on Vertex: "promptTokenCount":9,"candidatesTokenCount":2,"thoughtsTokenCount":24.
    Case(
        "TestGoogleCommon/vertex-gemini-2-5-flash/simple.yaml",
        "gemini-2.5-flash",
        "google",
        ("0.3", "2.5"),
        (9, 0, 2, 24),
        input=9 * 0.3 / M,
        output=(2 + 24) * 2.5 / M,
    ),
    # Claude on Vertex: "input_tokens":16,"output_tokens":16.
    Case(
        "TestGoogleCommon/vertex-claude-3-7-sonnet/simple.yaml",
        "claude-3-7-sonnet-20250219",
        "google",
        ("3", "15"),
        (16, 0, 16, 0),
        input=16 * 3 / M,
        output=16 * 15 / M,
    ),
    # Vercel's gateway, priced at the vendor's price: "prompt_tokens":19,"completion_tokens":124.
    Case(
        "TestVercelCommon/gpt-5/simple.yaml",
        "gpt-5",
        "openai",
        ("1.25", "10"),
        (19, 0, 124, 64),
        input=19 * 1.25 / M,
        output=124 * 10 / M,
    ),
    # An OpenAI-compatible server whose model id the price data knows (xAI): "prompt_tokens":213
    # ("cached_tokens":192),"completion_tokens":2,"reasoning_tokens":256,"total_tokens":471;
    # xAI reports reasoning beside the completion, so it is billed on top. Cache read: $0.02/M.
    Case(
        "TestOpenAICompatibleCommon/xai-grok-code-fast/simple.yaml",
        "grok-code-fast-1",
        None,
        ("0.2", "1.5"),
        (21, 192, 2, 256),
        input=21 * 0.2 / M,
        output=(2 + 256) * 1.5 / M,
        cache_read=192 * 0.02 / M,
    ),
]


def _scenarios() -> dict[str, Scenario]:
    manifest = CASSETTES_V041 / "manifest.json"
    if not manifest.exists():
        return {}
    return {scenario.path: scenario for scenario in load_manifest(manifest)}


SCENARIOS = _scenarios()
pytestmark = pytest.mark.skipif(
    not SCENARIOS, reason=f"the v0.41.2 recordings are absent ({CASSETTES_V041}); the cost checks replay them"
)


def first_step(path: str) -> StepResult:
    """Replay the recording and return its run's first step."""
    scenario = SCENARIOS[path]
    cassette = Cassette.load(scenario.recording, match="strict")
    with httpx2.Client(transport=cassette) as client:
        result = run_scenario(scenario, build_agent(scenario, http_client=client))
    return result.steps[0]


@pytest.mark.parametrize("case", CASES, ids=[case.path for case in CASES])
def test_recorded_usage_is_priced_from_the_price_data(case: Case) -> None:
    prices = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1), case.price_model, provider_id=case.price_provider
    ).model_price
    input_price = prices.input_mtok if isinstance(prices.input_mtok, Decimal) else prices.input_mtok.base
    output_price = prices.output_mtok if isinstance(prices.output_mtok, Decimal) else prices.output_mtok.base
    assert (input_price, output_price) == (Decimal(case.prices[0]), Decimal(case.prices[1])), (
        "price data changed"
    )

    step = first_step(case.path)
    usage = step.usage
    assert (
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.output_tokens,
        usage.reasoning_tokens,
    ) == case.tokens
    cost = step.cost
    assert cost is not None
    assert cost.source == "computed"
    assert cost.input == pytest.approx(case.input, rel=1e-12)
    assert cost.output == pytest.approx(case.output, rel=1e-12)
    assert cost.cache_read == pytest.approx(case.cache_read, rel=1e-12, abs=1e-18)
    assert cost.cache_write == 0
    assert cost.total == pytest.approx(case.input + case.output + case.cache_read, rel=1e-12)


def test_openrouter_reports_its_cost_and_it_is_preferred() -> None:
    # "usage":{"prompt_tokens":21,"completion_tokens":202,"total_tokens":223,"cost":0.00045364,
    # "cost_details":{"upstream_inference_prompt_cost":0.00000924,
    # "upstream_inference_completions_cost":0.0004444},...}
    step = first_step("TestOpenRouterCommon/kimi/simple.yaml")
    cost = step.cost
    assert cost is not None
    assert cost.source == "reported"
    assert cost.input == 0.00000924
    assert cost.output == pytest.approx(0.0004444, rel=1e-9)
    assert cost.total == pytest.approx(0.00045364, rel=1e-9)
    # The price data would have said otherwise: 21 x $0.532/M + 202 x $3.325/M.
    prices = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1), "moonshotai/kimi-k2.5", provider_id="openrouter"
    ).model_price
    assert (prices.input_mtok, prices.output_mtok) == (Decimal("0.532"), Decimal("3.325")), (
        "price data changed"
    )
    assert cost.total != pytest.approx(21 * 0.532 / M + 202 * 3.325 / M)


def test_a_run_sums_its_steps_costs() -> None:
    scenario = SCENARIOS["TestAnthropicCommon/claude-sonnet-4/tool.yaml"]
    cassette = Cassette.load(scenario.recording, match="strict")
    with httpx2.Client(transport=cassette) as client:
        result = run_scenario(scenario, build_agent(scenario, http_client=client))
    assert len(result.steps) == 2
    costs = [step.cost for step in result.steps]
    assert all(cost is not None for cost in costs)
    assert result.total_cost == pytest.approx(sum(cost.total for cost in costs if cost is not None))
    usage = result.total_usage
    assert result.total_cost == pytest.approx((usage.input_tokens * 3 + usage.output_tokens * 15) / M)

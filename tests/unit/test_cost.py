"""Step costs (``reverie._cost``): the provider mapping, the usage shapes, reported and computed costs.

Computed costs are checked against hand computations written out from the price data bundled
with genai-prices (price per million tokens x tokens); each test first checks that the price
data still holds the prices it writes out, so a change of the data fails with a clear message.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import FrozenInstanceError
from decimal import Decimal
from typing import Any

import genai_prices
import pytest

from reverie import AgentResult, Cost, StepResult, Usage
from reverie._cost import (
    PriceRef,
    TokenCounts,
    computed_cost,
    price_refs,
    reported_cost,
    step_cost,
    token_counts,
    usage_shape,
)

M = 1_000_000


def model_prices(model: str, provider_id: str | None) -> Any:
    """The price data's prices of ``model`` today."""
    return genai_prices.calc_price(
        genai_prices.Usage(input_tokens=1), model, provider_id=provider_id
    ).model_price


def step(provider: str, model_id: str, usage: Usage, **extra: Any) -> StepResult:
    return StepResult(
        step_number=0,
        content=[],
        finish_reason="stop",
        usage=usage,
        messages=[],
        provider=provider,
        model_id=model_id,
        **extra,
    )


# ---------------------------------------------------------------------------- the mapping


@pytest.mark.parametrize(
    ("provider", "model_id", "response_model_id", "expected"),
    [
        ("openai", "gpt-4o", "gpt-4o-2024-08-06", [("openai", "gpt-4o-2024-08-06"), ("openai", "gpt-4o")]),
        ("openai", "gpt-4o", None, [("openai", "gpt-4o")]),
        ("openai", "gpt-4o", "gpt-4o", [("openai", "gpt-4o")]),
        ("azure", "my-deployment", "gpt-5-mini", [("azure", "gpt-5-mini"), ("azure", "my-deployment")]),
        ("openrouter", "moonshotai/kimi-k2.5", None, [("openrouter", "moonshotai/kimi-k2.5")]),
        ("anthropic", "claude-sonnet-4-20250514", None, [("anthropic", "claude-sonnet-4-20250514")]),
        # Bedrock: the asked id first, its inference profile (us., global.) sets the price.
        (
            "bedrock",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "claude-haiku-4-5-20251001",
            [("aws", "us.anthropic.claude-haiku-4-5-20251001-v1:0"), ("aws", "claude-haiku-4-5-20251001")],
        ),
        ("google", "gemini-2.5-flash", None, [("google", "gemini-2.5-flash")]),
        ("vertex", "gemini-2.5-pro", None, [("google", "gemini-2.5-pro")]),
        ("vertex", "claude-3-7-sonnet@20250219", None, [("google", "claude-3-7-sonnet@20250219")]),
        ("vercel", "anthropic/claude-sonnet-4", None, [("anthropic", "claude-sonnet-4")]),
        ("vercel", "xai/grok-4", None, [("x-ai", "grok-4")]),
        ("vercel", "gpt-5", None, [(None, "gpt-5")]),
        ("openaicompat", "grok-3-mini", None, [(None, "grok-3-mini")]),
        ("groq", "llama-3.3-70b-versatile", None, [("groq", "llama-3.3-70b-versatile")]),
        ("", "m", None, []),
    ],
)
def test_price_refs_map_reverie_providers_to_price_data_ids(
    provider: str, model_id: str, response_model_id: str | None, expected: list[tuple[str | None, str]]
) -> None:
    refs = price_refs(provider, model_id, response_model_id)
    assert [(ref.provider_id, ref.model_ref) for ref in refs] == expected


@pytest.mark.parametrize(
    ("provider", "model_id", "shape"),
    [
        ("openai", "gpt-5", "openai"),
        ("azure", "o4-mini", "openai"),
        ("openrouter", "anthropic/claude-haiku-4.5", "openai"),
        ("vercel", "anthropic/claude-sonnet-4", "openai"),
        ("openaicompat", "grok-3-mini", "openai"),
        ("mock", "mock-model", "openai"),
        ("anthropic", "claude-sonnet-4", "anthropic"),
        ("bedrock", "us.anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic"),
        ("vertex", "claude-3-7-sonnet@20250219", "anthropic"),
        ("vertex", "gemini-2.5-flash", "gemini"),
        ("google", "gemini-2.5-flash", "gemini"),
    ],
)
def test_usage_shape_follows_the_codec_family(provider: str, model_id: str, shape: str) -> None:
    assert usage_shape(provider, model_id) == shape
    assert all(ref.shape == shape for ref in price_refs(provider, model_id))


def test_price_ref_is_a_value() -> None:
    assert PriceRef("openai", "gpt-4o", "openai") == PriceRef("openai", "gpt-4o", "openai")


# ---------------------------------------------------------------------------- usage shapes


def test_openai_shape_keeps_reasoning_inside_the_output_and_takes_cache_writes_out_of_the_input() -> None:
    # prompt_tokens 1000 (100 cached, 50 written), completion_tokens 300 of which 200 reasoning.
    usage = Usage(
        input_tokens=900,
        cache_read_tokens=100,
        cache_creation_tokens=50,
        output_tokens=300,
        reasoning_tokens=200,
        total_tokens=1300,
    )
    assert token_counts(usage, "openai") == TokenCounts(
        input=850, cache_read=100, cache_write=50, output=300, reasoning=200
    )


def test_openai_shape_adds_reasoning_that_the_total_reports_beside_the_completion() -> None:
    # xAI (TestOpenAICompatibleCommon/xai-grok-code-fast/simple.yaml): prompt_tokens 213
    # (192 cached), completion_tokens 2, reasoning_tokens 256, total_tokens 471 = 213 + 2 + 256.
    usage = Usage(
        input_tokens=21, cache_read_tokens=192, output_tokens=2, reasoning_tokens=256, total_tokens=471
    )
    assert token_counts(usage, "openai") == TokenCounts(
        input=21, cache_read=192, cache_write=0, output=258, reasoning=256
    )


def test_anthropic_shape_counts_cache_apart_from_the_input() -> None:
    usage = Usage(input_tokens=10, cache_read_tokens=2000, cache_creation_tokens=300, output_tokens=40)
    assert token_counts(usage, "anthropic") == TokenCounts(
        input=10, cache_read=2000, cache_write=300, output=40, reasoning=0
    )
    assert token_counts(usage, "anthropic").all_input == 2310


def test_gemini_shape_bills_thoughts_as_output() -> None:
    usage = Usage(input_tokens=11, output_tokens=34, reasoning_tokens=222, total_tokens=267)
    assert token_counts(usage, "gemini") == TokenCounts(
        input=11, cache_read=0, cache_write=0, output=256, reasoning=222
    )


# ---------------------------------------------------------------------------- Cost


def test_cost_total_is_the_sum_of_its_parts_and_cost_is_frozen() -> None:
    cost = Cost(input=0.25, output=0.5, cache_read=0.125, cache_write=0.0625)
    assert cost.total == 0.9375
    assert cost.source == "computed"
    assert Cost().total == 0
    with pytest.raises(FrozenInstanceError):
        cost.input = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        Cost(total=3.0)  # type: ignore[call-arg]


# ---------------------------------------------------------------------------- reported costs

OPENROUTER_METADATA: dict[str, Any] = {  # TestOpenRouterCommon/kimi/simple.yaml
    "openrouter": {
        "cost": 0.00045364,
        "is_byok": False,
        "cost_details": {
            "upstream_inference_cost": 0.00045364,
            "upstream_inference_prompt_cost": 0.00000924,
            "upstream_inference_completions_cost": 0.0004444,
        },
        "provider": "Moonshot AI",
    }
}


def test_a_reported_cost_is_split_as_openrouter_splits_it() -> None:
    cost = reported_cost(OPENROUTER_METADATA)
    assert cost is not None
    assert cost.source == "reported"
    assert cost.input == 0.00000924
    assert cost.output == pytest.approx(0.0004444, abs=1e-15)
    assert cost.total == pytest.approx(0.00045364, abs=1e-15)
    assert (cost.cache_read, cost.cache_write) == (0, 0)


def test_a_reported_cost_whose_split_does_not_add_up_is_all_input() -> None:
    # With one's own key, "cost" is OpenRouter's fee; the upstream split is another bill.
    metadata = {
        "openrouter": {
            "cost": 0.00002,
            "is_byok": True,
            "cost_details": {
                "upstream_inference_cost": 0.0004,
                "upstream_inference_prompt_cost": 0.0001,
                "upstream_inference_completions_cost": 0.0003,
            },
        }
    }
    assert reported_cost(metadata) == Cost(input=0.00002, source="reported")
    assert reported_cost({"openrouter": {"cost": 0.5}}) == Cost(input=0.5, source="reported")


@pytest.mark.parametrize("value", [None, True, "0.1", float("nan")])
def test_no_number_is_no_reported_cost(value: Any) -> None:
    assert reported_cost({"openrouter": {"cost": value}}) is None
    assert reported_cost({}) is None


def test_a_reported_cost_is_preferred_to_the_computed_one() -> None:
    # The price data knows this model at another price than OpenRouter charged for the call.
    usage = Usage(input_tokens=21, output_tokens=202, reasoning_tokens=166, total_tokens=223)
    computed = computed_cost(usage, provider="openrouter", model_id="moonshotai/kimi-k2.5")
    assert computed is not None and computed.total != pytest.approx(0.00045364)
    reported = step_cost(
        provider="openrouter",
        model_id="moonshotai/kimi-k2.5",
        response_model_id="moonshotai/kimi-k2.5-0127",
        usage=usage,
        provider_metadata=OPENROUTER_METADATA,
    )
    assert reported is not None
    assert reported.source == "reported"
    assert reported.total == pytest.approx(0.00045364, abs=1e-15)


# ---------------------------------------------------------------------------- computed costs


def test_cache_reads_and_writes_are_priced_as_the_price_data_says() -> None:
    prices = model_prices("claude-sonnet-4-20250514", "anthropic")
    assert (prices.input_mtok, prices.output_mtok) == (Decimal("3"), Decimal("15"))
    assert (prices.cache_read_mtok, prices.cache_write_mtok) == (Decimal("0.3"), Decimal("3.75"))
    usage = Usage(input_tokens=10, cache_read_tokens=2000, cache_creation_tokens=300, output_tokens=40)
    cost = computed_cost(usage, provider="anthropic", model_id="claude-sonnet-4-20250514")
    assert cost is not None
    assert cost.input == pytest.approx(10 * 3 / M)
    assert cost.cache_read == pytest.approx(2000 * 0.3 / M)
    assert cost.cache_write == pytest.approx(300 * 3.75 / M)
    assert cost.output == pytest.approx(40 * 15 / M)
    assert cost.total == pytest.approx((10 * 3 + 2000 * 0.3 + 300 * 3.75 + 40 * 15) / M)


def test_cache_without_a_price_of_its_own_is_priced_as_input() -> None:
    prices = model_prices("grok-code-fast-1", None)
    assert (prices.input_mtok, prices.cache_write_mtok) == (Decimal("0.2"), None)
    usage = Usage(input_tokens=150, cache_creation_tokens=50, output_tokens=1, total_tokens=151)
    cost = computed_cost(usage, provider="openaicompat", model_id="grok-code-fast-1")
    assert cost is not None
    assert cost.input == pytest.approx(100 * 0.2 / M)
    assert cost.cache_write == pytest.approx(50 * 0.2 / M)


def test_a_reasoning_price_and_a_request_price_are_used_where_the_data_has_them() -> None:
    prices = model_prices("sonar-deep-research", "perplexity")
    assert (prices.input_mtok, prices.output_mtok) == (Decimal("2"), Decimal("8"))
    assert prices.output_reasoning_mtok == Decimal("3")
    per_request = prices.requests_kcount
    usage = Usage(input_tokens=1000, output_tokens=5000, reasoning_tokens=4000, total_tokens=6000)
    cost = computed_cost(usage, provider="perplexity", model_id="sonar-deep-research")
    assert cost is not None
    expected_request = float(per_request) / 1000 if per_request is not None else 0.0
    assert cost.input == pytest.approx(1000 * 2 / M + expected_request)
    assert cost.output == pytest.approx(1000 * 8 / M + 4000 * 3 / M)


def test_tiered_prices_switch_on_the_whole_prompt() -> None:
    prices = model_prices("gemini-3.1-pro-preview", "google")
    assert (prices.input_mtok.base, prices.input_mtok.tiers[0].start, prices.input_mtok.tiers[0].price) == (
        Decimal("2"),
        200_000,
        Decimal("4"),
    )
    assert (prices.output_mtok.base, prices.output_mtok.tiers[0].price) == (Decimal("12"), Decimal("18"))
    assert (prices.cache_read_mtok.base, prices.cache_read_mtok.tiers[0].price) == (
        Decimal("0.2"),
        Decimal("0.4"),
    )
    # 150,000 fresh + 100,000 cached = 250,000 > 200,000: every token at the upper tier.
    usage = Usage(input_tokens=150_000, cache_read_tokens=100_000, output_tokens=1000, reasoning_tokens=500)
    cost = computed_cost(usage, provider="google", model_id="gemini-3.1-pro-preview")
    assert cost is not None
    assert cost.input == pytest.approx(150_000 * 4 / M)
    assert cost.cache_read == pytest.approx(100_000 * 0.4 / M)
    assert cost.output == pytest.approx(1500 * 18 / M)
    small = computed_cost(
        Usage(input_tokens=1000, output_tokens=10), provider="google", model_id="gemini-3.1-pro-preview"
    )
    assert (
        small is not None
        and small.input == pytest.approx(1000 * 2 / M)
        and small.output == pytest.approx(10 * 12 / M)
    )


@pytest.mark.parametrize(
    ("provider", "model_id"),
    [
        ("mock", "mock-model"),
        ("openai", "no-such-model"),
        ("openaicompat", "moonshotai/kimi-k2-instruct-0905"),
        ("openaicompat", "llama3"),
        ("vercel", "nobody/nothing"),
        ("", ""),
    ],
)
def test_an_unknown_model_costs_none_and_raises_nothing(provider: str, model_id: str) -> None:
    usage = Usage(input_tokens=10, output_tokens=10, total_tokens=20)
    assert computed_cost(usage, provider=provider, model_id=model_id) is None
    assert step(provider, model_id, usage).cost is None


def test_no_tokens_cost_nothing_and_odd_counts_raise_nothing() -> None:
    assert computed_cost(Usage(), provider="openai", model_id="gpt-4o") == Cost(source="computed")
    # More reasoning than output (a provider's slip): the reasoning count is capped at the output.
    odd = computed_cost(Usage(output_tokens=5, reasoning_tokens=50), provider="openai", model_id="gpt-4o")
    assert odd is not None and odd.output == pytest.approx(5 * 10 / M)


# ---------------------------------------------------------------------------- results


def test_step_cost_is_worked_out_once_and_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    import reverie._cost

    calls: list[str] = []
    real = reverie._cost.step_cost

    def counting(**arguments: Any) -> Cost | None:
        calls.append(arguments["model_id"])
        return real(**arguments)

    monkeypatch.setattr(reverie._cost, "step_cost", counting)
    priced = step("openai", "gpt-4o", Usage(input_tokens=100, output_tokens=10))
    first = priced.cost
    assert first is not None and first is priced.cost
    assert calls == ["gpt-4o"]
    unknown = step("mock", "m", Usage(input_tokens=1))
    assert unknown.cost is None and unknown.cost is None
    assert calls == ["gpt-4o", "m"]
    assert "_cost" not in repr(priced)
    assert priced == step("openai", "gpt-4o", Usage(input_tokens=100, output_tokens=10))


def test_total_cost_sums_the_steps_whose_cost_is_known() -> None:
    priced = step("openai", "gpt-4o", Usage(input_tokens=1000, output_tokens=100))
    reported = step("openrouter", "x/y", Usage(), provider_metadata={"openrouter": {"cost": 0.5}})
    unknown = step("mock", "m", Usage(input_tokens=5))
    result = AgentResult(steps=[priced, unknown, reported])
    assert result.total_cost == pytest.approx((1000 * 2.5 + 100 * 10) / M + 0.5)
    assert AgentResult(steps=[unknown]).total_cost is None
    assert AgentResult(steps=[]).total_cost is None
    assert AgentResult(steps=[]).attempts_usage == Usage()


def test_import_reverie_and_a_run_do_not_load_the_price_data() -> None:
    code = (
        "import json, sys; import reverie; from reverie.testing import MockModel; "
        "result = reverie.Agent(MockModel('hi')).generate('x'); "
        "before = 'genai_prices' in sys.modules; "
        "step = result.steps[0]; step.model_id; "
        "print(json.dumps([before, 'genai_prices' in sys.modules]))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(output) == [False, False]
    code = (
        "import json, sys; from reverie import StepResult, Usage; "
        "s = StepResult(step_number=0, content=[], finish_reason='stop', usage=Usage(input_tokens=1), "
        "messages=[], provider='openai', model_id='gpt-4o'); s.cost; "
        "print(json.dumps('genai_prices' in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(output) is True


def test_a_model_without_a_price_is_looked_up_once_per_price_data(monkeypatch: pytest.MonkeyPatch) -> None:
    from reverie._cost import computed_cost

    lookups: list[str] = []
    calc_price = genai_prices.calc_price

    def counted(*arguments: Any, **options: Any) -> Any:
        lookups.append(arguments[1])
        return calc_price(*arguments, **options)

    monkeypatch.setattr(genai_prices, "calc_price", counted)
    usage = Usage(input_tokens=10, output_tokens=5, total_tokens=15)
    for _ in range(3):
        assert computed_cost(usage, provider="openaicompat", model_id="no-such-model-here") is None
        assert computed_cost(usage, provider="openai", model_id="gpt-4o") is not None
    assert lookups.count("no-such-model-here") == 1
    assert lookups.count("gpt-4o") == 3  # a price found is not cached: it may depend on the time

"""What a model call cost, in US dollars: as the provider reported it, or computed from prices.

``Cost`` is the public value. ``step_cost`` gives it for one step: the cost the provider
reported, where it sends one (OpenRouter's ``usage.cost``, kept in the provider metadata),
else one computed from the price data bundled with the ``genai-prices`` package (no network).
``price_refs`` maps reverie's provider names and model ids to that package's provider ids, and
reverie's ``Usage`` to the token kinds it prices: pure code, tested on its own.

The ``genai_prices`` module is imported only when a cost is first computed, never by
``import reverie`` or on a request's path. A model the price data does not know costs
``None``: this module never raises for a missing price, and remembers the miss (until the
price data is replaced), since every step of every run asks again. It does not sum costs over a run
(``AgentResult.total_cost``) or enforce budgets (``reverie._run.spending``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from reverie._content import ProviderMetadata, Usage

if TYPE_CHECKING:
    from decimal import Decimal

CostSource = Literal["reported", "computed"]
UsageShape = Literal["openai", "anthropic", "gemini"]
"""How a codec family fills ``Usage`` where the families differ.

- ``openai`` (chat completions, Responses, the gateways): ``input_tokens`` is the prompt
  without its cache reads, so it still holds the cache writes; reasoning is part of the output,
  except where the total says otherwise (xAI's ``total_tokens`` adds the reasoning to the
  completion: it is billed on top).
- ``anthropic`` (Anthropic, Bedrock, Claude on Vertex): ``input_tokens`` holds neither cache
  reads nor cache writes; thinking is part of the output.
- ``gemini`` (Gemini, on Google AI or Vertex): ``output_tokens`` leave the thoughts out; they
  are ``reasoning_tokens``, billed as output.
"""

_PER_MILLION = 1_000_000
_PER_THOUSAND = 1_000


@dataclass(slots=True, frozen=True, kw_only=True)
class Cost:
    """What one model call cost, in US dollars.

    A computed cost uses the price data bundled with ``genai-prices``: reasoning and cache
    tokens are priced as that data prices them (reasoning at the output price unless the model
    has a reasoning price; cache reads and writes at their own prices, else as input). A
    reported cost is split as far as the provider splits it (OpenRouter: prompt and completion,
    cached input in ``input``); an amount it does not split is in ``input``.
    """

    input: float = 0.0
    """Input that was neither read from nor written to a cache (a per-request price too)."""
    output: float = 0.0
    """Output, reasoning included."""
    cache_read: float = 0.0
    """Input read from the provider's prompt cache."""
    cache_write: float = 0.0
    """Input written to the provider's prompt cache."""
    source: CostSource = "computed"
    """``"reported"``: the provider sent the amount; ``"computed"``: from the price data."""
    total: float = field(init=False)
    """``input + output + cache_read + cache_write``."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", self.input + self.output + self.cache_read + self.cache_write)


@dataclass(slots=True, frozen=True)
class PriceRef:
    """Where to look a model up in the price data, and how to read its ``Usage``."""

    provider_id: str | None
    """The price data's provider id; ``None``: the provider is found from the model id."""
    model_ref: str
    shape: UsageShape


@dataclass(slots=True, frozen=True)
class TokenCounts:
    """A ``Usage`` as the price data counts it: each kind apart, reasoning inside ``output``."""

    input: int
    """Input neither read from nor written to a cache."""
    cache_read: int
    cache_write: int
    output: int
    """All output, reasoning included."""
    reasoning: int
    """The part of ``output`` that was reasoning."""

    @property
    def all_input(self) -> int:
        """Every input token, cached or not (what tiered prices are chosen by)."""
        return self.input + self.cache_read + self.cache_write


# reverie's provider name -> (the price data's provider id, the usage shape). Vercel and
# openaicompat are resolved from the model id; Vertex by its model id's family.
_PROVIDERS: Mapping[str, tuple[str, UsageShape]] = {
    "openai": ("openai", "openai"),
    "azure": ("azure", "openai"),
    "openrouter": ("openrouter", "openai"),
    "anthropic": ("anthropic", "anthropic"),
    "bedrock": ("aws", "anthropic"),
    "google": ("google", "gemini"),
}
# Vercel's gateway names models "<vendor>/<model>"; these vendors have other ids in the price data.
_VENDOR_IDS: Mapping[str, str] = {"xai": "x-ai", "vertex": "google", "bedrock": "aws", "amazon": "aws"}


def price_refs(provider: str, model_id: str, response_model_id: str | None = None) -> list[PriceRef]:
    """The lookups to try, in order, for a call of ``model_id`` on ``provider``.

    The model the provider says answered comes first (it is dated, so it finds the exact
    price), the model asked for second. Bedrock is the exception: the asked id carries the
    inference profile (``us.``, ``global.``), which the price depends on.
    """
    models = [model_id, response_model_id] if provider == "bedrock" else [response_model_id, model_id]
    refs: list[PriceRef] = []
    for model in dict.fromkeys(name for name in models if name):
        ref = _price_ref(provider, model)
        if ref is not None and ref not in refs:
            refs.append(ref)
    return refs


def _price_ref(provider: str, model: str) -> PriceRef | None:
    known = _PROVIDERS.get(provider)
    if known is not None:
        return PriceRef(known[0], model, known[1])
    if provider == "vertex":
        # Vertex serves Claude (Anthropic's format) and Gemini; the price data has both under google.
        return PriceRef("google", model, "anthropic" if model.startswith("claude") else "gemini")
    if provider == "vercel":
        vendor, slash, name = model.partition("/")
        if not slash:
            return PriceRef(None, model, "openai")
        return PriceRef(_VENDOR_IDS.get(vendor, vendor), name, "openai")
    if provider == "openaicompat":
        # Any server: only a model id the price data recognises (e.g. grok-3-mini) is priced.
        return PriceRef(None, model, "openai")
    if not provider:
        return None
    # A custom provider: its name may be one the price data knows (groq, mistral, deepseek).
    return PriceRef(provider, model, "openai")


def usage_shape(provider: str, model_id: str) -> UsageShape:
    """How ``provider``'s codec fills ``Usage`` for ``model_id`` (``openai`` when unknown)."""
    ref = _price_ref(provider, model_id)
    return "openai" if ref is None else ref.shape


def token_counts(usage: Usage, shape: UsageShape) -> TokenCounts:
    """``usage`` split into the token kinds the price data prices (see ``UsageShape``)."""
    cache_read = usage.cache_read_tokens
    cache_write = usage.cache_creation_tokens
    if shape == "openai":
        fresh = max(usage.input_tokens - cache_write, 0)
        output = usage.output_tokens
        reasoning = usage.reasoning_tokens
        if reasoning and usage.total_tokens == usage.input_tokens + cache_read + output + reasoning:
            output += reasoning  # reported beside the completion, not inside it (xAI)
    elif shape == "anthropic":
        fresh = usage.input_tokens
        output = usage.output_tokens
    else:
        fresh = usage.input_tokens
        output = usage.output_tokens + usage.reasoning_tokens
    return TokenCounts(
        input=fresh,
        cache_read=cache_read,
        cache_write=cache_write,
        output=output,
        reasoning=min(usage.reasoning_tokens, output),
    )


def reported_cost(metadata: ProviderMetadata) -> Cost | None:
    """The cost the provider reported in ``metadata`` (``None``: it reported none)."""
    found = False
    prompt_total = completion_total = 0.0
    for values in metadata.values():
        cost = _amount(values.get("cost"))
        if cost is None:
            continue
        found = True
        prompt, completion = _reported_split(values, cost)
        prompt_total += prompt
        completion_total += completion
    if not found:
        return None
    return Cost(input=prompt_total, output=completion_total, source="reported")


def _reported_split(values: Mapping[str, Any], cost: float) -> tuple[float, float]:
    """``(input, output)`` of a reported ``cost``: OpenRouter's split when it adds up, else all input."""
    details = values.get("cost_details")
    if isinstance(details, dict):
        detail = cast(dict[str, Any], details)
        prompt = _amount(detail.get("upstream_inference_prompt_cost"))
        completion = _amount(detail.get("upstream_inference_completions_cost"))
        # With a key of one's own (BYOK) "cost" is OpenRouter's fee and the upstream split is
        # another bill; only a split that adds up to "cost" describes it.
        if (
            prompt is not None
            and completion is not None
            and math.isclose(prompt + completion, cost, rel_tol=1e-6, abs_tol=1e-12)
        ):
            return prompt, cost - prompt
    return cost, 0.0


def _amount(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def step_cost(
    *,
    provider: str,
    model_id: str,
    response_model_id: str | None,
    usage: Usage,
    provider_metadata: ProviderMetadata,
) -> Cost | None:
    """A step's cost: the reported one where the provider sent it, else the computed one."""
    reported = reported_cost(provider_metadata)
    if reported is not None:
        return reported
    return computed_cost(usage, provider=provider, model_id=model_id, response_model_id=response_model_id)


def computed_cost(
    usage: Usage, *, provider: str, model_id: str, response_model_id: str | None = None
) -> Cost | None:
    """``usage`` priced with the bundled price data; ``None`` when it knows no price for the model."""
    refs = price_refs(provider, model_id, response_model_id)
    if not refs:
        return None
    try:
        import genai_prices
        from genai_prices import data_snapshot
    except ImportError:  # a base dependency; an environment without it just has no prices
        return None
    snapshot = data_snapshot.get_snapshot()
    unpriced = _unpriced(snapshot)
    for ref in refs:
        if (ref.provider_id, ref.model_ref) in unpriced:
            continue  # looked up before in this price data, and not found
        counts = token_counts(usage, ref.shape)
        try:
            calculation = genai_prices.calc_price(
                genai_prices.Usage(
                    input_tokens=counts.all_input,
                    cache_read_tokens=counts.cache_read,
                    cache_write_tokens=counts.cache_write,
                    output_tokens=counts.output,
                    output_reasoning_tokens=counts.reasoning,
                ),
                ref.model_ref,
                provider_id=ref.provider_id,
            )
        except LookupError:  # no such provider or model: remembered, as every step of a run asks again
            unpriced.add((ref.provider_id, ref.model_ref))
            continue
        except ValueError:  # usage it cannot price
            continue
        return _priced(counts, calculation.model_price)
    return None


_last_misses: tuple[object, set[tuple[str | None, str]]] = (None, set())
"""The price data the misses were found in, and the ``(provider id, model)`` lookups it misses."""


def _unpriced(snapshot: object) -> set[tuple[str | None, str]]:
    """The lookups ``snapshot`` is known to miss (forgotten when the price data is replaced)."""
    global _last_misses
    known, misses = _last_misses
    if known is not snapshot:
        misses = set[tuple[str | None, str]]()
        _last_misses = (snapshot, misses)
    return misses


def _priced(counts: TokenCounts, prices: Any) -> Cost:
    """Each token kind at its price, as genai-prices prices them.

    A kind without a price of its own is paid at its parent's: cache reads and writes as
    input, reasoning as output.
    """
    from genai_prices.types import calc_unit_price

    threshold = counts.all_input  # tiered prices switch on the whole prompt's size

    def charge(count: int, key: str, parent: str | None = None) -> float:
        price: Decimal | None = getattr(prices, key)
        if price is None and parent is not None:
            price = getattr(prices, parent)
        return float(calc_unit_price(price, count, threshold, _PER_MILLION))

    per_request = float(calc_unit_price(prices.requests_kcount, 1, threshold, _PER_THOUSAND))
    if prices.output_reasoning_mtok is None:
        output = charge(counts.output, "output_mtok")
    else:
        output = charge(counts.output - counts.reasoning, "output_mtok") + charge(
            counts.reasoning, "output_reasoning_mtok"
        )
    return Cost(
        input=charge(counts.input, "input_mtok") + per_request,
        output=output,
        cache_read=charge(counts.cache_read, "cache_read_mtok", "input_mtok"),
        cache_write=charge(counts.cache_write, "cache_write_mtok", "input_mtok"),
        source="computed",
    )

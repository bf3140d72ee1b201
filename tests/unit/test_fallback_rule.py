"""Fallback decisions, pure: which failures move on, and what ``Attempts`` decides after each one.

No model is called here: ``Attempts`` is fed errors and says "the same model after a wait",
"the next model now" or gives up with the final error (``reverie._run.fallback``).
"""

from __future__ import annotations

import pytest

from reverie import (
    FallbackModel,
    InvalidResponseError,
    ProviderError,
    RetryError,
    RetryPolicy,
    ReverieError,
    TextDeltaPart,
    UserError,
)
from reverie._run.fallback import NO_RETRY, Attempts, NextAttempt, first_model, moves_on_by_default
from reverie.testing import MockModel

PRIMARY = MockModel("unused", provider="primary", model_id="big-1")
BACKUP = MockModel("unused", provider="backup", model_id="small-2")
THIRD = MockModel("unused", provider="third", model_id="tiny-3")
POLICY = RetryPolicy(max_retries=2, initial_delay=1.0, backoff_factor=2.0)


def failure(status: int | None = None, **options: bool) -> ProviderError:
    return ProviderError(f"failed with {status}", status_code=status, **options)


# --- the default rule -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        failure(429),
        failure(408),
        failure(409),
        failure(500),
        failure(503),
        failure(529),
        ProviderError("overloaded", status_code=502, response_headers={"x-should-retry": "false"}),
        failure(retryable=True),  # a timeout, a reset connection, a cut stream
        failure(400, is_context_too_large=True),
        failure(413, is_context_too_large=True),
    ],
    ids=lambda error: str(error),
)
def test_capacity_timeouts_and_context_too_large_move_on(error: ProviderError) -> None:
    assert moves_on_by_default(error)


@pytest.mark.parametrize(
    "error",
    [
        failure(400),
        failure(401),
        failure(403),
        ProviderError("bad", status_code=400, response_headers={"x-should-retry": "true"}),
        failure(404),
        failure(422),
        InvalidResponseError("not JSON"),
        UserError("misuse"),
        failure(retryable=False),
    ],
    ids=lambda error: str(error),
)
def test_bad_requests_bad_credentials_and_everything_else_do_not_move_on(error: ReverieError) -> None:
    assert not moves_on_by_default(error)


# --- fallback_on ------------------------------------------------------------------------------


def test_a_predicate_replaces_the_default_rule() -> None:
    chain = FallbackModel(PRIMARY, BACKUP, fallback_on=lambda error: "quota" in str(error))
    assert chain.moves_on(ProviderError("quota exceeded", status_code=403))
    assert not chain.moves_on(failure(503))


def test_a_tuple_of_types_replaces_the_default_rule() -> None:
    chain = FallbackModel(PRIMARY, BACKUP, fallback_on=(InvalidResponseError,))
    assert chain.moves_on(InvalidResponseError("garbage"))
    assert not chain.moves_on(failure(503))


def test_a_single_exception_type_is_taken_as_a_tuple_of_one() -> None:
    # A class is callable: used as a predicate it would build an exception, which is truthy.
    chain = FallbackModel(PRIMARY, BACKUP, fallback_on=InvalidResponseError)  # pyright: ignore[reportArgumentType]
    assert chain.moves_on(InvalidResponseError("garbage"))
    assert not chain.moves_on(failure(401))


def test_a_bad_fallback_on_or_retry_is_refused() -> None:
    with pytest.raises(TypeError, match="no exception type"):
        FallbackModel(PRIMARY, BACKUP, fallback_on=(ProviderError, "503"))  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError, match="predicate"):
        FallbackModel(PRIMARY, BACKUP, fallback_on=503)  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError, match="RetryPolicy"):
        FallbackModel(PRIMARY, BACKUP, retry=3)  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError, match="language models"):
        FallbackModel(PRIMARY, "gpt-4o")  # pyright: ignore[reportArgumentType]


# --- the chain --------------------------------------------------------------------------------


def test_the_chain_names_its_models_and_flattens_nested_chains() -> None:
    inner = FallbackModel(PRIMARY, BACKUP, fallback_on=(InvalidResponseError,))
    chain = FallbackModel(inner, THIRD)
    assert chain.models == (PRIMARY, BACKUP, THIRD)
    assert chain.provider == "fallback"
    assert chain.model_id == "primary:big-1,backup:small-2,third:tiny-3"
    assert chain.moves_on(failure(503))  # the outer (default) rule governs the whole chain
    assert "MockModel(provider='backup'" in repr(chain)


def test_json_output_only_when_every_model_has_it() -> None:
    json_model = MockModel("{}", object_mode="json")
    tool_model = MockModel("{}", object_mode="tool")
    assert FallbackModel(json_model, json_model).object_mode == "json"
    assert FallbackModel(json_model, json_model).supports_json_output
    mixed = FallbackModel(json_model, tool_model)
    assert mixed.object_mode == "tool"
    assert not mixed.supports_json_output


# --- attempts -----------------------------------------------------------------------------------


def test_each_model_is_retried_by_the_policy_then_the_next_is_tried_at_once() -> None:
    attempts = Attempts(FallbackModel(PRIMARY, BACKUP), POLICY)
    assert attempts.model is PRIMARY
    decisions = [attempts.failed(failure(503)) for _ in range(5)]
    assert decisions == [
        NextAttempt(model=PRIMARY, delay=1.0, attempt=1, same_model=True),
        NextAttempt(model=PRIMARY, delay=2.0, attempt=2, same_model=True),
        NextAttempt(model=BACKUP, delay=0.0, attempt=3, same_model=False),
        # The backup gets the whole policy again: its delays start over.
        NextAttempt(model=BACKUP, delay=1.0, attempt=4, same_model=True),
        NextAttempt(model=BACKUP, delay=2.0, attempt=5, same_model=True),
    ]
    last = failure(500)
    assert attempts.failed(last) is None
    with pytest.raises(RetryError) as raised:
        attempts.give_up(last)
    assert len(raised.value.errors) == 6 and raised.value.errors is not attempts.errors
    assert raised.value.errors == attempts.errors
    assert raised.value.__cause__ is last


def test_without_retries_a_fallback_is_still_an_attempt() -> None:
    attempts = Attempts(FallbackModel(PRIMARY, BACKUP, THIRD), NO_RETRY)
    first, second, third = failure(503), failure(429), failure(500)
    assert attempts.failed(first) == NextAttempt(model=BACKUP, delay=0.0, attempt=1, same_model=False)
    assert attempts.failed(second) == NextAttempt(model=THIRD, delay=0.0, attempt=2, same_model=False)
    assert attempts.failed(third) is None
    with pytest.raises(RetryError) as raised:
        attempts.give_up(third)
    assert raised.value.errors == [first, second, third]


def test_a_failure_that_does_not_move_on_stops_with_the_original_error() -> None:
    attempts = Attempts(FallbackModel(PRIMARY, BACKUP), POLICY)
    error = failure(401)
    assert attempts.failed(error) is None
    with pytest.raises(ProviderError) as raised:
        attempts.give_up(error)
    assert raised.value is error
    assert attempts.model is PRIMARY  # the backup is never tried


def test_a_later_failure_that_does_not_move_on_stops_with_every_attempt() -> None:
    attempts = Attempts(FallbackModel(PRIMARY, BACKUP), POLICY)
    attempts.failed(failure(503))
    forbidden = failure(403)
    assert attempts.failed(forbidden) is None
    with pytest.raises(RetryError) as raised:
        attempts.give_up(forbidden)
    assert [getattr(error, "status_code", None) for error in raised.value.errors] == [503, 403]


def test_context_too_large_moves_on_without_a_retry() -> None:
    attempts = Attempts(FallbackModel(PRIMARY, BACKUP), POLICY)
    decision = attempts.failed(failure(400, is_context_too_large=True))
    assert decision == NextAttempt(model=BACKUP, delay=0.0, attempt=1, same_model=False)


def test_a_rule_that_refuses_a_retryable_error_still_lets_the_model_retry_first() -> None:
    attempts = Attempts(FallbackModel(PRIMARY, BACKUP, fallback_on=lambda error: False), POLICY)
    assert attempts.failed(failure(503)) == NextAttempt(model=PRIMARY, delay=1.0, attempt=1, same_model=True)
    attempts.failed(failure(503))
    assert attempts.failed(failure(503)) is None  # retries spent, and the rule says stop


def test_a_single_model_decides_what_retrying_alone_decided() -> None:
    attempts = Attempts(PRIMARY, POLICY)
    assert attempts.failed(failure(503)) == NextAttempt(model=PRIMARY, delay=1.0, attempt=1, same_model=True)
    assert attempts.failed(failure(503)) is not None
    assert attempts.failed(failure(503)) is None
    alone = Attempts(PRIMARY, NO_RETRY)
    error = failure(503)
    assert alone.failed(error) is None
    with pytest.raises(ProviderError) as raised:
        alone.give_up(error)
    assert raised.value is error


def test_the_announcement_names_the_next_attempts_model() -> None:
    attempts = Attempts(FallbackModel(PRIMARY, BACKUP), NO_RETRY)
    error = failure(503)
    decision = attempts.failed(error)
    assert decision is not None
    delta = TextDeltaPart(id="0", delta="Hal")
    part = decision.announce(step_number=2, error=error, discarded=(delta,))
    assert (part.step_number, part.attempt, part.delay) == (2, 1, 0.0)
    assert (part.model, part.provider) == ("small-2", "backup")
    assert part.error is error and part.discarded == (delta,)


def test_the_first_model_is_the_one_attempts_start_with() -> None:
    for model in (FallbackModel(PRIMARY, BACKUP), PRIMARY):
        assert first_model(model) is Attempts(model, NO_RETRY).model
    assert first_model(FallbackModel(FallbackModel(BACKUP, THIRD), PRIMARY)) is BACKUP

"""The pure retry decisions: policy defaults, delays (server-requested and backoff), final error."""

from __future__ import annotations

import dataclasses
import email.utils

import pytest

from reverie import InvalidResponseError, ProviderError, RetryError, RetryPolicy, StepResult, TextPart, Usage
from reverie._retry import backoff_delay, final_error, is_retryable, retry_delay, server_delay

NOW = 1_700_000_000.0


def failure(status: int | None = 503, **headers: str) -> ProviderError:
    return ProviderError("upstream failed", status_code=status, response_headers=headers)


def http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


# --- the policy -------------------------------------------------------------------------


def test_default_policy_matches_the_issue() -> None:
    policy = RetryPolicy()
    assert (policy.max_retries, policy.initial_delay, policy.backoff_factor) == (3, 5.0, 2.0)


def test_policy_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_retries = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"initial_delay": -0.1}, {"backoff_factor": 0.5}, {"max_delay": -1.0}],
)
def test_policy_rejects_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


# --- what is retryable ------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 599])
def test_retryable_statuses(status: int) -> None:
    assert failure(status).is_retryable
    assert is_retryable(failure(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_other_client_errors_are_not_retryable(status: int) -> None:
    assert not failure(status).is_retryable
    assert not is_retryable(failure(status))


def test_x_should_retry_header_wins_over_the_status() -> None:
    assert not failure(503, **{"x-should-retry": "false"}).is_retryable
    assert failure(400, **{"x-should-retry": "true"}).is_retryable
    # Explicitly retryable errors (broken connections) still obey the server's "false".
    broken = ProviderError("reset", retryable=True, response_headers={"X-Should-Retry": "false"})
    assert not broken.is_retryable


def test_transport_style_errors_are_retryable_without_a_status() -> None:
    assert ProviderError("ConnectError while sending the request", retryable=True).is_retryable
    assert not ProviderError("no status, no verdict").is_retryable


def test_non_provider_errors_are_never_retryable() -> None:
    assert not is_retryable(InvalidResponseError("empty response body"))
    assert not is_retryable(ValueError("boom"))


def test_response_headers_are_lower_cased() -> None:
    error = ProviderError("x", status_code=429, response_headers={"Retry-After": "3", "X-Request-ID": "r1"})
    assert error.response_headers == {"retry-after": "3", "x-request-id": "r1"}
    assert server_delay(error) == 3.0


# --- server-requested delays --------------------------------------------------------------


def test_retry_after_ms() -> None:
    assert server_delay(failure(429, **{"retry-after-ms": "150"})) == pytest.approx(0.15)


def test_retry_after_seconds() -> None:
    assert server_delay(failure(429, **{"retry-after": "2"})) == 2.0
    assert server_delay(failure(429, **{"retry-after": "1.5"})) == 1.5


def test_retry_after_ms_takes_precedence() -> None:
    error = failure(429, **{"retry-after-ms": "250", "retry-after": "7"})
    assert server_delay(error) == pytest.approx(0.25)


def test_invalid_retry_after_ms_falls_back_to_retry_after() -> None:
    assert server_delay(failure(429, **{"retry-after-ms": "soon", "retry-after": "4"})) == 4.0


def test_retry_after_http_date_uses_the_injected_clock() -> None:
    error = failure(429, **{"retry-after": http_date(NOW + 30)})
    assert server_delay(error, now=NOW) == pytest.approx(30.0)
    assert server_delay(error, now=NOW + 10) == pytest.approx(20.0)


def test_retry_after_date_in_the_past_means_now() -> None:
    assert server_delay(failure(429, **{"retry-after": http_date(NOW - 100)}), now=NOW) == 0.0


def test_negative_values_clamp_to_zero() -> None:
    assert server_delay(failure(429, **{"retry-after": "-5"})) == 0.0
    assert server_delay(failure(429, **{"retry-after-ms": "-5"})) == 0.0


def test_unreadable_or_absent_headers_give_no_server_delay() -> None:
    assert server_delay(failure(429, **{"retry-after": "whenever"}), now=NOW) is None
    assert server_delay(failure(429)) is None
    assert server_delay(InvalidResponseError("bad")) is None


# --- the delay before each retry ----------------------------------------------------------


def test_backoff_sequence() -> None:
    policy = RetryPolicy()
    assert [backoff_delay(policy, n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]
    errors = [failure(503) for _ in range(3)]
    assert [retry_delay(policy, errors[:n]) for n in (1, 2, 3)] == [5.0, 10.0, 20.0]


def test_custom_backoff_and_max_delay() -> None:
    policy = RetryPolicy(max_retries=6, initial_delay=1.0, backoff_factor=3.0, max_delay=20.0)
    assert [backoff_delay(policy, n) for n in range(1, 6)] == [1.0, 3.0, 9.0, 20.0, 20.0]


def test_no_delay_once_retries_are_used_up() -> None:
    policy = RetryPolicy(max_retries=2)
    assert retry_delay(policy, [failure(503)] * 2) == 10.0
    assert retry_delay(policy, [failure(503)] * 3) is None
    assert retry_delay(RetryPolicy(max_retries=0), [failure(503)]) is None


def test_no_delay_for_non_retryable_errors() -> None:
    assert retry_delay(RetryPolicy(), [failure(400)]) is None
    assert retry_delay(RetryPolicy(), [InvalidResponseError("bad")]) is None
    assert retry_delay(RetryPolicy(), [failure(503), failure(401)]) is None


def test_server_delay_under_a_minute_is_honoured_even_above_the_backoff() -> None:
    policy = RetryPolicy()  # backoff 5 s
    assert retry_delay(policy, [failure(429, **{"retry-after": "2"})]) == 2.0
    assert retry_delay(policy, [failure(429, **{"retry-after": "59"})]) == 59.0
    assert retry_delay(policy, [failure(429, **{"retry-after-ms": "150"})]) == pytest.approx(0.15)
    date = http_date(NOW + 12)
    assert retry_delay(policy, [failure(429, **{"retry-after": date})], now=NOW) == pytest.approx(12.0)


def test_server_delay_of_a_minute_or_more_falls_back_to_backoff() -> None:
    policy = RetryPolicy()
    assert retry_delay(policy, [failure(429, **{"retry-after": "60"})]) == 5.0
    assert retry_delay(policy, [failure(429, **{"retry-after": "3600"})]) == 5.0
    assert retry_delay(policy, [failure(429, **{"retry-after-ms": "90000"})]) == 5.0


def test_long_server_delay_is_kept_when_still_shorter_than_the_backoff() -> None:
    policy = RetryPolicy(initial_delay=100.0, max_delay=1000.0)
    assert retry_delay(policy, [failure(429, **{"retry-after": "90"})]) == 90.0


def test_server_delay_is_capped_by_max_delay() -> None:
    policy = RetryPolicy(max_delay=10.0)
    assert retry_delay(policy, [failure(429, **{"retry-after": "30"})]) == 10.0


def test_zero_initial_delay_retries_immediately() -> None:
    policy = RetryPolicy(initial_delay=0.0)
    assert [retry_delay(policy, [failure(503)] * n) for n in (1, 2, 3)] == [0.0, 0.0, 0.0]


# --- which error is raised in the end ----------------------------------------------------


def test_retrying_disabled_raises_the_original_error() -> None:
    first = failure(503)
    assert final_error(RetryPolicy(max_retries=0), [first]) is first


def test_first_error_not_retryable_raises_the_original_error() -> None:
    for first in (failure(400), InvalidResponseError("empty response body")):
        assert final_error(RetryPolicy(), [first]) is first


def test_exhausted_retries_raise_retry_error_with_every_attempt() -> None:
    errors = [failure(503), failure(502), failure(429), failure(500)]
    error = final_error(RetryPolicy(), errors)
    assert isinstance(error, RetryError)
    assert error.errors == errors
    assert error.errors is not errors  # a copy, not the caller's list
    assert error.last_error is errors[-1]
    assert "failed after 4 attempts" in str(error)
    assert "upstream failed" in str(error)


def test_later_non_retryable_error_still_raises_retry_error() -> None:
    errors = [failure(503), failure(400)]
    error = final_error(RetryPolicy(), errors)
    assert isinstance(error, RetryError)
    assert error.errors == errors


def test_retry_error_carries_the_last_partial_step() -> None:
    step = StepResult(
        step_number=0, content=[TextPart(text="Hel")], finish_reason="unknown", usage=Usage(), messages=[]
    )
    last = failure(503)
    last.partial_step = step
    error = RetryError([failure(503), last])
    assert error.partial_step is step
    assert error.partial_text == "Hel"
    assert failure(503).partial_text == ""


def test_huge_retry_numbers_and_factors_stay_at_the_cap() -> None:
    policy = RetryPolicy(max_retries=400, backoff_factor=10)
    assert backoff_delay(policy, 400) == policy.max_delay
    assert retry_delay(policy, [failure()] * 400) == policy.max_delay
    assert backoff_delay(RetryPolicy(initial_delay=0.0, backoff_factor=1e308), 10_000) == 0.0
    unbounded = RetryPolicy(max_retries=400, backoff_factor=10, max_delay=float("inf"))
    assert backoff_delay(unbounded, 400) == float("inf")


@pytest.mark.parametrize("field", ["initial_delay", "backoff_factor", "max_delay"])
def test_nan_settings_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match="NaN"):
        RetryPolicy(**{field: float("nan")})


@pytest.mark.parametrize("value", ["nan", "inf", "1e400", "-5"])
def test_odd_retry_after_values_never_give_an_odd_delay(value: str) -> None:
    delay = retry_delay(RetryPolicy(), [failure(503, **{"retry-after": value})], now=NOW)
    assert delay is not None and 0 <= delay <= RetryPolicy().max_delay

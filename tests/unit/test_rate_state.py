"""The rate limiter's decisions (``reverie._http.rate_state``): buckets, windows, pauses, slots."""

from __future__ import annotations

import pytest

from reverie._http.rate_headers import RateLimitReport, Window
from reverie._http.rate_state import (
    DEFAULT_PAUSE,
    Bucket,
    LimiterState,
    Slots,
    estimate_tokens,
    pause_seconds,
)


def admit(state: LimiterState, now: float, tokens: float = 1.0) -> float:
    """Reserve, and commit at the time the reservation allows; returns that time."""
    reservation = state.reserve(now, tokens)
    at = now + state.wait(reservation, now)
    assert state.wait(reservation, at) == 0
    state.commit(reservation)
    return at


def test_a_crowd_gets_one_seconds_share_at_once_then_one_per_interval() -> None:
    bucket = Bucket.per_minute(600)  # 10 a second
    times = [bucket.reserve(0.0, 1) for _ in range(25)]
    assert times[:10] == [0.0] * 10
    assert times[10:] == pytest.approx([0.1 * n for n in range(1, 16)])


def test_the_burst_is_at_least_one_request() -> None:
    bucket = Bucket.per_minute(30)  # one every 2 s
    assert [bucket.reserve(0.0, 1) for _ in range(3)] == [0.0, 2.0, 4.0]


@pytest.mark.parametrize("per_minute", [1, 7, 60, 600, 6000])
def test_no_minute_holds_more_than_the_limit_and_one_burst(per_minute: int) -> None:
    bucket = Bucket.per_minute(per_minute)
    times = [bucket.reserve(0.0, 1) for _ in range(3 * per_minute)]
    burst = max(1, per_minute / 60)
    end = 0
    for first, start in enumerate(times):  # the times are sorted: count each minute from a request
        while end < len(times) and times[end] < start + 60.0:
            end += 1
        assert end - first <= per_minute + burst


def test_the_bucket_refills_while_idle() -> None:
    bucket = Bucket.per_minute(600)
    for _ in range(10):
        bucket.reserve(0.0, 1)
    assert bucket.reserve(0.0, 1) == pytest.approx(0.1)
    assert bucket.reserve(5.0, 1) == 5.0  # full again long since


def test_a_request_larger_than_the_burst_waits_for_a_full_bucket_and_leaves_a_debt() -> None:
    bucket = Bucket.per_minute(6000)  # 100 tokens a second
    assert bucket.reserve(0.0, 50) == 0.0
    # 500 tokens is five seconds' worth: it waits until the bucket is full again (0.5 s) ...
    assert bucket.reserve(0.0, 500) == pytest.approx(0.5)
    # ... and the next token waits until the debt is paid, less the one second of burst.
    assert bucket.reserve(0.0, 1) == pytest.approx(0.5 + 5.0 - 1.0 + 0.01)


def test_give_back_lets_the_next_request_go_earlier() -> None:
    bucket = Bucket.per_minute(60)  # one a second
    assert bucket.reserve(0.0, 1) == 0.0
    assert bucket.reserve(0.0, 1) == 1.0
    bucket.give_back(1)
    assert bucket.reserve(0.0, 1) == 1.0


def test_requests_and_tokens_both_hold_a_request() -> None:
    state = LimiterState.per_minute(requests=6000, tokens=600)  # tokens: 10 a second
    assert admit(state, 0.0, tokens=10) == 0.0
    assert admit(state, 0.0, tokens=5) == pytest.approx(0.5)


def test_a_cancelled_reservation_goes_back() -> None:
    state = LimiterState.per_minute(requests=60, tokens=None)
    assert admit(state, 0.0) == 0.0
    reservation = state.reserve(0.0, 1)
    assert state.wait(reservation, 0.0) == 1.0
    state.cancel(reservation)
    assert admit(state, 0.0) == 1.0  # the place it held, not the one after


def test_a_reported_empty_window_holds_requests_until_its_reset() -> None:
    state = LimiterState()
    ticket = state.commit(state.reserve(0.0, 1))
    state.observe(ticket, RateLimitReport(requests=Window(remaining=0, reset=2.0)), status=200, now=0.5)
    reservation = state.reserve(1.0, 1)
    assert state.wait(reservation, 1.0) == pytest.approx(1.5)
    assert state.wait(reservation, 2.5) == 0  # the window is over: nothing assumed after it
    assert state.requests_window is None


def test_a_reported_window_counts_down_what_is_sent() -> None:
    state = LimiterState()
    ticket = state.commit(state.reserve(0.0, 1))
    state.observe(ticket, RateLimitReport(requests=Window(remaining=2, reset=10.0)), status=200, now=0.0)
    assert admit(state, 0.0) == 0.0
    assert admit(state, 0.0) == 0.0
    assert admit(state, 0.0) == 10.0


def test_a_report_does_not_count_requests_sent_after_its_own() -> None:
    state = LimiterState()
    first = state.commit(state.reserve(0.0, 1))
    for _ in range(3):
        state.commit(state.reserve(0.0, 1))
    # The first request's answer says 5 are left; the 3 sent since may not be counted in it.
    state.observe(first, RateLimitReport(requests=Window(remaining=5, reset=10.0)), status=200, now=0.0)
    assert state.requests_window is not None
    assert state.requests_window.remaining == 2


def test_a_reported_token_window_holds_a_request_that_does_not_fit() -> None:
    state = LimiterState()
    ticket = state.commit(state.reserve(0.0, 100))
    state.observe(ticket, RateLimitReport(tokens=Window(remaining=150, reset=3.0)), status=200, now=0.0)
    assert admit(state, 0.0, tokens=100) == 0.0
    assert admit(state, 0.0, tokens=100) == 3.0  # 50 tokens left


def test_a_window_without_a_reset_is_not_kept() -> None:
    state = LimiterState()
    ticket = state.commit(state.reserve(0.0, 1))
    state.observe(ticket, RateLimitReport(requests=Window(remaining=0, reset=None)), status=200, now=0.0)
    assert admit(state, 0.0) == 0.0


def test_a_429_pauses_waiting_reservations_and_new_ones() -> None:
    state = LimiterState.per_minute(requests=600, tokens=None)
    tickets = [state.commit(state.reserve(0.0, 1)) for _ in range(10)]
    waiting = state.reserve(0.0, 1)
    assert state.wait(waiting, 0.0) == pytest.approx(0.1)
    state.observe(tickets[0], RateLimitReport(retry_after=3.0), status=429, now=0.05)
    assert state.wait(waiting, 0.1) == pytest.approx(2.95)
    newcomer = state.reserve(0.2, 1)
    assert state.wait(newcomer, 0.2) == pytest.approx(2.85)
    # After the pause the bucket is full again: both go at once.
    assert state.wait(waiting, 3.05) == 0
    assert state.wait(newcomer, 3.05) == 0


def test_a_cancelled_reservation_from_before_a_pause_gives_nothing_back() -> None:
    state = LimiterState.per_minute(requests=60, tokens=None)
    ticket = state.commit(state.reserve(0.0, 1))
    old = state.reserve(0.0, 1)
    state.observe(ticket, RateLimitReport(retry_after=1.0), status=429, now=0.0)
    state.cancel(old)
    assert state.requests is not None
    assert state.requests.full_at == 1.0


@pytest.mark.parametrize(
    ("report", "seconds"),
    [
        (RateLimitReport(retry_after=2.0, requests=Window(remaining=0, reset=9.0)), 2.0),
        (RateLimitReport(requests=Window(0, 4.0), tokens=Window(9, 60.0)), 4.0),  # the exhausted one
        (RateLimitReport(requests=Window(3, 4.0), tokens=Window(9, 6.0)), 6.0),  # none: the latest
        (RateLimitReport(requests=Window(remaining=0, reset=None)), DEFAULT_PAUSE),
        (RateLimitReport(), DEFAULT_PAUSE),
    ],
)
def test_how_long_a_429_pauses(report: RateLimitReport, seconds: float) -> None:
    assert pause_seconds(report) == seconds


def test_a_429_without_any_header_pauses_a_second() -> None:
    state = LimiterState()
    ticket = state.commit(state.reserve(0.0, 1))
    state.observe(ticket, RateLimitReport(), status=429, now=10.0)
    assert admit(state, 10.0) == 10.0 + DEFAULT_PAUSE


def test_reported_usage_corrects_the_token_estimate() -> None:
    state = LimiterState.per_minute(requests=None, tokens=600)  # 10 a second
    ticket = state.commit(state.reserve(0.0, 10))
    state.finish(ticket, 40)  # 30 more than estimated: three more seconds of debt
    assert admit(state, 0.0, tokens=1) == pytest.approx(3.1)
    ticket = state.commit(state.reserve(10.0, 10))
    state.finish(ticket, 1)  # 9 fewer: given back, so 9 of the 10 are there again
    assert admit(state, 10.0, tokens=9) == pytest.approx(10.0)


def test_token_estimates_are_about_four_bytes_each() -> None:
    assert estimate_tokens(0) == 1
    assert estimate_tokens(4) == 1
    assert estimate_tokens(5) == 2
    assert estimate_tokens(4000) == 1000


def test_slots_go_to_waiters_in_arrival_order() -> None:
    slots = Slots[str](2)
    assert slots.take() and slots.take()
    assert not slots.take()
    slots.enqueue("a")
    slots.enqueue("b")
    slots.enqueue("c")
    assert slots.withdraw("b")
    assert slots.release() == "a"
    assert slots.release() == "c"
    assert slots.release() is None
    assert not slots.withdraw("a")  # already handed a slot
    assert slots.free == 1

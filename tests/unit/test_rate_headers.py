"""Reading providers' rate-limit headers (``reverie._http.rate_headers``): pure, no clock."""

from __future__ import annotations

import email.utils

import pytest

from reverie._http.rate_headers import (
    RateLimitReport,
    Window,
    go_duration,
    parse_rate_limit_headers,
    rate_limit_headers,
    reset_seconds,
    retry_after_seconds,
)

NOW = 1_700_000_000.0  # a fixed wall clock (Unix seconds)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("2m59.56s", 179.56),
        ("7.66s", 7.66),
        ("1h2m3s", 3723.0),
        ("500us", 0.0005),
        ("500µs", 0.0005),
        ("10ns", 1e-8),
        (".5s", 0.5),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "1", "1x", "1s2", "-1s", "1 s", "abc", "1s junk"])
def test_what_is_not_a_go_duration(text: str) -> None:
    assert go_duration(text) is None


def test_openai_and_groq_headers() -> None:
    report = parse_rate_limit_headers(
        {
            "x-ratelimit-limit-requests": "60",
            "x-ratelimit-remaining-requests": "59",
            "x-ratelimit-reset-requests": "1s",
            "x-ratelimit-limit-tokens": "150000",
            "x-ratelimit-remaining-tokens": "149984",
            "x-ratelimit-reset-tokens": "6m0s",
        },
        wall_now=NOW,
    )
    assert report == RateLimitReport(
        requests=Window(remaining=59, reset=1.0), tokens=Window(remaining=149984, reset=360.0)
    )
    assert not report.empty


def test_openrouter_reset_is_an_epoch_in_milliseconds() -> None:
    reset = str(int(NOW * 1000) + 2500)
    headers = {"x-ratelimit-limit": "20", "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset}
    report = parse_rate_limit_headers(headers, wall_now=NOW)
    assert report.requests == Window(remaining=0, reset=pytest.approx(2.5))  # type: ignore[arg-type]
    assert report.tokens is None


def test_anthropic_resets_are_rfc3339_times() -> None:
    headers = {
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "3",
        "anthropic-ratelimit-requests-reset": "2023-11-14T22:13:25Z",  # NOW + 5 s
        "anthropic-ratelimit-tokens-remaining": "12000",
        "anthropic-ratelimit-tokens-reset": "2023-11-14T22:13:30.123456789+00:00",
    }
    report = parse_rate_limit_headers(headers, wall_now=NOW)
    assert report.requests == Window(remaining=3, reset=5.0)
    assert report.tokens is not None
    assert report.tokens.remaining == 12000
    assert report.tokens.reset == pytest.approx(10.123456)


def test_anthropic_input_tokens_stand_in_for_tokens() -> None:
    headers = {
        "anthropic-ratelimit-input-tokens-remaining": "100",
        "anthropic-ratelimit-input-tokens-reset": "2023-11-14T22:13:21Z",
    }
    assert parse_rate_limit_headers(headers, wall_now=NOW).tokens == Window(remaining=100, reset=1.0)


def test_a_reset_in_the_past_is_now() -> None:
    assert reset_seconds("2000-01-01T00:00:00Z", NOW) == 0.0
    assert reset_seconds(str(int(NOW * 1000) - 5000), NOW) == 0.0


def test_a_bare_number_is_seconds_unless_it_is_a_timestamp() -> None:
    assert reset_seconds("1.5", NOW) == 1.5
    assert reset_seconds(str(NOW + 3), NOW) == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": email.utils.formatdate(NOW + 30, usegmt=True)}, 30.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-1"}, None),
        ({"retry-after-ms": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(headers, wall_now=NOW) == seconds


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-ratelimit-remaining-requests": "many", "x-ratelimit-reset-requests": "1s"},
        {"x-ratelimit-remaining-requests": "-3"},
        {"x-ratelimit-remaining-tokens": "inf"},
    ],
)
def test_unreadable_or_absent_headers_say_nothing(headers: dict[str, str]) -> None:
    assert parse_rate_limit_headers(headers, wall_now=NOW).empty


def test_an_unreadable_reset_keeps_the_remaining_count() -> None:
    headers = {"x-ratelimit-remaining-requests": "5", "x-ratelimit-reset-requests": "later"}
    assert parse_rate_limit_headers(headers, wall_now=NOW).requests == Window(remaining=5, reset=None)


def test_only_rate_limit_headers_are_kept_for_parsing() -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("X-RateLimit-Remaining-Requests", "3"),
        ("anthropic-ratelimit-tokens-reset", "2023-11-14T22:13:21Z"),
        ("Retry-After", "2"),
        ("retry-after-ms", "1500"),
        ("x-request-id", "abc"),
    ]
    assert rate_limit_headers(headers) == {
        "x-ratelimit-remaining-requests": "3",
        "anthropic-ratelimit-tokens-reset": "2023-11-14T22:13:21Z",
        "retry-after": "2",
        "retry-after-ms": "1500",
    }
    assert rate_limit_headers([("content-length", "2")]) == {}

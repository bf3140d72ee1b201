"""Read a provider's rate-limit headers into one ``RateLimitReport``.

Pure parsing of lower-cased response headers; the clock readings it needs (the wall clock,
for dates and epoch timestamps) are passed in. It knows these families:

- OpenAI and Groq (and other OpenAI-compatible servers): ``x-ratelimit-remaining-requests``,
  ``x-ratelimit-remaining-tokens``, ``x-ratelimit-reset-requests`` and
  ``x-ratelimit-reset-tokens``, whose resets are Go durations (``"1s"``, ``"6m0s"``,
  ``"20ms"``, ``"2m59.56s"``) or plain seconds;
- OpenRouter: ``x-ratelimit-remaining`` and ``x-ratelimit-reset``, a Unix timestamp in
  milliseconds (seconds and durations are read too);
- Anthropic: ``anthropic-ratelimit-requests-remaining`` / ``-reset`` and the ``tokens`` (else
  ``input-tokens``) pair, whose resets are RFC 3339 times;
- ``retry-after-ms``, and ``retry-after`` in seconds or as an HTTP date.

An unreadable value counts as absent: a strange header must never fail a request. What the
numbers mean for the next request is decided in ``reverie._http.rate_state``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_ENDS = frozenset("smh")
# Above these a bare number in a reset header is a Unix timestamp, not a duration: no
# provider asks for a wait of 30 years (1e9 s), and 1e12 is 1e9 in milliseconds.
_EPOCH_SECONDS = 1e9
_EPOCH_MILLISECONDS = 1e12
# Python's ISO parser takes at most microseconds; providers may send nanoseconds.
_LONG_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass(slots=True, frozen=True)
class Window:
    """What the provider says is left of one limit: ``remaining`` units until ``reset``."""

    remaining: float
    """Requests (or tokens) the provider will still accept."""
    reset: float | None
    """Seconds from now until the limit is whole again (``None``: not said)."""


@dataclass(slots=True, frozen=True)
class RateLimitReport:
    """The rate-limit facts in one response's headers; ``None`` where a header was absent."""

    requests: Window | None = None
    tokens: Window | None = None
    retry_after: float | None = None
    """Seconds the server asked to wait (``retry-after-ms`` or ``retry-after``)."""

    @property
    def empty(self) -> bool:
        """Whether the headers said nothing about rate limits."""
        return self.requests is None and self.tokens is None and self.retry_after is None


_NOTHING = RateLimitReport()


def rate_limit_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The rate-limit and ``retry-after`` headers among ``headers`` (name, value pairs), names lower-cased.

    One pass over a response's headers; most responses of most providers have none of these,
    and then ``parse_rate_limit_headers`` need not run.
    """
    found: dict[str, str] = {}
    for name, value in headers:
        name = name.lower()
        if "ratelimit" in name or name.startswith("retry-after"):
            found[name] = value
    return found


def parse_rate_limit_headers(headers: Mapping[str, str], *, wall_now: float) -> RateLimitReport:
    """The report of ``headers`` (names lower-cased), times read against ``wall_now`` (Unix seconds)."""
    requests = (
        _window(headers, "x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", wall_now)
        or _window(
            headers, "anthropic-ratelimit-requests-remaining", "anthropic-ratelimit-requests-reset", wall_now
        )
        or _window(headers, "x-ratelimit-remaining", "x-ratelimit-reset", wall_now)
    )
    tokens = (
        _window(headers, "x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", wall_now)
        or _window(
            headers, "anthropic-ratelimit-tokens-remaining", "anthropic-ratelimit-tokens-reset", wall_now
        )
        or _window(
            headers,
            "anthropic-ratelimit-input-tokens-remaining",
            "anthropic-ratelimit-input-tokens-reset",
            wall_now,
        )
    )
    retry_after = retry_after_seconds(headers, wall_now=wall_now)
    if requests is None and tokens is None and retry_after is None:
        return _NOTHING
    return RateLimitReport(requests=requests, tokens=tokens, retry_after=retry_after)


def _window(
    headers: Mapping[str, str], remaining_name: str, reset_name: str, wall_now: float
) -> Window | None:
    text = headers.get(remaining_name)
    if text is None:
        return None
    remaining = _number(text)
    if remaining is None or remaining < 0:
        return None
    reset_text = headers.get(reset_name)
    return Window(
        remaining=remaining, reset=None if reset_text is None else reset_seconds(reset_text, wall_now)
    )


def retry_after_seconds(headers: Mapping[str, str], *, wall_now: float) -> float | None:
    """Seconds asked for by ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        value = _number(milliseconds)
        if value is not None and value >= 0:
            return value / 1000.0
    text = headers.get("retry-after")
    if text is None:
        return None
    value = _number(text)
    if value is not None:
        return value if value >= 0 else None
    import email.utils  # only servers that send an HTTP date pay for this import

    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return max(moment.timestamp() - wall_now, 0.0)


def reset_seconds(text: str, wall_now: float) -> float | None:
    """Seconds until a reset given as a duration, a Unix timestamp (s or ms) or an RFC 3339 time."""
    text = text.strip()
    if text[-1:] in _DURATION_ENDS:  # "6m0s", "20ms": the common case, read without a float() failing first
        return go_duration(text)
    value = _number(text)
    if value is not None:
        if value >= _EPOCH_MILLISECONDS:
            return max(value / 1000.0 - wall_now, 0.0)
        if value >= _EPOCH_SECONDS:
            return max(value - wall_now, 0.0)
        return value if value >= 0 else None
    return _rfc3339_seconds(text, wall_now)


def go_duration(text: str) -> float | None:
    """Seconds of a Go duration such as ``"6m0s"``, ``"20ms"`` or ``"1h2m3.5s"`` (else ``None``)."""
    single = _DURATION_PART.fullmatch(text)  # one unit ("1s", "20ms"): most resets
    if single is not None:
        return float(single.group(1)) * _UNIT_SECONDS[single.group(2)]
    position = 0
    total = 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0 or position != len(text):
        return None
    return total


def _rfc3339_seconds(text: str, wall_now: float) -> float | None:
    from datetime import datetime  # only servers that send a timestamp pay for this import

    try:
        moment = datetime.fromisoformat(_LONG_FRACTION.sub(r"\1", text))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None  # a local time of an unknown zone: no safe reading
    return max(moment.timestamp() - wall_now, 0.0)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None

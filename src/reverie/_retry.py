"""Retry policy and the pure computation of retry delays.

The decision follows the Vercel AI SDK's ``retryWithExponentialBackoff`` and fantasy's
port of it: retry only errors that say they are retryable, wait what the server asks
(``retry-after-ms``, then ``retry-after`` in seconds or as an HTTP date) when that is
under a minute or under the backoff, otherwise back off exponentially. Sleeping is the
runner's job; nothing here waits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from reverie._errors import ProviderError, RetryError, ReverieError
from reverie._record import FrozenRecord

if not TYPE_CHECKING:
    from reverie._record import frozen_dataclass
else:  # last: type checkers and the docs see @dataclass itself (see reverie._record)
    from dataclasses import dataclass as frozen_dataclass

_SERVER_DELAY_CAP = 60.0


@frozen_dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class RetryPolicy(FrozenRecord):
    """How a failed step is retried.

    Args:
        max_retries: Retries after the first attempt (0 disables retrying).
        initial_delay: Seconds before the first retry.
        backoff_factor: Each further retry waits this many times longer.
        max_delay: Upper bound for any single wait, server-requested ones included.
    """

    max_retries: int = 3
    initial_delay: float = 5.0
    backoff_factor: float = 2.0
    max_delay: float = 120.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.initial_delay < 0 or self.backoff_factor < 1 or self.max_delay < 0:
            raise ValueError("delays must be >= 0 and backoff_factor >= 1")
        if any(math.isnan(value) for value in (self.initial_delay, self.backoff_factor, self.max_delay)):
            raise ValueError("delays and backoff_factor must be numbers, not NaN")


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` may go away on a retry."""
    return isinstance(error, ProviderError) and error.is_retryable


def backoff_delay(policy: RetryPolicy, retry_number: int) -> float:
    """The exponential delay before retry ``retry_number`` (1-based)."""
    # Compare in logarithms and cap before the power: ``10.0 ** 400`` overflows a float long
    # before anyone would wait that long.
    exponent = retry_number - 1
    if policy.initial_delay <= 0 or exponent <= 0 or policy.backoff_factor == 1:
        return min(policy.initial_delay, policy.max_delay)
    if policy.max_delay <= policy.initial_delay or exponent * math.log(policy.backoff_factor) >= math.log(
        policy.max_delay / policy.initial_delay
    ):
        return policy.max_delay
    try:
        return min(policy.initial_delay * policy.backoff_factor**exponent, policy.max_delay)
    except OverflowError:  # only reachable with an infinite max_delay
        return policy.max_delay


def server_delay(error: ReverieError, *, now: float | None = None) -> float | None:
    """The delay the server asked for in ``retry-after-ms`` or ``retry-after``, in seconds."""
    if not isinstance(error, ProviderError):
        return None
    headers = error.response_headers
    milliseconds = headers.get("retry-after-ms")
    if milliseconds is not None:
        try:
            return max(float(milliseconds) / 1000.0, 0.0)
        except ValueError:
            pass
    retry_after = headers.get("retry-after")
    if retry_after is None:
        return None
    try:
        return max(float(retry_after), 0.0)
    except ValueError:
        pass
    import email.utils  # only servers that send an HTTP date pay for this import

    try:
        moment = email.utils.parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(moment.timestamp() - current, 0.0)


def retry_delay(
    policy: RetryPolicy, errors: Sequence[ReverieError], *, now: float | None = None
) -> float | None:
    """Seconds to wait before the next attempt, or ``None`` to give up.

    ``errors`` are the failures so far, the latest last.
    """
    latest = errors[-1]
    retry_number = len(errors)
    if retry_number > policy.max_retries or not is_retryable(latest):
        return None
    backoff = backoff_delay(policy, retry_number)
    requested = server_delay(latest, now=now)
    if requested is not None and (requested < _SERVER_DELAY_CAP or requested < backoff):
        return min(requested, policy.max_delay)
    return backoff


def final_error(policy: RetryPolicy, errors: Sequence[ReverieError]) -> ReverieError:
    """The error to raise once retrying stops.

    As in the Vercel AI SDK: the original error when it was the only attempt (retrying is
    off, or the first failure cannot be retried); otherwise a ``RetryError`` holding every
    attempt. Trying a ``FallbackModel``'s next model is an attempt too, so a step that moved
    on raises a ``RetryError`` even when retrying is off.
    """
    if len(errors) == 1 and (policy.max_retries == 0 or not is_retryable(errors[0])):
        return errors[0]
    return RetryError(errors)

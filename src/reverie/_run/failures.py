"""After a failed model call: retry the model, move on to the next one, or give up.

``next_attempt`` applies the step's retry policy and fallback chain (``Attempts``, in
``reverie._run.fallback``) and the run's deadline to a failure, and either returns the attempt
that follows or raises the error the run ends with; ``retry_part`` announces the attempt that
follows, with what the failed one produced and a consumer should drop; ``log_retry`` logs it;
``deadline_error`` is the error of a run whose deadline passed.

None of this changes the run's state, fires callbacks or waits: the machine
(``reverie._run.machine``) does, with what these return. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from reverie._errors import DeadlineExceededError, ReverieError
from reverie._log import logger
from reverie._parts import Discarded, RetryPart
from reverie._results import StepResult
from reverie._run.budget import wait_fits
from reverie._run.fallback import Attempts, NextAttempt


def next_attempt(
    error: ReverieError,
    attempts: Attempts,
    *,
    step_number: int,
    deadline: float | None,
    ends: float | None,
    clock: Callable[[], float],
    wall_clock: Callable[[], float] | None,
) -> NextAttempt:
    """Record ``error`` in the step's ``attempts``; the attempt that follows it.

    Args:
        error: How the attempt failed.
        attempts: The step's failed attempts so far (``error`` is added).
        step_number: The step the attempt belongs to (for the logs).
        deadline: The run's deadline, in seconds (``None``: none).
        ends: When the deadline passes, on ``clock``.
        clock: The monotonic clock of the deadline.
        wall_clock: The wall clock for HTTP-date ``retry-after`` headers (``None``: ``time.time``).

    Raises:
        ReverieError: the error to surface when retrying stops (the original one, or a
            ``RetryError`` holding every attempt of every model), or a ``DeadlineExceededError``
            when the wait before the retry would end after the deadline.
    """
    if isinstance(error, DeadlineExceededError):
        # A rate-limit wait that would have ended after the deadline (``Call.deadline_at``).
        raise deadline_error(deadline, attempts.errors) from error
    upcoming = attempts.failed(error, now=None if wall_clock is None else wall_clock())
    failures = len(attempts.errors)
    if upcoming is None:
        logger.debug("step %d attempt %d failed, not retrying: %s", step_number, failures, error)
        attempts.give_up(error)
    if not wait_fits(ends, clock(), upcoming.delay):
        logger.debug("step %d attempt %d failed, the deadline leaves no retry", step_number, failures)
        raise deadline_error(deadline, attempts.errors) from error
    return upcoming


def retry_part(
    upcoming: NextAttempt, *, step_number: int, error: ReverieError, partial: StepResult, emitted: int
) -> RetryPart:
    """The ``retry`` part before ``upcoming``: the failed attempt yielded ``emitted`` parts, ``partial``."""
    discarded = Discarded(
        parts=emitted,
        text=partial.text,
        reasoning=partial.reasoning_text,
        tool_calls=len(partial.tool_calls),
    )
    return upcoming.announce(step_number=step_number, error=error, discarded=discarded)


def log_retry(retry: RetryPart, error: ReverieError, *, same_model: bool) -> None:
    """Log what follows the failed attempt ``retry`` announces: a wait, or the next model."""
    if same_model:
        logger.debug(
            "step %d attempt %d failed, retrying in %.3f s: %s",
            retry.step_number,
            retry.attempt,
            retry.delay,
            error,
        )
    else:
        logger.debug(
            "step %d attempt %d failed, falling back to %s:%s: %s",
            retry.step_number,
            retry.attempt,
            retry.provider,
            retry.model,
            error,
        )


def deadline_error(deadline: float | None, errors: Sequence[ReverieError]) -> DeadlineExceededError:
    """The error of a run whose ``deadline`` passed; ``errors`` are the step's failed attempts."""
    assert deadline is not None
    error = DeadlineExceededError(deadline, errors)
    if errors:
        error.partial_step = errors[-1].partial_step
    return error

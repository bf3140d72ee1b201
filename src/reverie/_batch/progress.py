"""The progress of a batch on standard error: a rich bar on a terminal, else a plain line now and then.

Each shows items done (of all), failed ones, the rate and time left (over the items finished
in this run: resumed ones are done already), tokens and US dollars spent. rich (the
``reverie[cli]`` extra) is imported only for a terminal; without it, or off a terminal, a plain
line is printed every ``PLAIN_EVERY`` seconds and once at the end.

Does not: count anything itself; ``work`` reports each finished item here.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

PLAIN_EVERY = 5.0
"""Seconds between two plain progress lines."""


class Reporter(Protocol):
    """Shows a batch's progress."""

    def update(self, *, done: int, failed: int, tokens: int, cost: float) -> None:
        """The counts after an item finished (``done`` includes failed and resumed items)."""
        ...

    def close(self) -> None:
        """The batch ended: show the last counts and stop."""
        ...


class Silent:
    """Shows nothing."""

    def update(self, *, done: int, failed: int, tokens: int, cost: float) -> None:
        """Nothing to show."""

    def close(self) -> None:
        """Nothing to close."""


def open_reporter(enabled: bool, *, total: int, resumed: int, stream: TextIO | None = None) -> Reporter:
    """A rich bar on a terminal (with rich installed), else plain lines; nothing when not ``enabled``."""
    if not enabled:
        return Silent()
    out = stream if stream is not None else sys.stderr
    try:
        terminal = out.isatty()
    except ValueError:  # a closed stream
        return Silent()
    if terminal:
        try:
            return RichReporter(out, total=total, resumed=resumed)
        except ImportError:  # the base install: plain lines on the terminal too
            pass
    return PlainReporter(out, total=total, resumed=resumed)


def describe(*, done: int, total: int, failed: int, tokens: int, cost: float, rate: float | None) -> str:
    """One plain progress line (without the ``reverie batch:`` prefix)."""
    parts = [f"{done:,}/{total:,} items"]
    if failed:
        parts.append(f"({failed:,} failed)")
    if rate:
        parts.append(f"{rate:,.1f}/s")
        parts.append(f"ETA {_duration((total - done) / rate)}")
    parts.append(f"{tokens:,} tokens")
    parts.append(f"${cost:.4f}")
    return " ".join(parts)


class PlainReporter:
    """A plain line every ``PLAIN_EVERY`` seconds (and at the end)."""

    def __init__(self, stream: TextIO, *, total: int, resumed: int, every: float = PLAIN_EVERY) -> None:
        self._stream = stream
        self._total = total
        self._resumed = resumed
        self._every = every
        self._started = time.monotonic()
        self._last_line = self._started
        self._counts = (resumed, 0, 0, 0.0)
        self._lock = threading.Lock()

    def update(self, *, done: int, failed: int, tokens: int, cost: float) -> None:
        """Print a line when the last one is ``every`` seconds old."""
        now = time.monotonic()
        with self._lock:
            self._counts = (done, failed, tokens, cost)
            if now - self._last_line < self._every:
                return
            self._last_line = now
        self._print(now)

    def close(self) -> None:
        """Print the last counts."""
        self._print(time.monotonic())

    def _print(self, now: float) -> None:
        done, failed, tokens, cost = self._counts
        elapsed = now - self._started
        rate = (done - self._resumed) / elapsed if elapsed > 0 and done > self._resumed else None
        line = describe(done=done, total=self._total, failed=failed, tokens=tokens, cost=cost, rate=rate)
        try:
            self._stream.write(f"reverie batch: {line}\n")
            self._stream.flush()
        except (OSError, ValueError):  # standard error went away: progress is not worth failing for
            pass


class RichReporter:
    """A rich progress bar: done of total, failed, rate, time left, tokens and cost."""

    def __init__(self, stream: TextIO, *, total: int, resumed: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress: Progress = Progress(
            TextColumn("batch"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[tokens]:,} tokens ${task.fields[cost]:.4f}"),
            console=Console(file=stream, highlight=False),
            transient=False,
        )
        self._resumed = resumed
        self._started = time.monotonic()
        self._task: TaskID = self._progress.add_task(
            "batch", total=total, completed=resumed, failed="", rate="", tokens=0, cost=0.0
        )
        self._progress.start()

    def update(self, *, done: int, failed: int, tokens: int, cost: float) -> None:
        """Move the bar."""
        elapsed = time.monotonic() - self._started
        fresh = done - self._resumed
        rate = f"{fresh / elapsed:,.1f}/s" if elapsed > 0 and fresh > 0 else ""
        self._progress.update(
            self._task,
            completed=done,
            failed=f"{failed:,} failed" if failed else "",
            rate=rate,
            tokens=tokens,
            cost=cost,
        )

    def close(self) -> None:
        """Draw the bar a last time and stop refreshing it."""
        self._progress.stop()


def _duration(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"

"""Partial objects from a growing JSON text, at a total cost linear in the text.

``PartialObjectParser`` is fed the text as it streams. Re-parsing the whole text on every
delta would cost O(n^2) over a long object streamed in small pieces, so it parses again
only when the text has grown by a fixed fraction since the last parse (and once more at
the end): the parsed lengths form a geometric series, whose sum is a constant times the
final length. Parsing is pydantic-core's partial JSON mode (``from_json(...,
allow_partial=...)``); a value is reported only when it differs from the last one.

Also here: ``json_text``, which takes the JSON out of a reply wrapped in a Markdown fence.
Does not: validate against a schema (``reverie._objects.schema`` does).
"""

from __future__ import annotations

from typing import Any, Final

from reverie._text_buffer import TextBuffer

NOTHING: Final = object()
"""Returned when there is no new partial value."""
GROWTH: Final = 0.25
"""Parse again once the text is this fraction longer than at the last parse."""


class PartialObjectParser:
    """Folds streamed text into partial JSON values, parsing at geometrically spaced lengths.

    Args:
        growth: The fraction by which the text must grow before it is parsed again.
    """

    def __init__(self, *, growth: float = GROWTH) -> None:
        if growth <= 0:
            raise ValueError("growth must be positive")
        self._growth = growth
        self._text = TextBuffer()  # not a list of the deltas: a long stream would keep each one
        self._length = 0
        self._parsed_length = 0
        self._next_parse = 1
        self._last: Any = NOTHING
        self.parses = 0
        """How many times the text was parsed (for tests of the cost bound)."""

    @property
    def text(self) -> str:
        """Everything fed so far."""
        return self._text.getvalue()

    @property
    def value(self) -> Any:
        """The last value reported (``NOTHING`` before the first)."""
        return self._last

    def feed(self, delta: str) -> Any:
        """Add ``delta``; the new partial value if a parse was due and the value changed, else ``NOTHING``."""
        if not delta:
            return NOTHING
        self._text.write(delta)
        self._length += len(delta)
        if self._length < self._next_parse:
            return NOTHING
        return self._parse()

    def finish(self) -> Any:
        """Parse whatever arrived since the last parse; the value if it changed, else ``NOTHING``."""
        if self._length == self._parsed_length:
            return NOTHING
        return self._parse()

    def _parse(self) -> Any:
        import pydantic_core

        text = self.text
        self.parses += 1
        self._parsed_length = self._length
        self._next_parse = max(self._length + 1, int(self._length * (1 + self._growth)))
        try:
            # "trailing-strings" keeps a string that is still being written, so text fields
            # grow as they stream instead of appearing only when complete.
            value = pydantic_core.from_json(_skip_fence(text), allow_partial="trailing-strings")
        except ValueError:
            return NOTHING  # not JSON (yet): prose before the object, or a broken reply
        if self._last is not NOTHING and value == self._last:
            return NOTHING
        self._last = value
        return value


def json_text(text: str) -> str:
    """The JSON inside a reply: ``text`` stripped, without a surrounding Markdown code fence."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = _skip_fence(stripped)
        if stripped.rstrip().endswith("```"):
            stripped = stripped.rstrip()[:-3]
    return stripped.strip()


def _skip_fence(text: str) -> str:
    """``text`` without an opening Markdown fence line (```` ```json ````), if it has one."""
    stripped = text.lstrip()
    if not stripped.startswith("```"):
        return text
    newline = stripped.find("\n")
    return "" if newline < 0 else stripped[newline + 1 :]

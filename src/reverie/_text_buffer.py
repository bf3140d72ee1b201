"""``TextBuffer``: text written in many small pieces, kept as a few strings.

A stream delivers its text in thousands of deltas of a few characters. Keeping the deltas
in a list until the end costs a string object per delta (50-odd bytes each, more than the
text); concatenating on every delta copies the whole text each time (quadratic). On
Python 3.11 ``io.StringIO`` does the former (it accumulates up to 100,000 pieces before it
joins them; 3.12 grows one string).

``TextBuffer`` joins the pieces in groups: every ``GROUP`` pieces become one string on the
next level, and every ``GROUP`` strings of a level become one string on the level above.
It holds at most ``GROUP - 1`` strings a level and a number of levels logarithmic in the
number of pieces, so its memory is the text plus a bounded overhead, and each character
is copied once a level (about four times for a million pieces). The text is exactly what
was written: nothing is translated or normalised.

Does not: read, seek or overwrite; it only appends.
"""

from __future__ import annotations

from typing import Final

GROUP: Final = 64
"""How many strings of one level are joined into one string of the next."""


class TextBuffer:
    """Append-only text; ``write`` is cheap and ``getvalue`` joins what was written."""

    __slots__ = ("_levels", "_pieces")

    def __init__(self) -> None:
        self._pieces: list[str] = []
        """Level 0: the latest pieces, as written."""
        self._levels: list[list[str]] = [self._pieces]
        """Level ``n + 1`` holds joined groups of level ``n``; a higher level holds earlier text."""

    def write(self, text: str) -> None:
        """Append ``text``."""
        pieces = self._pieces
        pieces.append(text)
        if len(pieces) == GROUP:
            self._carry()

    def _carry(self) -> None:
        """Join every full level into one string of the level above, from the bottom up."""
        levels = self._levels
        level = 0
        while len(levels[level]) == GROUP:
            joined = "".join(levels[level])
            levels[level].clear()  # cleared in place: level 0 is also ``_pieces``
            if level + 1 == len(levels):
                levels.append([])
            levels[level + 1].append(joined)
            level += 1

    def getvalue(self) -> str:
        """Everything written so far, as one string."""
        levels = self._levels
        if len(levels) == 1:
            pieces = self._pieces
            return pieces[0] if len(pieces) == 1 else "".join(pieces)
        return "".join([piece for level in reversed(levels) for piece in level])

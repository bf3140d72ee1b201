"""``TextBuffer``: text written in many small pieces, kept as one growing string.

A stream delivers its text in thousands of deltas of a few characters. Keeping the deltas
in a list until the end costs a string object per delta (50-odd bytes each, more than the
text), and joining them at the end holds the text twice at once. On Python 3.11
``io.StringIO`` does the former (it accumulates up to 100,000 pieces before it joins them;
3.12 grows one string).

``TextBuffer`` joins every ``GROUP`` pieces into one string, every ``GROUP`` of those into
a larger one, and appends that to the text written before. CPython grows a string in place
when nothing else refers to it (``text += more`` into the same local name), and the buffer
lets go of its reference first, so the text is held once: its memory is the text plus at
most ``GROUP`` small pieces and ``GROUP`` groups, during the stream and after ``getvalue``
(the string returned is the buffer's own). Were a string copied on each append, the
appends are few (one per ``GROUP * GROUP`` pieces), so the cost stays close to linear.
The text is exactly what was written: nothing is translated or normalised.

Does not: read, seek or overwrite; it only appends.
"""

from __future__ import annotations

from typing import Final

GROUP: Final = 64
"""How many pieces make a group, and how many groups are appended to the text at once."""


class TextBuffer:
    """Append-only text; ``write`` is cheap and ``getvalue`` returns what was written."""

    __slots__ = ("_groups", "_pieces", "_text")

    def __init__(self) -> None:
        self._text = ""
        """The text written before ``_groups``."""
        self._groups: list[str] = []
        """Fewer than ``GROUP`` joined groups of pieces, after ``_text``."""
        self._pieces: list[str] = []
        """Fewer than ``GROUP`` of the latest pieces, as written, after ``_groups``."""

    def write(self, text: str) -> None:
        """Append ``text``."""
        pieces = self._pieces
        pieces.append(text)
        if len(pieces) == GROUP:
            self._carry()

    def _carry(self) -> None:
        """Join the pieces into a group; join full groups onto the text."""
        groups = self._groups
        groups.append("".join(self._pieces))
        self._pieces.clear()
        if len(groups) == GROUP:
            joined = "".join(groups)
            groups.clear()
            self._append(joined)

    def _append(self, more: str) -> None:
        text = self._text
        self._text = ""  # ``text`` is then the string's only reference: grown in place, not copied
        text += more
        self._text = text

    def getvalue(self) -> str:
        """Everything written so far, as one string (the buffer's own: later calls join nothing)."""
        groups, pieces = self._groups, self._pieces
        if groups or pieces:
            rest = pieces[0] if not groups and len(pieces) == 1 else "".join([*groups, *pieces])
            groups.clear()
            pieces.clear()
            self._append(rest)
        return self._text

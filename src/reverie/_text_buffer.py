"""``TextBuffer``: text written in many small pieces, kept as one growing string.

A stream delivers its text in thousands of deltas of a few characters. Keeping the deltas
in a list until the end costs a string object per delta (50-odd bytes each, more than the
text), and joining them at the end holds the text twice at once. On Python 3.11
``io.StringIO`` does the former (it accumulates up to 100,000 pieces before it joins them;
3.12 grows one string).

``TextBuffer`` appends each piece to the text as it is written. CPython grows a string in
place when nothing else refers to it (``text += more`` into the same local name), and the
buffer lets go of its reference first, so the text is held once, during the stream and
after ``getvalue`` (the string returned is the buffer's own). Nothing is allocated between
two appends (no joined groups of pieces): a long text at the end of the heap grows where it
is, and a large one is grown by the allocator without a copy, so the process's memory grows
by the text alone, as for a plain ``text += delta`` loop. The text is exactly what was
written: nothing is translated or normalised.

Does not: read, seek or overwrite; it only appends.
"""

from __future__ import annotations


class TextBuffer:
    """Append-only text; ``write`` is cheap and ``getvalue`` returns what was written."""

    __slots__ = ("_text",)

    def __init__(self) -> None:
        self._text = ""
        """Everything written so far."""

    def write(self, text: str) -> None:
        """Append ``text``."""
        current = self._text
        if not current:
            # The buffer's own string, not the first piece itself (``"" + piece`` is the piece):
            # only a string no one else was given may be grown in place.
            self._text = text.join(("", ""))
            return
        self._text = ""  # ``current`` is then the string's only reference: grown in place, not copied
        current += text
        self._text = current

    def getvalue(self) -> str:
        """Everything written so far, as one string (the buffer's own: nothing is joined)."""
        return self._text

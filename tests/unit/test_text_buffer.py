"""``TextBuffer`` keeps exactly the text written, as one string."""

from __future__ import annotations

import random

import pytest

from reverie._text_buffer import TextBuffer


def strings_held(buffer: TextBuffer) -> int:
    return sum(type(getattr(buffer, name)) is str for name in TextBuffer.__slots__)


def test_an_empty_buffer_is_empty() -> None:
    assert TextBuffer().getvalue() == ""


@pytest.mark.parametrize("count", [1, 2, 63, 64, 65, 4096, 4103, 10_000])
def test_the_text_is_the_pieces_joined_in_order(count: int) -> None:
    pieces = [f"{index}," for index in range(count)]
    buffer = TextBuffer()
    for piece in pieces:
        buffer.write(piece)
    assert buffer.getvalue() == "".join(pieces)


def test_nothing_is_translated() -> None:
    # Line ends, empty pieces, non-ASCII text and the halves of a surrogate pair written apart
    # (a JSON escape split across two chunks) come back exactly as written.
    pieces = ["a\r\n", "", "b\r", "\n", "é", "日本", "\ud83d", "\ude00", "\x00"] * 50
    random.Random(7).shuffle(pieces)
    buffer = TextBuffer()
    for piece in pieces:
        buffer.write(piece)
    assert buffer.getvalue() == "".join(pieces)


def test_reading_midway_does_not_disturb_later_writes() -> None:
    buffer = TextBuffer()
    expected: list[str] = []
    for index in range(5_000):
        piece = str(index % 10)
        buffer.write(piece)
        expected.append(piece)
        if index % 997 == 0:
            assert buffer.getvalue() == "".join(expected)
    assert buffer.getvalue() == "".join(expected)


def test_it_holds_one_string() -> None:
    buffer = TextBuffer()
    most = 0
    for index in range(200_000):
        buffer.write("x" if index % 2 else "yz")
        most = max(most, strings_held(buffer))
    assert most == 1
    assert len(buffer.getvalue()) == 300_000


def test_the_text_returned_is_the_one_the_buffer_holds() -> None:
    # Held once: the buffer keeps the very string it returned, not its pieces.
    buffer = TextBuffer()
    for index in range(10_000):
        buffer.write(str(index % 10))
    text = buffer.getvalue()
    assert strings_held(buffer) == 1
    assert buffer.getvalue() is text
    buffer.write("more")
    assert buffer.getvalue() == text + "more"

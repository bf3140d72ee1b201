"""Request headers given by the user: checked before any request and merged by layer.

A header value with a CR or LF (often an API key read from a file with its newline), another
control character or a non-ASCII one would be refused by the HTTP client while sending, which
looked like a network failure or escaped as a raw ``UnicodeEncodeError``;
here it is a ``UserError`` that names the header (never its value, which may be a secret)
and where it came from. Layers merge name by name, case-insensitively: the call's headers
over the agent's over the provider's. This module does not send anything.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from reverie._errors import UserError

# RFC 9110 token characters for a field name. A value is sent as ASCII by the HTTP client:
# visible characters, spaces and tabs only (no CR, LF or other control characters).


@functools.cache
def _name_pattern() -> re.Pattern[str]:
    """A header field name: RFC 9110 token characters (compiled on first use, not on import)."""
    return re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@functools.cache
def _forbidden_in_value() -> re.Pattern[str]:
    """A character a header value cannot hold (compiled on first use, not on import)."""
    return re.compile(r"[^\t\x20-\x7e]")


def check_headers(headers: Mapping[str, str] | None, where: str) -> None:
    """Raise ``UserError`` if a header of ``headers`` (from ``where``) cannot be sent.

    Args:
        headers: Header names and values.
        where: Where they were given, for the message (e.g. ``"the call's headers"``).
    """
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not _valid_name(name):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"{where}: {name!r} is not a valid header name")
        if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"{where}: header {name!r} must be a string, got {type(value).__name__}")
        if value.isascii() and value.isprintable():  # the common case, checked in C (every request)
            continue
        found = _forbidden_in_value().search(value)
        if found is not None:
            # The value is not shown: it may be a credential.
            character = found.group()
            what = (
                "a line break, which cannot be sent (a trailing newline read from a file?)"
                if character in "\r\n"
                else f"the character U+{ord(character):04X}, which a header value cannot hold "
                "(only printable ASCII, spaces and tabs)"
            )
            raise UserError(f"{where}: the value of header {name!r} contains {what}")


@functools.lru_cache(maxsize=256)
def _valid_name(name: str) -> bool:
    # Names are few and never secret: remembering them keeps the regex off the hot path.
    return _name_pattern().fullmatch(name) is not None


def merge_headers(*layers: Mapping[str, str] | None) -> dict[str, str]:
    """``layers`` merged with lower-cased names, each layer over the ones before it."""
    merged: dict[str, str] = {}
    for layer in layers:
        for name, value in (layer or {}).items():
            merged[name.lower()] = value
    return merged

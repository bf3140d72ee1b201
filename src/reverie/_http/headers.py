"""Request headers given by the user: checked before any request and merged by layer.

A header value with a CR, LF or NUL (often an API key read from a file with its newline)
would be refused by the HTTP client while sending, which looks like a network failure;
here it is a ``UserError`` that names the header (never its value, which may be a secret)
and where it came from. Layers merge name by name, case-insensitively: the call's headers
over the agent's over the provider's. This module does not send anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from reverie._errors import UserError

# RFC 9110 token characters for a field name; a field value may not hold CR, LF or NUL.
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")


def check_headers(headers: Mapping[str, str] | None, where: str) -> None:
    """Raise ``UserError`` if a header of ``headers`` (from ``where``) cannot be sent.

    Args:
        headers: Header names and values.
        where: Where they were given, for the message (e.g. ``"the call's headers"``).
    """
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"{where}: {name!r} is not a valid header name")
        if not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"{where}: header {name!r} must be a string, got {type(value).__name__}")
        if _FORBIDDEN_IN_VALUE.search(value) is not None:
            # The value is not shown: it may be a credential.
            raise UserError(
                f"{where}: the value of header {name!r} contains a line break or NUL character, "
                "which cannot be sent (a trailing newline read from a file?)"
            )


def merge_headers(*layers: Mapping[str, str] | None) -> dict[str, str]:
    """``layers`` merged with lower-cased names, each layer over the ones before it."""
    merged: dict[str, str] = {}
    for layer in layers:
        for name, value in (layer or {}).items():
            merged[name.lower()] = value
    return merged

"""The process's known secrets, and redaction of them from any text shown or stored.

Every API key, URL password and token reverie holds is registered here when it is wrapped
in ``reverie._http.auth.Secret`` (or split off a URL). ``redact`` then replaces each known
secret in a text with ``***``: errors redact their messages and the bodies they keep (a
server may echo the key back), and cassettes redact URLs, headers and both bodies before
they are written. Values that read like ordinary text are not registered (shorter than 12
characters, or shorter than 24 without a digit): replacing every ``"provider"`` in a body
would damage it more than it protects, and real keys are long and random.

This module only matches exact values; it does not guess what looks like a key.
"""

from __future__ import annotations

import functools
import re
import threading

MASK = "***"
MIN_SECRET_LENGTH = 12
"""Shorter values are not redacted (they match ordinary text)."""
_MIN_LENGTH_WITHOUT_DIGIT = 24

_lock = threading.Lock()
_known: frozenset[str] = frozenset()
_pattern: re.Pattern[str] | None = None


@functools.cache
def _url_password() -> re.Pattern[str]:
    """The user information (``user:password@``) of a URL (compiled on first use, not on import)."""
    return re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/?#@\s]*)@")


def register_secret(value: str) -> None:
    """Remember ``value`` as a secret, so ``redact`` hides it from now on."""
    global _known, _pattern
    if not _looks_secret(value) or value in _known:
        return
    with _lock:
        # Copied on write: readers use the set and pattern they got, without taking the lock.
        known = _known | {value}
        longest_first = sorted(known, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(item) for item in longest_first))
        _known = known


def _looks_secret(value: str) -> bool:
    if len(value) < MIN_SECRET_LENGTH:
        return False
    return len(value) >= _MIN_LENGTH_WITHOUT_DIGIT or any(char.isdigit() for char in value)


def known_secrets() -> frozenset[str]:
    """Every secret registered so far."""
    return _known


def redact(text: str) -> str:
    """``text`` with every known secret, and any password in a URL, replaced by ``***``."""
    pattern = _pattern
    if pattern is not None:
        text = pattern.sub(MASK, text)
    if "@" in text and "://" in text:
        text = _url_password().sub(_mask_userinfo, text)
    return text


def redact_bytes(data: bytes) -> bytes:
    """``data`` with every known secret (as UTF-8) replaced by ``***``."""
    pattern = _pattern
    if pattern is None:
        return data
    for secret in sorted(_known, key=len, reverse=True):
        data = data.replace(secret.encode("utf-8"), MASK.encode())
    return data


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _ = match["userinfo"].partition(":")
    return f"{match['scheme']}{user}:{MASK}@" if colon else f"{match['scheme']}{MASK}@"

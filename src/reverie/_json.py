"""JSON in and out of the wire: the one place untrusted JSON is decoded and request JSON encoded.

Decoding turns every way a payload can be unreadable into a ``ValueError`` (the standard
library's own ``json.JSONDecodeError`` and, for a payload nested deeper than the interpreter's
recursion limit, a ``RecursionError``), and accepts a leading UTF-8 byte order mark, which
some servers send. Encoding writes compact UTF-8 as the recordings were sent, replacing lone
surrogates (what escaped surrogate halves in a model's JSON decode to; UTF-8 cannot hold them) with
U+FFFD. Nothing here knows a provider's payload shapes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Any

from reverie._errors import UserError

_BYTE_ORDER_MARK = "\ufeff"


@functools.cache
def _lone_surrogate() -> re.Pattern[str]:
    """A lone surrogate, which UTF-8 cannot hold (compiled on first use, not on import)."""
    return re.compile("[\ud800-\udfff]")


_DECODER = json.JSONDecoder()
_DECODE = _DECODER.decode
# Set by JSONDecoder.__init__ but missing from the type stubs.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
"""The decoder's own scanner: ``decode`` is this plus two whitespace matches and two frames."""
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
"""Request bodies are written by one encoder made once (``json.dumps`` with options makes one
per call), without the check for circular references, which costs a dictionary insertion and
removal per object: a body that contains itself recurses until ``RecursionError`` instead."""
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ITERENCODE: Callable[[Any, int], Any] | None = (
    None
    if _C_ENCODER is None
    else _C_ENCODER(
        None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
)
"""The C encoder ``_ENCODER.encode`` makes on every call, made once (what it is called with:
no markers without the circular check, no indent, not sorted, no skipped keys, NaN allowed).
``None`` where the interpreter has no C encoder."""


def _encode(value: Any) -> str:
    if _ITERENCODE is None:
        return _ENCODER.encode(value)
    return "".join(_ITERENCODE(value, 0))


class UnreadableJSONError(ValueError):
    """A payload that is not JSON this process can read (malformed, or nested too deep)."""


def loads(text: str | bytes) -> Any:
    """Decode untrusted JSON ``text``.

    Raises:
        UnreadableJSONError: (a ``ValueError``) for malformed JSON, a payload nested too deep
            to decode, or bytes that are not UTF-8.
    """
    if type(text) is str:
        # The fast path, for the events of a stream (one per token): a payload without
        # surrounding whitespace is read by the scanner alone. Anything else (padding, a byte
        # order mark, malformed or deep JSON) goes through ``decode`` below, which reads it
        # again and reports the error, exactly as if this path did not exist.
        try:
            value, end = _SCAN(text, 0)
        except (StopIteration, ValueError, RecursionError):
            pass
        else:
            if end == len(text):
                return value
    elif not isinstance(text, str):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnreadableJSONError(f"not UTF-8: {error}") from None
    try:
        # The decoder itself, not json.loads: this runs for every streamed event.
        return _DECODE(text)
    except RecursionError:
        raise UnreadableJSONError("JSON nested too deep to decode") from None
    except ValueError as error:
        if text.startswith(_BYTE_ORDER_MARK):  # rare: checked only when decoding failed
            return loads(text[len(_BYTE_ORDER_MARK) :])
        raise UnreadableJSONError(str(error)) from None


def dumps(value: Any) -> str:
    """``value`` as compact JSON text (no ASCII escaping), with lone surrogates replaced by U+FFFD."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except RecursionError:
        raise ValueError("value nested too deep to encode as JSON") from None
    return replace_lone_surrogates(text)


def encode(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, ready to send (lone surrogates become U+FFFD).

    Raises:
        UserError: ``value`` holds something JSON cannot (an object of another type) or is
            nested too deep (or contains itself); it came from the caller's messages, settings
            or options.
    """
    return utf8(encode_text(value))


def encode_text(value: Any) -> str:
    """``value`` as compact JSON text, as ``encode`` writes it (before UTF-8).

    Raises:
        UserError: as ``encode``.
    """
    try:
        return _encode(value)
    except RecursionError:
        raise UserError(
            "the request cannot be encoded as JSON: it is nested too deep (or contains itself)"
        ) from None
    except (TypeError, ValueError) as error:
        raise UserError(f"the request cannot be encoded as JSON: {error}") from None


encode_string: Callable[[str], str] = json.encoder.encode_basestring
"""A string as a JSON string literal, as ``encode_text`` writes strings (no ASCII escaping)."""


def utf8(text: str) -> bytes:
    """JSON ``text`` as UTF-8, each lone surrogate (which UTF-8 cannot hold) replaced by U+FFFD."""
    try:
        return text.encode()
    except UnicodeEncodeError:  # rare: encode twice only then
        return _lone_surrogate().sub("\ufffd", text).encode()


def replace_lone_surrogates(text: str) -> str:
    """``text`` with each lone surrogate (not encodable as UTF-8) replaced by U+FFFD."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return _lone_surrogate().sub("\ufffd", text)
    return text

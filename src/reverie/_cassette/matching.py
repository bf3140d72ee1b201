r"""Request matching for cassette replay: which recorded interaction answers a request.

What it does, in the default ``"strict"`` mode:

* A request matches a recorded interaction when the method is equal, the full URL string
  is equal (scheme, host, path and query) and the bodies are equal after line-ending
  normalisation (``\r\n`` becomes ``\n``, and so does the escaped form inside JSON
  strings). Bodies whose normalised texts differ are compared as JSON values: object key
  order is ignored, array order is not, numbers compare by value (``1`` equals ``1.0``),
  booleans never equal numbers and strings compare exactly.
* ``key=`` query parameters are credentials, not request semantics: they are ignored on
  both sides when URLs are compared, so a request that carries an API key in its query
  string replays against a scrubbed recording. Known secrets (``reverie._secrets``) are
  redacted from a sent request's URL and body before comparing, as they were when recording.
* :class:`Matcher` serves each interaction at most once; a request gets the first unused
  match in recorded order. For a request that matches nothing it explains why: an equal
  request already served, the closest unused candidate with the differences of its body,
  or the interactions still unused.

In ``"lenient"`` mode the method and the URL must still match (by the same URL rule), but
bodies are not compared, and interactions are served strictly in recorded order: each
request must match the first unused interaction, so a request that would skip one fails.
This is for recordings whose request bodies the program cannot reproduce exactly (the
conformance manifest marks such entries ``"match": "lenient"``).

What it does not do: compare request headers (recorded headers are informational only),
read or write files (``file_format``), build responses or lock (``transport``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal, cast

import httpx2

from reverie import _json
from reverie._cassette.file_format import Interaction, strip_key_param
from reverie._secrets import redact

__all__ = ["MATCH_MODES", "MatchMode", "Matcher", "SentRequest"]

MatchMode = Literal["strict", "lenient"]
"""How requests are matched: ``"strict"`` compares bodies, ``"lenient"`` serves in order."""

MATCH_MODES: tuple[MatchMode, ...] = ("strict", "lenient")

_DIFF_LIMIT = 50
_REPR_LIMIT = 80
_NOT_JSON = object()


def _normalise(text: str) -> str:
    """Normalise line endings, both raw and escaped inside JSON strings."""
    return text.replace("\r\n", "\n").replace("\\r\\n", "\\n")


def _parse_json(text: str) -> object:
    try:
        return cast(object, _json.loads(text))
    except ValueError:
        return _NOT_JSON


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _json_equal(a: object, b: object) -> bool:
    """Compare two parsed JSON values by the replay rules (bools never equal numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if _is_number(a) and _is_number(b):
        return cast("int | float", a) == cast("int | float", b)
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, dict) and isinstance(b, dict):
        da = cast("dict[str, object]", a)
        db = cast("dict[str, object]", b)
        return da.keys() == db.keys() and all(_json_equal(da[k], db[k]) for k in da)
    if isinstance(a, list) and isinstance(b, list):
        la = cast("list[object]", a)
        lb = cast("list[object]", b)
        return len(la) == len(lb) and all(_json_equal(x, y) for x, y in zip(la, lb, strict=True))
    return False


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 3] + "..."


def _json_diffs(recorded: object, sent: object, path: str, out: list[str]) -> None:
    """Append human-readable differences between two JSON values to ``out`` (bounded)."""
    if len(out) >= _DIFF_LIMIT or _json_equal(recorded, sent):
        return
    if isinstance(recorded, dict) and isinstance(sent, dict):
        dr = cast("dict[str, object]", recorded)
        ds = cast("dict[str, object]", sent)
        for key in dr:
            if key not in ds:
                out.append(f"{path}.{key}: missing from the request (recorded {_short(dr[key])})")
            else:
                _json_diffs(dr[key], ds[key], f"{path}.{key}", out)
        out.extend(
            f"{path}.{key}: not in the recording (sent {_short(ds[key])})" for key in ds if key not in dr
        )
        return
    if isinstance(recorded, list) and isinstance(sent, list):
        lr = cast("list[object]", recorded)
        ls = cast("list[object]", sent)
        if len(lr) != len(ls):
            out.append(f"{path}: recorded {len(lr)} items, sent {len(ls)}")
        for index, (x, y) in enumerate(zip(lr, ls, strict=False)):
            _json_diffs(x, y, f"{path}[{index}]", out)
        return
    out.append(f"{path}: recorded {_short(cast(object, recorded))}, sent {_short(sent)}")


def _text_diff(recorded: str, sent: str) -> str:
    offset = next(
        (i for i, (x, y) in enumerate(zip(recorded, sent, strict=False)) if x != y),
        min(len(recorded), len(sent)),
    )
    start = max(0, offset - 30)
    return (
        f"body text differs at offset {offset}: recorded {recorded[start : offset + 30]!r}, "
        f"sent {sent[start : offset + 30]!r}"
    )


class _Body:
    """A normalised body text, parsed as JSON on first need."""

    def __init__(self, text: str) -> None:
        self.text = _normalise(text)
        self._parsed: object = None
        self._parsed_done = False

    @property
    def parsed(self) -> object:
        """The body as a JSON value, or the ``_NOT_JSON`` marker."""
        if not self._parsed_done:
            self._parsed = _parse_json(self.text)
            self._parsed_done = True
        return self._parsed


class _Recorded:
    """An interaction plus precomputed matching keys."""

    def __init__(self, interaction: Interaction) -> None:
        self.interaction = interaction
        self.method = interaction.method.upper()
        self.url = strip_key_param(interaction.url)
        self.body = _Body(interaction.request_body)


class SentRequest:
    """An incoming request reduced to its matching keys.

    Attributes:
        method: The upper-case method.
        url_text: The full URL as sent (for messages).
        url: The URL without ``key=`` query parameters (for comparison).
    """

    def __init__(self, request: httpx2.Request) -> None:
        """Reduce a request whose content has been read."""
        self.method = request.method.upper()
        # Known secrets were redacted when recording: redact them here too so the request
        # matches its recording (and no message about it shows them).
        self.url_text = redact(str(request.url))
        self.url = strip_key_param(self.url_text)
        self.body = _Body(redact(request.content.decode("utf-8", errors="replace")))


def _bodies_match(recorded: _Body, sent: _Body) -> bool:
    if recorded.text == sent.text:
        return True
    a, b = recorded.parsed, sent.parsed
    if a is _NOT_JSON or b is _NOT_JSON:
        return False
    return _json_equal(a, b)


def _body_diffs(recorded: _Body, sent: _Body) -> list[str]:
    a, b = recorded.parsed, sent.parsed
    if a is _NOT_JSON or b is _NOT_JSON:
        return [_text_diff(recorded.text, sent.text)]
    out: list[str] = []
    _json_diffs(a, b, "$", out)
    return out


class Matcher:
    """Serves each recorded interaction at most once to the requests that match it.

    Not thread-safe: the transport holds a lock around every call.
    """

    def __init__(self, interactions: Iterable[Interaction], mode: MatchMode = "strict") -> None:
        """Start with every interaction unused.

        Args:
            interactions: The recorded interactions, in recorded order.
            mode: ``"strict"`` or ``"lenient"`` (see the module docstring).

        Raises:
            ValueError: If ``mode`` is not a match mode.
        """
        if mode not in MATCH_MODES:
            raise ValueError(f"match must be 'strict' or 'lenient', not {mode!r}")
        self.mode: MatchMode = mode
        self._recorded = [_Recorded(interaction) for interaction in interactions]
        self._served = [False] * len(self._recorded)

    def add_served(self, interaction: Interaction) -> None:
        """Append an interaction that is already used (record mode stores what it served).

        Args:
            interaction: The freshly recorded interaction.
        """
        self._recorded.append(_Recorded(interaction))
        self._served.append(True)

    def serve(self, sent: SentRequest) -> Interaction | None:
        """Mark the interaction that answers ``sent`` as used and return it.

        Args:
            sent: The request.

        Returns:
            The first unused matching interaction in recorded order, or ``None``. In
            lenient mode only the first unused interaction can match, whatever the body.
        """
        if self.mode == "lenient":
            index = self._next_unused()
            if index is None or not self._same_target(index, sent):
                return None
            self._served[index] = True
            return self._recorded[index].interaction
        for index, recorded in enumerate(self._recorded):
            if self._served[index] or recorded.method != sent.method or recorded.url != sent.url:
                continue
            if _bodies_match(recorded.body, sent.body):
                self._served[index] = True
                return recorded.interaction
        return None

    def _next_unused(self) -> int | None:
        return next((index for index, served in enumerate(self._served) if not served), None)

    def _same_target(self, index: int, sent: SentRequest) -> bool:
        recorded = self._recorded[index]
        return recorded.method == sent.method and recorded.url == sent.url

    def unused(self) -> list[Interaction]:
        """The interactions not served yet, in recorded order."""
        return [r.interaction for r, served in zip(self._recorded, self._served, strict=True) if not served]

    def describe_unmatched(self, sent: SentRequest) -> str:
        """Explain why no interaction answered ``sent`` (for the error message).

        Args:
            sent: The request that matched nothing.

        Returns:
            A multi-line message: the request, then the closest candidate and its body
            differences, or the interactions still unused.
        """
        if self.mode == "lenient":
            return self._describe_out_of_order(sent)
        lines = [f"no recorded interaction matches {sent.method} {sent.url_text}"]
        same_target = [index for index in range(len(self._recorded)) if self._same_target(index, sent)]
        already = [
            i for i in same_target if self._served[i] and _bodies_match(self._recorded[i].body, sent.body)
        ]
        if already:
            ids = ", ".join(str(self._recorded[i].interaction.id) for i in already)
            lines.append(
                f"  an equal request was already answered by interaction(s) {ids}; "
                "each interaction is served at most once"
            )
        candidates = [i for i in same_target if not self._served[i]]
        if candidates:
            scored = [(len(_body_diffs(self._recorded[i].body, sent.body)), i) for i in candidates]
            _, best = min(scored)
            recorded = self._recorded[best]
            diffs = _body_diffs(recorded.body, sent.body)
            lines.append(f"  closest unused candidate: interaction {recorded.interaction.id}; body differs:")
            lines.extend(f"    {d}" for d in diffs[:8])
            if len(diffs) > 8:
                lines.append(f"    ... and {len(diffs) - 8} more difference(s)")
        else:
            unused = self.unused()
            if unused:
                lines.append("  no unused interaction has this method and URL; unused interactions:")
                lines.extend(f"    {i.id}: {i.method} {i.url}" for i in unused[:10])
            else:
                lines.append("  every recorded interaction has already been used")
        lines.extend(_body_line(sent))
        return "\n".join(lines)

    def _describe_out_of_order(self, sent: SentRequest) -> str:
        lines = [f"no recorded interaction matches {sent.method} {sent.url_text}"]
        index = self._next_unused()
        if index is None:
            lines.append("  every recorded interaction has already been used")
            return "\n".join(lines)
        expected = self._recorded[index].interaction
        lines.append(
            "  lenient matching serves interactions in recorded order (bodies are not compared); "
            f"the next is interaction {expected.id}: {expected.method} {expected.url}"
        )
        later = next(
            (
                i
                for i in range(index + 1, len(self._recorded))
                if not self._served[i] and self._same_target(i, sent)
            ),
            None,
        )
        if later is not None:
            lines.append(
                f"  this request matches interaction {self._recorded[later].interaction.id}, "
                f"which would skip interaction {expected.id}"
            )
        return "\n".join(lines)


def _body_line(sent: SentRequest) -> list[str]:
    body = sent.body.text
    if not body:
        return []
    return [f"  request body: {body if len(body) <= _REPR_LIMIT else body[: _REPR_LIMIT - 3] + '...'}"]

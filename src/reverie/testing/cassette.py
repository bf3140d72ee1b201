r"""Replay and record go-vcr v2 YAML cassettes through an httpx2 transport.

:class:`Cassette` is an ``httpx2`` transport (sync and async) that answers requests from a
recorded conversation instead of the network, or records a real conversation into a file.

What it does:

* Replay (the default) follows the strict rules of the conformance suite. A request matches
  a recorded interaction when the method is equal, the full URL string is equal (scheme,
  host, path and query) and the bodies are equal after line-ending normalisation (``\r\n``
  becomes ``\n``, and so does the escaped form inside JSON strings). Bodies whose
  normalised texts differ are compared as JSON values: object key order is ignored, array
  order is not, numbers compare by value (``1`` equals ``1.0``), booleans never equal
  numbers and strings compare exactly. Each interaction is served at most once; a request
  gets the first unused match in recorded order. A request that matches nothing raises
  :class:`CassetteError`, and is remembered so that :meth:`Cassette.assert_all_used` (and
  closing the cassette) fails too even if the caller swallowed the exception.
* Replayed responses carry the recorded status code, headers and body. The body is handed
  out as a stream of ``chunk_size``-byte pieces (7 by default), so chunk boundaries fall
  inside SSE lines and inside multi-byte UTF-8 characters.
* Record mode forwards every request to a real transport, stores it, and writes a go-vcr v2
  YAML file on :meth:`Cassette.save` / close. Credentials are scrubbed: only the
  ``Accept``, ``Content-Type`` and ``User-Agent`` request headers and the ``Content-Type``
  response header are kept (never ``Authorization``, ``x-api-key`` or ``x-goog-api-key``),
  and ``key=`` query parameters are removed from stored URLs.

What it does not do:

* Request headers are never compared, and recorded fields such as ``proto``,
  ``content_length``, ``uncompressed``, ``form`` and ``duration`` are informational only.
* ``key=`` query parameters are credentials, not request semantics: they are ignored on
  both sides when URLs are compared, so a request that carries an API key in its query
  string replays against a scrubbed recording.
* Record mode buffers each real response completely before returning it (the recorded
  body is stored decoded, so ``Content-Encoding``/``Content-Length`` are dropped); it does
  not simulate streaming timing. Replay never touches the network.

PyYAML (the ``testing`` extra) is imported on first load/save, not at import time, so the
pytest plugin that imports this module stays harmless where PyYAML is not installed.
"""

from __future__ import annotations

import functools
import json
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, cast

import httpx2

if TYPE_CHECKING:
    import yaml

__all__ = ["Cassette", "CassetteError", "Interaction"]

_STORED_REQUEST_HEADERS = ("Accept", "Content-Type", "User-Agent")
_STORED_RESPONSE_HEADERS = ("Content-Type",)
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key"})
# Recorded bodies are stored decoded, so these headers would lie about the replayed bytes.
_DROPPED_REPLAY_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})
_DIFF_LIMIT = 50
_REPR_LIMIT = 80
_NOT_JSON = object()


class CassetteError(AssertionError):
    """A cassette could not serve a request, was left partly unused, or could not be read.

    The message always names the cassette file and what went wrong.
    """


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair of a cassette.

    Attributes:
        id: The interaction id from the file (its position in recorded order).
        method: HTTP method, e.g. ``"POST"``.
        url: Full URL string as recorded (scheme, host, path and query).
        request_body: Request body text.
        request_headers: Recorded request headers, ``{name: [values]}``.
        status_code: Response status code.
        response_headers: Recorded response headers, ``{name: [values]}``.
        response_body: Response body text.
    """

    id: int
    method: str
    url: str
    request_body: str
    request_headers: dict[str, list[str]]
    status_code: int
    response_headers: dict[str, list[str]]
    response_body: str


class _ChunkedStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body handed out in fixed-size pieces, for sync and async clients."""

    def __init__(self, data: bytes, chunk_size: int | None) -> None:
        self._data = data
        self._chunk_size = chunk_size

    def _chunks(self) -> Iterator[bytes]:
        if not self._data:
            return
        step = self._chunk_size or len(self._data)
        for start in range(0, len(self._data), step):
            yield self._data[start : start + step]

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk


# --------------------------------------------------------------------------- matching


def _normalise(text: str) -> str:
    """Normalise line endings, both raw and escaped inside JSON strings."""
    return text.replace("\r\n", "\n").replace("\\r\\n", "\\n")


def _parse_json(text: str) -> object:
    try:
        return cast(object, json.loads(text))
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


def _strip_key_param(url: str) -> str:
    """Remove ``key=`` query parameters (API keys) from a URL string."""
    base, sep, rest = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = rest.partition("#")
    kept = [part for part in query.split("&") if part.split("=", 1)[0].lower() != "key"]
    result = base + ("?" + "&".join(kept) if kept else "")
    return result + hash_sep + fragment


class _Recorded:
    """An interaction plus precomputed matching keys."""

    def __init__(self, interaction: Interaction) -> None:
        self.interaction = interaction
        self.method = interaction.method.upper()
        self.url = _strip_key_param(interaction.url)
        self.body = _normalise(interaction.request_body)
        self._parsed: object = None
        self._parsed_done = False

    @property
    def parsed(self) -> object:
        if not self._parsed_done:
            self._parsed = _parse_json(self.body)
            self._parsed_done = True
        return self._parsed


class _Sent:
    """An incoming request reduced to its matching keys."""

    def __init__(self, request: httpx2.Request) -> None:
        self.method = request.method.upper()
        self.url_text = str(request.url)
        self.url = _strip_key_param(self.url_text)
        self.body = _normalise(request.content.decode("utf-8", errors="replace"))
        self._parsed: object = None
        self._parsed_done = False

    @property
    def parsed(self) -> object:
        if not self._parsed_done:
            self._parsed = _parse_json(self.body)
            self._parsed_done = True
        return self._parsed


def _bodies_match(recorded: _Recorded, sent: _Sent) -> bool:
    if recorded.body == sent.body:
        return True
    a, b = recorded.parsed, sent.parsed
    if a is _NOT_JSON or b is _NOT_JSON:
        return False
    return _json_equal(a, b)


def _body_diffs(recorded: _Recorded, sent: _Sent) -> list[str]:
    a, b = recorded.parsed, sent.parsed
    if a is _NOT_JSON or b is _NOT_JSON:
        return [_text_diff(recorded.body, sent.body)]
    out: list[str] = []
    _json_diffs(a, b, "$", out)
    return out


# --------------------------------------------------------------------------- YAML I/O


def _str_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in cast("list[object]", value)]
    return [str(value)]


def _headers(value: object) -> dict[str, list[str]]:
    if not isinstance(value, dict):
        return {}
    return {str(k): _str_list(v) for k, v in cast("dict[object, object]", value).items()}


def _mapping(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not a mapping")
    return cast("dict[str, Any]", value)


def _parse_interaction(raw: object, index: int) -> Interaction:
    entry = _mapping(raw, f"interaction #{index}")
    request = _mapping(entry.get("request"), f"interaction #{index}: request")
    response = _mapping(entry.get("response"), f"interaction #{index}: response")
    raw_id = entry.get("id", index)
    code = response.get("code")
    if code is None:
        status = str(response.get("status", ""))
        code = status.split(" ", 1)[0]
    return Interaction(
        id=int(raw_id),
        method=str(request.get("method") or "GET"),
        url=str(request.get("url") or ""),
        request_body=str(request.get("body") or ""),
        request_headers=_headers(request.get("headers")),
        status_code=int(code),
        response_headers=_headers(response.get("headers")),
        response_body=str(response.get("body") or ""),
    )


def _import_yaml() -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "reverie cassettes need PyYAML; install it with: pip install 'reverie[testing]'"
        ) from exc
    return yaml


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)  # pyright: ignore[reportUnknownMemberType]


@functools.cache
def _yaml_io() -> tuple[type[yaml.SafeLoader], type[yaml.SafeDumper]]:
    """Import PyYAML on first use; prefer the libyaml-based (C) loader and dumper."""
    module = _import_yaml()
    loader = cast("type[yaml.SafeLoader]", getattr(module, "CSafeLoader", module.SafeLoader))
    dumper_base = cast("type[yaml.SafeDumper]", getattr(module, "CSafeDumper", module.SafeDumper))

    class _Dumper(dumper_base):
        """Safe dumper that writes multi-line strings as literal blocks where YAML allows it."""

    _Dumper.add_representer(str, _represent_str)
    return loader, _Dumper


def _load_interactions(path: Path) -> list[Interaction]:
    loader, _ = _yaml_io()
    yaml_error = cast("type[Exception]", _import_yaml().YAMLError)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(f"cassette {path}: cannot read the file ({exc})") from exc
    try:
        document: object = _import_yaml().load(text, Loader=loader)
        top = _mapping(document, "the document")
        raw_interactions: object = top.get("interactions") or []
        if not isinstance(raw_interactions, list):
            raise ValueError("'interactions' is not a list")
        return [
            _parse_interaction(raw, index) for index, raw in enumerate(cast("list[object]", raw_interactions))
        ]
    except (yaml_error, ValueError, TypeError) as exc:
        raise CassetteError(f"cassette {path}: not a go-vcr v2 cassette ({exc})") from exc


def _format_duration(seconds: float) -> str:
    """Format a duration the way Go's ``time.Duration.String`` roughly does."""
    if seconds <= 0 or not math.isfinite(seconds):
        return "0s"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3f}".rstrip("0").rstrip(".") + "µs"
    if seconds < 1:
        return f"{seconds * 1e3:.6f}".rstrip("0").rstrip(".") + "ms"
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"


def _proto(version: str) -> tuple[str, int, int]:
    name = version.upper() if version else "HTTP/1.1"
    if name in {"HTTP/2", "HTTP/2.0"}:
        return "HTTP/2.0", 2, 0
    if name in {"HTTP/3", "HTTP/3.0"}:
        return "HTTP/3.0", 3, 0
    if name == "HTTP/1.0":
        return "HTTP/1.0", 1, 0
    return "HTTP/1.1", 1, 1


def _status_text(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _pick_headers(headers: httpx2.Headers, names: tuple[str, ...]) -> dict[str, list[str]]:
    picked: dict[str, list[str]] = {}
    for name in names:
        if name.lower() in _SECRET_HEADERS:
            continue
        values = headers.get_list(name)
        if values:
            picked[name] = list(values)
    return picked


# --------------------------------------------------------------------------- the transport


class Cassette(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """An httpx2 transport that replays (or records) a go-vcr v2 YAML cassette.

    Use it as ``httpx2.Client(transport=cassette)`` or ``httpx2.AsyncClient(transport=cassette)``.

    Attributes:
        path: The cassette file.
        mode: ``"replay"`` or ``"record"``.
        chunk_size: Size of the pieces replayed response bodies are streamed in (``None``: whole body).
        interactions: The interactions, parsed from the file (replay) or recorded so far (record).
        used: Ids of the interactions served, in the order they were served.
        requests: Every request the transport saw, matched or not.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: Literal["replay", "record"] = "replay",
        real_transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport | None = None,
        chunk_size: int | None = 7,
    ) -> None:
        """Open a cassette.

        Args:
            path: The YAML file to replay from or record to.
            mode: ``"replay"`` loads the file now and serves requests from it; ``"record"``
                starts empty, forwards requests to ``real_transport`` and writes the file on
                :meth:`save`/:meth:`close`.
            real_transport: Record mode only: the transport that really sends requests.
                Defaults to ``httpx2.HTTPTransport()`` / ``httpx2.AsyncHTTPTransport()``
                created on first use. It is closed together with the cassette.
            chunk_size: Replay mode: response bodies are streamed in pieces of this many
                bytes (default 7, so boundaries fall inside SSE lines and UTF-8 characters);
                ``None`` hands out each body in one piece.

        Raises:
            ValueError: If ``mode`` or ``chunk_size`` is invalid.
            CassetteError: In replay mode, if the file cannot be read or parsed.
        """
        if mode not in ("replay", "record"):
            raise ValueError(f"mode must be 'replay' or 'record', not {mode!r}")
        if chunk_size is not None and chunk_size <= 0:
            raise ValueError(f"chunk_size must be a positive integer or None, not {chunk_size!r}")
        self.path = Path(path)
        self.mode: Literal["replay", "record"] = mode
        self.chunk_size = chunk_size
        self.used: list[int] = []
        self.requests: list[httpx2.Request] = []
        self._lock = threading.Lock()
        self._unmatched: list[str] = []
        self._unmatched_reported = 0
        self._durations: dict[int, float] = {}
        self._protos: dict[int, str] = {}
        self._real = real_transport
        self._own_sync: httpx2.HTTPTransport | None = None
        self._own_async: httpx2.AsyncHTTPTransport | None = None
        if mode == "replay":
            self.interactions: list[Interaction] = _load_interactions(self.path)
        else:
            self.interactions = []
        self._recorded = [_Recorded(i) for i in self.interactions]
        self._served = [False] * len(self.interactions)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, chunk_size: int | None = 7) -> Cassette:
        """Load a cassette for replay.

        Args:
            path: The YAML file.
            chunk_size: See :class:`Cassette`.

        Returns:
            The cassette in replay mode.
        """
        return cls(path, mode="replay", chunk_size=chunk_size)

    def __repr__(self) -> str:
        """Return a short description of the cassette."""
        return f"Cassette({str(self.path)!r}, mode={self.mode!r}, interactions={len(self.interactions)})"

    # ------------------------------------------------------------------ replay

    def _error(self, what: str) -> CassetteError:
        return CassetteError(f"cassette {self.path}: {what}")

    def _replay(self, request: httpx2.Request) -> httpx2.Response:
        sent = _Sent(request)
        with self._lock:
            self.requests.append(request)
            for index, recorded in enumerate(self._recorded):
                if self._served[index] or recorded.method != sent.method or recorded.url != sent.url:
                    continue
                if _bodies_match(recorded, sent):
                    self._served[index] = True
                    self.used.append(recorded.interaction.id)
                    return self._response(recorded.interaction, request)
            message = self._describe_unmatched(sent)
            self._unmatched.append(message)
        raise self._error(message)

    def _response(self, interaction: Interaction, request: httpx2.Request) -> httpx2.Response:
        headers = [
            (name, value)
            for name, values in interaction.response_headers.items()
            if name.lower() not in _DROPPED_REPLAY_HEADERS
            for value in values
        ]
        stream = _ChunkedStream(interaction.response_body.encode("utf-8"), self.chunk_size)
        return httpx2.Response(interaction.status_code, headers=headers, stream=stream, request=request)

    def _describe_unmatched(self, sent: _Sent) -> str:
        lines = [f"no recorded interaction matches {sent.method} {sent.url_text}"]
        same_target = [
            index
            for index, recorded in enumerate(self._recorded)
            if recorded.method == sent.method and recorded.url == sent.url
        ]
        already = [i for i in same_target if self._served[i] and _bodies_match(self._recorded[i], sent)]
        if already:
            ids = ", ".join(str(self._recorded[i].interaction.id) for i in already)
            lines.append(
                f"  an equal request was already answered by interaction(s) {ids}; "
                "each interaction is served at most once"
            )
        candidates = [i for i in same_target if not self._served[i]]
        if candidates:
            scored = [(len(_body_diffs(self._recorded[i], sent)), i) for i in candidates]
            _, best = min(scored)
            recorded = self._recorded[best]
            diffs = _body_diffs(recorded, sent)
            lines.append(f"  closest unused candidate: interaction {recorded.interaction.id}; body differs:")
            lines.extend(f"    {d}" for d in diffs[:8])
            if len(diffs) > 8:
                lines.append(f"    ... and {len(diffs) - 8} more difference(s)")
        else:
            unused = [r.interaction for i, r in enumerate(self._recorded) if not self._served[i]]
            if unused:
                lines.append("  no unused interaction has this method and URL; unused interactions:")
                lines.extend(f"    {i.id}: {i.method} {i.url}" for i in unused[:10])
            else:
                lines.append("  every recorded interaction has already been used")
        if sent.body:
            body = sent.body if len(sent.body) <= _REPR_LIMIT else sent.body[: _REPR_LIMIT - 3] + "..."
            lines.append(f"  request body: {body}")
        return "\n".join(lines)

    def assert_all_used(self) -> None:
        """Check that every interaction was served and no request went unmatched.

        Raises:
            CassetteError: Listing the requests that matched nothing and the ids and URLs of
                the interactions that were never served.
        """
        with self._lock:
            problems: list[str] = []
            if self._unmatched:
                problems.append(f"{len(self._unmatched)} request(s) matched no recorded interaction:")
                problems.extend("  " + m.replace("\n", "\n  ") for m in self._unmatched)
            unused = [r.interaction for i, r in enumerate(self._recorded) if not self._served[i]]
            if unused:
                problems.append(f"{len(unused)} recorded interaction(s) were never used:")
                problems.extend(f"  {i.id}: {i.method} {i.url}" for i in unused)
        if problems:
            raise self._error("\n".join(problems))

    # ------------------------------------------------------------------ record

    def _store(self, request: httpx2.Request, response: httpx2.Response, elapsed: float) -> httpx2.Response:
        body = response.content
        with self._lock:
            interaction = Interaction(
                id=len(self.interactions),
                method=request.method.upper(),
                url=_strip_key_param(str(request.url)),
                request_body=request.content.decode("utf-8", errors="replace"),
                request_headers=_pick_headers(request.headers, _STORED_REQUEST_HEADERS),
                status_code=response.status_code,
                response_headers=_pick_headers(response.headers, _STORED_RESPONSE_HEADERS),
                response_body=body.decode("utf-8", errors="replace"),
            )
            self.interactions.append(interaction)
            self._recorded.append(_Recorded(interaction))
            self._served.append(True)
            self.used.append(interaction.id)
            self._durations[interaction.id] = elapsed
            self._protos[interaction.id] = response.http_version
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in _DROPPED_REPLAY_HEADERS
        ]
        return httpx2.Response(
            response.status_code,
            headers=headers,
            stream=_ChunkedStream(body, None),
            request=request,
            extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")},
        )

    def _sync_real(self) -> httpx2.BaseTransport:
        if self._real is None:
            if self._own_sync is None:
                self._own_sync = httpx2.HTTPTransport()
            return self._own_sync
        if not isinstance(self._real, httpx2.BaseTransport):
            raise TypeError("the real transport of this cassette is async-only; use an httpx2.AsyncClient")
        return self._real

    def _async_real(self) -> httpx2.AsyncBaseTransport:
        if self._real is None:
            if self._own_async is None:
                self._own_async = httpx2.AsyncHTTPTransport()
            return self._own_async
        if not isinstance(self._real, httpx2.AsyncBaseTransport):
            raise TypeError("the real transport of this cassette is sync-only; use an httpx2.Client")
        return self._real

    # ------------------------------------------------------------------ transport API

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Serve a request from the cassette (replay) or the real transport (record).

        Args:
            request: The request.

        Returns:
            The recorded (or freshly recorded) response; replayed bodies stream in chunks.

        Raises:
            CassetteError: In replay mode, if no unused interaction matches the request.
        """
        request.read()
        if self.mode == "replay":
            return self._replay(request)
        with self._lock:
            self.requests.append(request)
        started = time.perf_counter()
        response = self._sync_real().handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return self._store(request, response, time.perf_counter() - started)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Serve a request from the cassette (replay) or the real transport (record).

        Args:
            request: The request.

        Returns:
            The recorded (or freshly recorded) response; replayed bodies stream in chunks.

        Raises:
            CassetteError: In replay mode, if no unused interaction matches the request.
        """
        await request.aread()
        if self.mode == "replay":
            return self._replay(request)
        with self._lock:
            self.requests.append(request)
        started = time.perf_counter()
        response = await self._async_real().handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return self._store(request, response, time.perf_counter() - started)

    # ------------------------------------------------------------------ saving and closing

    def _document(self) -> dict[str, object]:
        entries: list[dict[str, object]] = []
        for interaction in self.interactions:
            url = httpx2.URL(interaction.url) if interaction.url else None
            request_body = interaction.request_body
            response_body = interaction.response_body
            response_proto, response_major, response_minor = _proto(self._protos.get(interaction.id, ""))
            entries.append(
                {
                    "id": interaction.id,
                    "request": {
                        "proto": "HTTP/1.1",
                        "proto_major": 1,
                        "proto_minor": 1,
                        "content_length": len(request_body.encode("utf-8")),
                        "host": url.host if url is not None else "",
                        "body": request_body,
                        "headers": interaction.request_headers,
                        "url": interaction.url,
                        "method": interaction.method,
                    },
                    "response": {
                        "proto": response_proto,
                        "proto_major": response_major,
                        "proto_minor": response_minor,
                        "content_length": -1,
                        "body": response_body,
                        "headers": interaction.response_headers,
                        "status": _status_text(interaction.status_code),
                        "code": interaction.status_code,
                        "duration": _format_duration(self._durations.get(interaction.id, 0.0)),
                    },
                }
            )
        return {"version": 2, "interactions": entries}

    def save(self) -> None:
        """Write the recorded interactions to :attr:`path` as go-vcr v2 YAML.

        Raises:
            CassetteError: If the cassette is in replay mode (recordings are never rewritten).
        """
        if self.mode != "record":
            raise self._error("save() is only available in record mode")
        with self._lock:
            document = self._document()
        _, dumper = _yaml_io()
        text: str = _import_yaml().dump(
            document,
            Dumper=dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            explicit_start=True,
            width=1_000_000,
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.path)

    def _check_unmatched_on_close(self) -> None:
        with self._lock:
            fresh = self._unmatched[self._unmatched_reported :]
            self._unmatched_reported = len(self._unmatched)
        if fresh:
            raise self._error(
                f"{len(fresh)} request(s) matched no recorded interaction:\n"
                + "\n".join("  " + m.replace("\n", "\n  ") for m in fresh)
            )

    def close(self) -> None:
        """Close the cassette: record mode saves the file and closes the real transport.

        Raises:
            CassetteError: In replay mode, if requests went unmatched since the last close
                (so that a swallowed error still surfaces).
        """
        if self.mode == "record":
            self.save()
            self._close_real()
        else:
            self._check_unmatched_on_close()

    async def aclose(self) -> None:
        """Close the cassette from async code; see :meth:`close`.

        Raises:
            CassetteError: In replay mode, if requests went unmatched since the last close.
        """
        if self.mode == "record":
            self.save()
            await self._aclose_real()
        else:
            self._check_unmatched_on_close()

    def _close_real(self) -> None:
        for transport in (self._own_sync, self._real):
            if isinstance(transport, httpx2.BaseTransport):
                transport.close()

    async def _aclose_real(self) -> None:
        if self._own_async is not None:
            await self._own_async.aclose()
        if self._own_sync is not None:
            self._own_sync.close()
        if isinstance(self._real, httpx2.AsyncBaseTransport):
            await self._real.aclose()
        elif isinstance(self._real, httpx2.BaseTransport):
            self._real.close()

    def __enter__(self) -> Self:
        """Enter a ``with`` block.

        Returns:
            The cassette itself.
        """
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Leave a ``with`` block.

        On success, replay mode calls :meth:`assert_all_used` and record mode saves and closes
        the real transport. After an exception nothing is checked or saved (an existing
        recording is not overwritten by a failed run); record mode only closes the real
        transport. Note that an ``httpx2.Client`` used as a context manager forwards its own
        exit here.

        Raises:
            CassetteError: In replay mode, if the block succeeded but interactions were left
                unused or requests went unmatched.
        """
        if self.mode == "replay":
            if exc_type is None:
                self.assert_all_used()
        elif exc_type is None:
            self.close()
        else:
            self._close_real()

    async def __aenter__(self) -> Self:
        """Enter an ``async with`` block.

        Returns:
            The cassette itself.
        """
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Leave an ``async with`` block; same rules as :meth:`__exit__`.

        Raises:
            CassetteError: As for :meth:`__exit__`.
        """
        if self.mode == "replay":
            if exc_type is None:
                self.assert_all_used()
        elif exc_type is None:
            await self.aclose()
        else:
            await self._aclose_real()

"""The go-vcr v2 YAML cassette file: its interactions, loading, saving and credential scrubbing.

What it does:

* ``load_interactions`` reads a go-vcr v2 file into :class:`Interaction` records, taking the
  status code from ``code`` (or the start of ``status``) and header values as lists.
* ``save_interactions`` writes interactions back in the same shape, with the informational
  fields go-vcr writes (``proto``, ``content_length``, ``host``, ``status``, ``duration``);
  multi-line strings are written as literal blocks, and the file is replaced atomically.
* ``scrubbed_interaction`` turns a live request/response pair into an interaction that
  holds no credentials: only the ``Accept``, ``Content-Type`` and ``User-Agent`` request
  headers and the ``Content-Type`` response header are kept (never ``Authorization``,
  ``x-api-key`` or ``x-goog-api-key``), ``key=`` query parameters are removed from URLs, and
  every known secret (``reverie._secrets``: the keys of the providers in use, URL passwords,
  tokens) is replaced by ``***`` in the URL, the kept headers and both bodies.

What it does not do: decide which interaction answers a request (``matching``) or talk HTTP
(``transport``). PyYAML (the ``testing`` extra) is imported on first load or save, not at
import time; a ``.json`` file holding the same document (as the bundled demo recordings do)
loads without it. YAML aliases are refused beyond a small expansion (``MAX_ALIAS_EXPANSION``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import httpx2

from reverie import _json
from reverie._secrets import redact, redact_bytes

if TYPE_CHECKING:
    import yaml

__all__ = [
    "CassetteError",
    "Interaction",
    "load_interactions",
    "save_interactions",
    "scrubbed_interaction",
    "strip_key_param",
]

_STORED_REQUEST_HEADERS = ("Accept", "Content-Type", "User-Agent")
_STORED_RESPONSE_HEADERS = ("Content-Type",)
_SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key"})


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
        response_body: Response body text, or bytes for a binary body (a YAML ``!!binary``
            value, e.g. Bedrock's ``application/vnd.amazon.eventstream``).
    """

    id: int
    method: str
    url: str
    request_body: str
    request_headers: dict[str, list[str]]
    status_code: int
    response_headers: dict[str, list[str]]
    response_body: str | bytes


# --------------------------------------------------------------------------- scrubbing


def strip_key_param(url: str) -> str:
    """Remove ``key=`` query parameters (API keys) from a URL string.

    Args:
        url: A full URL string.

    Returns:
        The URL without its ``key=`` parameters (and without ``?`` if nothing is left).
    """
    base, sep, rest = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = rest.partition("#")
    kept = [part for part in query.split("&") if part.split("=", 1)[0].lower() != "key"]
    result = base + ("?" + "&".join(kept) if kept else "")
    return result + hash_sep + fragment


def _pick_headers(headers: httpx2.Headers, names: tuple[str, ...]) -> dict[str, list[str]]:
    picked: dict[str, list[str]] = {}
    for name in names:
        if name.lower() in _SECRET_HEADERS:
            continue
        values = headers.get_list(name)
        if values:
            picked[name] = [redact(value) for value in values]
    return picked


def scrubbed_interaction(
    interaction_id: int, request: httpx2.Request, response: httpx2.Response, body: bytes
) -> Interaction:
    """Build the interaction to store for a live exchange, without its credentials.

    Args:
        interaction_id: The id (position) of the new interaction.
        request: The request that was sent (its content already read).
        response: The response that came back.
        body: The response body, decoded of any ``Content-Encoding``.

    Returns:
        The interaction, with only the stored headers and no ``key=`` query parameters.
    """
    return Interaction(
        id=interaction_id,
        method=request.method.upper(),
        url=redact(strip_key_param(str(request.url))),
        request_body=redact(request.content.decode("utf-8", errors="replace")),
        request_headers=_pick_headers(request.headers, _STORED_REQUEST_HEADERS),
        status_code=response.status_code,
        response_headers=_pick_headers(response.headers, _STORED_RESPONSE_HEADERS),
        response_body=_text_or_bytes(body),
    )


def _text_or_bytes(body: bytes) -> str | bytes:
    # Binary bodies (the AWS event stream) are stored as they are: decoding would damage them.
    try:
        return redact(body.decode("utf-8"))
    except UnicodeDecodeError:
        return redact_bytes(body)


# --------------------------------------------------------------------------- loading


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
        response_body=_response_body(response.get("body")),
    )


def _response_body(value: object) -> str | bytes:
    return value if isinstance(value, bytes) else str(value or "")


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


def load_interactions(path: Path) -> list[Interaction]:
    """Read the interactions of a go-vcr v2 cassette file.

    Args:
        path: The YAML file.

    Returns:
        The interactions in recorded order.

    Raises:
        CassetteError: If the file cannot be read or is not a go-vcr v2 cassette.
        ImportError: If PyYAML is not installed (a ``.json`` file, the same document as JSON,
            needs no PyYAML).
    """
    as_json = path.suffix == ".json"
    unreadable: tuple[type[Exception], ...] = (ValueError, TypeError)
    if not as_json:
        unreadable = (*unreadable, cast("type[Exception]", _import_yaml().YAMLError))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(f"cassette {path}: cannot read the file ({exc})") from exc
    try:
        document = _json.loads(text) if as_json else _load_yaml(text, _yaml_io()[0])
        top = _mapping(document, "the document")
        raw_interactions: object = top.get("interactions") or []
        if not isinstance(raw_interactions, list):
            raise ValueError("'interactions' is not a list")
        return [
            _parse_interaction(raw, index) for index, raw in enumerate(cast("list[object]", raw_interactions))
        ]
    except RecursionError:
        raise CassetteError(f"cassette {path}: nested too deep to read") from None
    except unreadable as exc:
        raise CassetteError(f"cassette {path}: not a go-vcr v2 cassette ({exc})") from exc


MAX_ALIAS_EXPANSION = 10_000
"""How many nodes aliases may add to a cassette once expanded. go-vcr never writes aliases; the
bound stops a small file of nested aliases (a "billion laughs") from expanding to millions of
values while it is read."""


def _load_yaml(text: str, loader: type[yaml.SafeLoader]) -> object:
    """The YAML document in ``text``, refusing one whose aliases expand beyond the bound."""
    reader: Any = loader(text)  # the loader's stages are untyped in PyYAML's stubs
    try:
        node = reader.get_single_node()
        if node is None:
            return None
        _check_alias_expansion(node)
        return cast(object, reader.construct_document(node))
    finally:
        reader.dispose()


def _check_alias_expansion(root: yaml.Node) -> None:
    """Raise ``ValueError`` if ``root`` (a composed node graph) expands past the alias bound.

    Aliases make the graph share nodes; its expanded size counts a shared node once per use.
    Sizes are summed bottom-up, each distinct node once, so the check is linear in the file.
    """
    import yaml as yaml_module

    sizes: dict[int, int] = {}
    visiting: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node, yaml_module)
        if children_done:
            visiting.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] - len(sizes) > MAX_ALIAS_EXPANSION:
                raise ValueError(
                    f"YAML aliases expand to more than {MAX_ALIAS_EXPANSION} extra values; refused"
                )
            continue
        if key in visiting:
            raise ValueError("a YAML alias refers to a value that contains it; refused")
        visiting.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in sizes)


def _children(node: yaml.Node, yaml_module: Any) -> list[yaml.Node]:
    if isinstance(node, yaml_module.SequenceNode):
        return list(cast("list[yaml.Node]", node.value))
    if isinstance(node, yaml_module.MappingNode):
        pairs = cast("list[tuple[yaml.Node, yaml.Node]]", node.value)
        return [part for pair in pairs for part in pair]
    return []


# --------------------------------------------------------------------------- saving


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


def _document(
    interactions: Sequence[Interaction], durations: Mapping[int, float], protocols: Mapping[int, str]
) -> dict[str, object]:
    entries: list[dict[str, object]] = []
    for interaction in interactions:
        url = httpx2.URL(interaction.url) if interaction.url else None
        request_body = interaction.request_body
        response_body = interaction.response_body
        response_proto, response_major, response_minor = _proto(protocols.get(interaction.id, ""))
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
                    "duration": _format_duration(durations.get(interaction.id, 0.0)),
                },
            }
        )
    return {"version": 2, "interactions": entries}


def save_interactions(
    path: Path,
    interactions: Sequence[Interaction],
    *,
    durations: Mapping[int, float],
    protocols: Mapping[int, str],
) -> None:
    """Write interactions to a go-vcr v2 cassette file, replacing it atomically.

    Args:
        path: The YAML file; missing parent directories are created.
        interactions: The interactions, in recorded order.
        durations: Seconds each interaction took, by id (written as go-vcr's ``duration``).
        protocols: The HTTP version of each response, by id (e.g. ``"HTTP/2"``).

    Raises:
        ImportError: If PyYAML is not installed.
    """
    _, dumper = _yaml_io()
    text: str = _import_yaml().dump(
        _document(interactions, durations, protocols),
        Dumper=dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        explicit_start=True,
        width=1_000_000,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)

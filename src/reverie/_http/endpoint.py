"""Where one request goes: an absolute URL (query string included) and its headers.

A provider resolves an ``Endpoint`` per model and per request (``Provider.endpoint``), so a
cloud platform's deployment URLs (``/openai/deployments/<name>/chat/completions``), its
``?api-version=`` query or per-request headers are configuration rather than special cases
in the engine. Credentials are not part of an endpoint: they are added when the request is
sent, by the provider's ``httpx2.Auth`` (``reverie._http.auth``).

This module builds and parses URLs only; it sends nothing.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import httpx2

from reverie._record import Record


@dataclass(slots=True, repr=False, eq=False)
class Endpoint(Record):
    """The URL and headers of one request (credentials excluded).

    Treated as immutable; not frozen because a frozen dataclass costs two more generated
    methods at import.
    """

    url: str
    """Absolute, with any query string, exactly as it is sent."""
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    """Lower-cased names. The codec's and the call's own headers are laid over these."""


def join_url(base_url: str, path: str, query: Mapping[str, str] | None = None) -> str:
    """``base_url + path``, plus ``query`` appended with ``?`` or ``&`` as the URL requires.

    The join is plain concatenation, as the recorded requests were made, so a URL is
    byte-identical to what the codec's path spells (``:streamGenerateContent?alt=sse``).
    """
    url = base_url + path
    if query:
        url += ("&" if "?" in url else "?") + urlencode(query)
    return url


@functools.lru_cache(maxsize=256)
def parse_url(url: str) -> httpx2.URL:
    """``url`` parsed by httpx2, once: endpoint URLs are few and fixed per model."""
    return httpx2.URL(url)


_MAX_MERGED = 64
"""Merged header sets kept per client (a client sends few distinct ones: one per model)."""
_merged: weakref.WeakKeyDictionary[
    httpx2.Client | httpx2.AsyncClient,
    dict[tuple[tuple[tuple[bytes, bytes], ...], tuple[tuple[str, str], ...]], httpx2.Headers],
] = weakref.WeakKeyDictionary()
"""Per client, while it lives: the merges made for it. Header values can be credentials (a
provider's key header), so they are kept no longer than the client that sends them."""


def merged_headers(
    client: httpx2.Client | httpx2.AsyncClient, request_headers: Mapping[str, str]
) -> httpx2.Headers:
    """``client.headers`` updated with ``request_headers``, as httpx2 merges them, made once per pair.

    httpx2 builds this for every request (copying both layers and removing each name the
    request sets again). The result is shared: the caller must not change it (an
    ``httpx2.Request`` copies the headers it is given).
    """
    client_headers = client.headers
    key = (tuple(client_headers.raw), tuple(request_headers.items()))
    kept = _merged.get(client)
    if kept is None:
        kept = _merged[client] = {}
    merged = kept.get(key)
    if merged is None:
        merged = httpx2.Headers(client_headers)
        merged.update(request_headers)
        if len(kept) >= _MAX_MERGED:
            kept.clear()
        kept[key] = merged
    return merged

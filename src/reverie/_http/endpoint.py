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

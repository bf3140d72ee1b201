"""The ``reverie`` logger: silent unless the application configures logging.

DEBUG records each request (method and URL, credentials masked), each retry and its delay;
INFO records each rate-limit wait longer than a second (``reverie.RateLimiter``); WARNING
records call warnings (a setting or schema feature the provider ignored, also in
``step.warnings``). A ``NullHandler`` keeps the logger quiet by default, as a library's should.
This module is imported by the code that logs, not by ``import reverie``.
"""

from __future__ import annotations

import functools
import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

logger = logging.getLogger("reverie")
logger.addHandler(logging.NullHandler())


@functools.cache
def _secret_parameter() -> re.Pattern[str]:
    """A query parameter name that may carry a secret (compiled on first use, not on import)."""
    return re.compile(r"key|token|secret|signature|sig|password|credential", re.IGNORECASE)


MASK = "***"


def safe_url(url: str) -> str:
    """``url`` for a log line: a password in it and query values that look secret masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        user = credentials.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}" if ":" in credentials else f"{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode(
            [(name, MASK if _secret_parameter().search(name) else value) for name, value in pairs], safe="*"
        )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def with_masked_credentials(url: str, user: str) -> str:
    """``url`` shown as it was configured, ``user:***@`` before its host (the password masked).

    Providers take credentials out of their base URL before sending; a log line still says
    which user the request was sent as.
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url
    return f"{scheme}://{user}:{MASK}@{rest}"

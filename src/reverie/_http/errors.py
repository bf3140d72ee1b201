"""The one map from httpx2's exceptions to reverie's errors (as httpx2 maps httpcore's).

    httpx2.HTTPError
    ├── RequestError
    │   ├── TransportError     timeouts, network and protocol errors  -> ProviderError, retryable
    │   │   ├── (caused by EMFILE/ENFILE) no file descriptor left      -> TooManyOpenFilesError, not retryable
    │   │   └── LocalProtocolError a request the client cannot send    -> ProviderError, not retryable
    │   ├── DecodingError      a corrupt gzip/deflate/brotli/zstd body -> ProviderError, retryable
    │   └── TooManyRedirects                                          -> ProviderError
    └── HTTPStatusError        (from raise_for_status)                -> ProviderError with the status

The engine catches ``httpx2.HTTPError`` wherever it touches httpx2 (sending, reading a body,
reading a stream) and raises what ``http_error`` returns, chained to the original. This module
does not see non-2xx answers (the codec's ``parse_error`` reads those) or unreadable JSON
(``InvalidResponseError``, raised by the engine).
"""

from __future__ import annotations

import errno
from typing import cast

import httpx2

from reverie._errors import ProviderError, TooManyOpenFilesError

_OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE})


def http_error(error: httpx2.HTTPError, *, url: str, request_body: bytes, during: str) -> ProviderError:
    """The reverie error for an httpx2 exception raised ``during`` an exchange with ``url``.

    Args:
        error: What httpx2 raised.
        url: The request's URL, kept on the error.
        request_body: The request's body, kept on the error as text.
        during: What the engine was doing, e.g. ``"while reading the stream"``.
    """
    exhausted = out_of_descriptors(error)
    if exhausted is not None:
        return TooManyOpenFilesError(
            errno=exhausted,
            open_files_limit=open_files_limit() if exhausted == errno.EMFILE else None,
            url=url,
            request_body=request_body.decode("utf-8", errors="replace"),
            during=during,
        )
    detail = str(error) or type(error).__name__
    status_code: int | None = None
    retryable: bool | None
    if isinstance(error, httpx2.LocalProtocolError):
        # We could not send the request as built (a header the client refuses): the same
        # request fails the same way, so retrying only repeats it.
        retryable = False
    elif isinstance(error, httpx2.TransportError):
        # A refused connection, a timeout, a reset mid-body: the same request may succeed.
        retryable = True
    elif isinstance(error, httpx2.DecodingError):
        # The body declared a content-encoding its bytes do not follow. gzip carries a CRC and
        # a length, so this means bytes damaged or cut on the way (often by a proxy), the same
        # failure as a connection reset mid-body: retryable, as a broken connection is. It is
        # not an InvalidResponseError, which says the provider sent readable bytes of a shape
        # we cannot use (retrying would get the same shape). A server that always sends a
        # broken body runs out of retries and ends in a RetryError that shows this cause.
        retryable = True
    elif isinstance(error, httpx2.HTTPStatusError):
        status_code = error.response.status_code
        retryable = None  # decided by the status code, as for any error answer
    else:
        # TooManyRedirects and any future kind: nothing suggests that trying again helps.
        retryable = False
    return ProviderError(
        f"{type(error).__name__} {during}: {detail}",
        status_code=status_code,
        url=url,
        request_body=request_body.decode("utf-8", errors="replace"),
        retryable=retryable,
    )


def out_of_descriptors(error: BaseException) -> int | None:
    """``EMFILE`` or ``ENFILE`` if an ``OSError`` saying so caused ``error``, else ``None``.

    httpx2 wraps the ``OSError`` of a socket that cannot be opened in its own ``ConnectError``
    (chained through httpcore2's); under anyio it is the cause of "All connection attempts
    failed", or one of an exception group's errors when several addresses were tried.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _OUT_OF_DESCRIPTORS:
            return current.errno
        if isinstance(current, BaseExceptionGroup):
            pending.extend(cast("BaseExceptionGroup[BaseException]", current).exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return None


def open_files_limit() -> int | None:
    """The process's soft limit on open files, where the platform has ``resource`` (not Windows)."""
    try:
        import resource  # only when the limit was hit: a Unix module
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft

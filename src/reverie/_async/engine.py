"""The only code that talks HTTP: post a prepared request, read JSON or an event stream.

This is the async source; ``reverie/_sync/engine.py`` is generated from it by
``scripts/unasync.py``. Every ``httpx2.HTTPError`` it meets (sending, reading a body,
reading a stream) goes through the one map in ``reverie._http.errors``; non-2xx answers
go through the codec's ``parse_error``; unreadable bodies become ``InvalidResponseError``.
A stream that fails after the provider reported usage hands that usage on with the error
(``reported_usage``, from the decoder's optional ``reported_usage``): the attempt is billed.

A request with a ``rate_limiter`` first waits on it (a concurrency slot, then the timed
waits its ``Admission`` names; a stream yields a ``rate_limit_wait`` part for a wait over a
second), holds its slot until the answer is read to the end or closed, and reports the
status, headers and usage back. Requests without one take the unlimited path unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx2

from reverie import _clock, _json
from reverie._codec import Codec, PreparedRequest, stream_framing
from reverie._content import Usage
from reverie._errors import InvalidResponseError, ProviderError, ReverieError
from reverie._http.endpoint import merged_headers, parse_url
from reverie._http.errors import http_error
from reverie._model import Response
from reverie._parts import FinishPart, ModelStreamPart, RateLimitWaitPart, StreamStartPart

if TYPE_CHECKING:
    # Loaded with the first request that has a limiter: most have none.
    from reverie._rate_limiter import Admission, RateLimiter


async def generate(client: httpx2.AsyncClient, codec: Codec, request: PreparedRequest) -> Response:
    """Send ``request`` and parse the JSON answer into a ``Response``."""
    limiter = request.rate_limiter
    if limiter is None:
        return await _generate(client, codec, request, None)
    from reverie import _rate_limiter

    admission = _admission(limiter, request)
    try:
        await _take_slot(admission)
        while (seconds := admission.next_wait()) > 0:
            await _rate_limiter.async_sleep(seconds)
        result = await _generate(client, codec, _after_waiting(request, admission), admission)
        admission.used(result.usage)
        return result
    finally:
        admission.release()


async def _generate(
    client: httpx2.AsyncClient, codec: Codec, request: PreparedRequest, admission: Admission | None
) -> Response:
    ends = _ends(request)
    response = await _send(client, request, admission)
    try:
        body = await _read_body(response, request, ends)
    finally:
        await response.aclose()
    if not response.is_success:
        raise _status_error(codec, response, body, request)
    try:
        result = codec.parse_response(_parse_json(body, request.url))
    except ProviderError as error:  # an in-band error report
        _add_context(error, response, request)
        raise
    result.warnings = [*request.warnings, *result.warnings]
    return result


def stream(
    client: httpx2.AsyncClient, codec: Codec, request: PreparedRequest
) -> AsyncIterator[ModelStreamPart]:
    """Send ``request`` and yield the parts of its event stream as they arrive."""
    limiter = request.rate_limiter
    if limiter is None:
        return _stream(client, codec, request, None)
    return _limited_stream(client, codec, request, limiter)


async def _limited_stream(
    client: httpx2.AsyncClient, codec: Codec, request: PreparedRequest, limiter: RateLimiter
) -> AsyncIterator[ModelStreamPart]:
    """``_stream`` once the limiter lets ``request`` go; its slot is held until the stream ends or closes."""
    from reverie import _rate_limiter

    admission = _admission(limiter, request)
    try:
        await _take_slot(admission)
        while (seconds := admission.next_wait()) > 0:
            if seconds > _rate_limiter.ANNOUNCED_WAIT:
                yield RateLimitWaitPart(seconds=seconds)
            await _rate_limiter.async_sleep(seconds)
        parts = _stream(client, codec, _after_waiting(request, admission), admission)
        try:
            async for part in parts:
                if type(part) is FinishPart:
                    admission.used(part.usage)
                yield part
        finally:
            # Close the response now (the caller may have left early), then free the slot.
            await getattr(parts, "aclose")()  # noqa: B009 (an AsyncIterator's type hides aclose)
    finally:
        admission.release()


def _admission(limiter: RateLimiter, request: PreparedRequest) -> Admission:
    return limiter.admission(url=request.url, body_size=len(request.content), deadline_at=request.deadline_at)


async def _take_slot(admission: Admission) -> None:
    """Wait for a concurrency slot, if the limiter bounds concurrency (at most until the deadline)."""
    if not admission.needs_slot:
        return
    from reverie._rate_limiter import AsyncSlotWaiter

    waiter = admission.take_slot(AsyncSlotWaiter)
    if waiter is not None:
        await waiter.wait(admission.time_left())
        admission.check_slot()


def _after_waiting(request: PreparedRequest, admission: Admission) -> PreparedRequest:
    """``request`` with its timeout cut to what the deadline leaves after the limiter's waits."""
    if not admission.waited or request.deadline_at is None:
        return request
    return dataclasses.replace(request, timeout=admission.timeout(request.timeout))


async def _stream(
    client: httpx2.AsyncClient, codec: Codec, request: PreparedRequest, admission: Admission | None
) -> AsyncIterator[ModelStreamPart]:
    ends = _ends(request)
    response = await _send(client, request, admission)
    try:
        if not response.is_success:
            body = await _read_body(response, request, ends)
            raise _status_error(codec, response, body, request)
        content_type = response.headers.get("content-type", "")
        if "json" in content_type:
            # A JSON answer to a streaming request is an error report, not a stream.
            body = await _read_body(response, request, ends)
            raise _status_error(codec, response, body, request)
        yield StreamStartPart(warnings=list(request.warnings))
        events = stream_framing(codec).decoder(max_bytes=request.max_response_bytes)
        decoder = codec.stream_decoder()
        limit = request.max_response_bytes
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                # The clock is read between chunks: a server dripping bytes never trips a
                # read timeout, but it cannot outlast the request's timeout either.
                if ends is not None and _clock.now() > ends:
                    raise _timed_out(request)
                # The decoded size, counted over the whole stream: a small compressed body
                # of small events must not inflate without bound.
                size += len(chunk)
                over = size - limit
                if over > 0:
                    # The events within the limit are still delivered (the partial text).
                    for event in events.feed(chunk[: len(chunk) - over]):
                        for part in decoder.feed(event):
                            yield part
                    raise InvalidResponseError(f"stream exceeds the limit of {limit} bytes", url=request.url)
                for event in events.feed(chunk):
                    for part in decoder.feed(event):
                        yield part
            for event in events.end():
                for part in decoder.feed(event):
                    yield part
            for part in decoder.end():
                yield part
        except httpx2.HTTPError as error:
            failure = _http_error(error, request, during="while reading the stream")
            failure.reported_usage = _usage_so_far(decoder)
            raise failure from error
        except ReverieError as error:  # an in-band error event, an unfinished or unreadable stream
            if isinstance(error, ProviderError):
                _add_context(error, response, request)
            if error.reported_usage is None:
                error.reported_usage = _usage_so_far(decoder)
            raise
    finally:
        await response.aclose()


def _usage_so_far(decoder: object) -> Usage | None:
    """The usage a stream reported before it failed, where its decoder keeps it (optional)."""
    usage = getattr(decoder, "reported_usage", None)
    return usage if isinstance(usage, Usage) else None


async def _send(
    client: httpx2.AsyncClient, request: PreparedRequest, admission: Admission | None
) -> httpx2.Response:
    url = parse_url(request.url)
    timeout = client.timeout if request.timeout is None else _capped(client.timeout, request.timeout)
    http_request = _http_request(client, url, request, timeout)
    auth = httpx2.USE_CLIENT_DEFAULT if request.auth is None else request.auth
    try:
        response = await client.send(http_request, stream=True, auth=auth)
    except httpx2.HTTPError as error:
        raise _http_error(error, request, during="while sending the request") from error
    if admission is not None:
        admission.observe(response.status_code, response.headers.multi_items())
    return response


def _http_request(
    client: httpx2.AsyncClient, url: httpx2.URL, request: PreparedRequest, timeout: httpx2.Timeout
) -> httpx2.Request:
    """What ``client.build_request("POST", url, ...)`` builds, with the client's headers merged once.

    httpx2 merges the client's headers with the request's on every request (copying both and
    removing each name the request sets again); a model sends the same headers request after
    request, so the merged ``httpx2.Headers`` are kept by their layers (``Request`` copies them).
    A client of a subclass (which may build requests its own way), a relative URL (joined to
    the client's base URL) or client query parameters take httpx2's ``build_request``.
    """
    if type(client) is not httpx2.AsyncClient or url.is_relative_url or client.params:
        return client.build_request(
            "POST", url, content=request.content, headers=request.headers, timeout=timeout
        )
    headers = merged_headers(client, request.headers)
    cookies = client.cookies
    http_request = httpx2.Request(
        "POST",
        url,
        content=request.content,
        headers=headers,
        cookies=cookies,
        extensions={"timeout": timeout.as_dict()},
    )
    # Worked out once per merged set (the shared object keeps it). Without cookies the request
    # adds only ASCII headers to these (its host and length), so its encoding is known and need
    # not be worked out again over every header by its first lookup (an auth's check).
    if headers.encoding == "ascii" and not cookies:
        http_request.headers.encoding = "ascii"
    return http_request


async def _read_body(response: httpx2.Response, request: PreparedRequest, ends: float | None) -> str:
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_bytes():
            if ends is not None and _clock.now() > ends:
                raise _timed_out(request)
            size += len(chunk)
            if size > request.max_response_bytes:
                raise InvalidResponseError(
                    f"response body exceeds the limit of {request.max_response_bytes} bytes", url=request.url
                )
            chunks.append(chunk)
    except httpx2.HTTPError as error:
        raise _http_error(error, request, during="while reading the response") from error
    return b"".join(chunks).decode("utf-8", errors="replace")


def _ends(request: PreparedRequest) -> float | None:
    """When the exchange must be over, on ``_clock``'s scale (``None``: no overall bound)."""
    return None if request.timeout is None else _clock.now() + request.timeout


def _capped(timeout: httpx2.Timeout, seconds: float) -> httpx2.Timeout:
    """The client's timeouts, none longer than ``seconds``: a silent server ends in time too."""

    def cap(value: float | None) -> float:
        return seconds if value is None else min(value, seconds)

    return httpx2.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )


def _timed_out(request: PreparedRequest) -> ProviderError:
    """The retryable error of a request that outlived its ``timeout``."""
    return ProviderError(
        f"the request timed out: it took longer than its timeout of {request.timeout:g} s",
        url=request.url,
        request_body=request.content.decode("utf-8", errors="replace"),
        retryable=True,
    )


def _parse_json(body: str, url: str) -> Any:
    if not body or body.isspace():  # not ``strip()``: that copies the whole body
        raise InvalidResponseError("empty response body", url=url)
    try:
        return _json.loads(body)
    except ValueError:
        raise InvalidResponseError("response body is not valid JSON", body=body, url=url) from None


def _status_error(
    codec: Codec, response: httpx2.Response, body: str, request: PreparedRequest
) -> ProviderError:
    error = codec.parse_error(response.status_code, _headers(response), body, request.url)
    error.request_body = request.content.decode("utf-8", errors="replace")
    return error


def _add_context(error: ProviderError, response: httpx2.Response, request: PreparedRequest) -> None:
    """Give an error the codec found inside a 2xx answer the exchange's URL, request and headers."""
    if error.url is None:
        error.url = request.url
    if error.request_body is None:
        error.request_body = request.content.decode("utf-8", errors="replace")
    if not error.response_headers:
        error.response_headers = _headers(response)


def _headers(response: httpx2.Response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def _http_error(error: httpx2.HTTPError, request: PreparedRequest, *, during: str) -> ProviderError:
    return http_error(error, url=request.url, request_body=request.content, during=during)

"""The one map from httpx2 exceptions to reverie errors (``reverie._http.errors``)."""

from __future__ import annotations

import httpx2
import pytest

from reverie._http.errors import http_error

REQUEST = httpx2.Request("POST", "https://api.example/v1/chat")


@pytest.mark.parametrize(
    "error",
    [
        httpx2.ConnectError("refused"),
        httpx2.ReadTimeout("slow"),
        httpx2.RemoteProtocolError("peer closed"),
        httpx2.ProxyError("proxy down"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_transport_failures_are_retryable(error: httpx2.HTTPError) -> None:
    mapped = http_error(error, url="https://api.example/v1/chat", request_body=b'{"a":1}', during="while x")
    assert mapped.is_retryable
    assert mapped.status_code is None
    assert mapped.message == f"{type(error).__name__} while x: {error}"
    assert mapped.url == "https://api.example/v1/chat"
    assert mapped.request_body == '{"a":1}'


def test_a_corrupt_compressed_body_is_retryable() -> None:
    mapped = http_error(httpx2.DecodingError("incorrect header check"), url="u", request_body=b"", during="d")
    assert mapped.is_retryable
    assert mapped.message == "DecodingError d: incorrect header check"


def test_redirect_loops_are_not_retryable() -> None:
    error = httpx2.TooManyRedirects("loop", request=REQUEST)
    mapped = http_error(error, url="u", request_body=b"", during="d")
    assert not mapped.is_retryable


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (404, False)])
def test_status_errors_keep_their_status(status: int, retryable: bool) -> None:
    response = httpx2.Response(status, request=REQUEST)
    error = httpx2.HTTPStatusError("bad status", request=REQUEST, response=response)
    mapped = http_error(error, url="u", request_body=b"", during="d")
    assert mapped.status_code == status
    assert mapped.is_retryable is retryable


def test_an_error_without_a_message_is_named_by_its_type() -> None:
    assert http_error(httpx2.ReadError(""), url="u", request_body=b"", during="d").message == (
        "ReadError d: ReadError"
    )

"""Running out of file descriptors, through the public API, in both modes and both colours.

A connection that cannot get a file descriptor (``EMFILE``/``ENFILE``, which httpx2 wraps in a
``ConnectError``) is a ``TooManyOpenFilesError`` naming the cause and the fix, and is not
retried: every retry would need a descriptor too. The pool sizes, and the same failure on a
real socket under a lowered ``RLIMIT_NOFILE``, are in ``tests/unit/test_connection_pool.py``.
"""

from __future__ import annotations

import errno

import httpx2
import pytest

from reverie import Agent, ProviderError, RetryError, RetryPart, RetryPolicy, TooManyOpenFilesError
from reverie.providers import openaicompat

MODES = ["generate", "stream"]


def out_of_descriptors(code: int, calls: list[int], *, grouped: bool = False) -> httpx2.MockTransport:
    """A transport failing every request as httpx2 does when no socket can be opened.

    ``grouped`` wraps the ``OSError`` as anyio does when connecting: "All connection attempts
    failed", caused by the group of each address's error. Each request appends to ``calls``.
    """

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        failure = OSError(code, "Too many open files")
        if grouped:
            try:
                raise OSError("All connection attempts failed") from ExceptionGroup("attempts", [failure])
            except OSError as wrapped:
                failure = wrapped
        raise httpx2.ConnectError(str(failure), request=request) from failure

    return httpx2.MockTransport(handler)


async def run(agent: Agent, mode: str) -> list[RetryPart]:
    retries: list[RetryPart] = []
    agent.callbacks.on_retry = retries.append
    if mode == "generate":
        await agent.generate_async("hi")
    else:
        async with agent.stream_async("hi") as stream:
            async for _ in stream:
                pass
    return retries


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("grouped", [False, True])
async def test_running_out_of_file_descriptors_is_a_clear_error_and_not_retried(
    mode: str, grouped: bool
) -> None:
    calls: list[int] = []
    async with httpx2.AsyncClient(
        transport=out_of_descriptors(errno.EMFILE, calls, grouped=grouped)
    ) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=3, initial_delay=0.0))
        with pytest.raises(TooManyOpenFilesError) as info:
            await run(agent, mode)
    assert calls == [1]  # no storm of retries
    error = info.value
    assert isinstance(error, ProviderError)
    assert not error.is_retryable
    assert error.errno == errno.EMFILE
    assert error.url == "http://test/v1/chat/completions"
    message = str(error)
    assert "out of file descriptors" in message
    assert "EMFILE" in message
    assert "ulimit -n" in message
    assert "max_connections" in message


@pytest.mark.anyio
async def test_a_full_system_file_table_says_so() -> None:
    async with httpx2.AsyncClient(transport=out_of_descriptors(errno.ENFILE, [])) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        with pytest.raises(TooManyOpenFilesError) as info:
            await Agent(provider.language_model("m")).generate_async("hi")
    assert info.value.errno == errno.ENFILE
    assert info.value.open_files_limit is None
    assert "system's open-file table is full (ENFILE)" in str(info.value)


@pytest.mark.anyio
async def test_another_connect_error_is_still_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(1)
        failure = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
        raise httpx2.ConnectError(str(failure), request=request) from failure

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(base_url="http://test/v1", async_http_client=client)
        agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=2, initial_delay=0.0))
        with pytest.raises(RetryError) as info:
            await agent.generate_async("hi")
    assert not any(isinstance(error, TooManyOpenFilesError) for error in info.value.errors)
    assert len(calls) == 3

"""``FallbackModel`` against the fault-injection server: real HTTP, real codecs, real failures.

This is the async source; ``tests/_sync/test_fallback_faults.py`` is generated from it. The
primary speaks the OpenAI chat shape (``openaicompat``), the backup the Anthropic shape, both
to one ``tests.faults.FaultServer`` whose scripted faults apply to its requests in order, so
each test shows which model each request went to. Nothing sleeps (the ``sleeps`` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    FallbackModel,
    LanguageModel,
    Message,
    ProviderError,
    RetryError,
    RetryPart,
    RetryPolicy,
    TextDeltaPart,
)
from reverie._model import Call
from reverie.providers import anthropic, openaicompat
from tests.faults import (
    DEFAULT_TEXT,
    FaultServer,
    context_length_exceeded,
    cut_stream,
    ok,
    status,
)

from .agent_runs import after_last_retry, run

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
POLICY = RetryPolicy(max_retries=1, initial_delay=1.0)
NO_RETRY = RetryPolicy(max_retries=0)
BACKUP_TEXT = "The backup model answers"


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(5.0, read=2.0)) as client:
        yield client


def chain(server: FaultServer, client: httpx2.AsyncClient, **options: Any) -> FallbackModel:
    primary = openaicompat.Provider(base_url=server.url + "/v1", api_key="k", async_http_client=client)
    backup = anthropic.Provider(base_url=server.url + "/v1", api_key="k", async_http_client=client)
    return FallbackModel(
        primary.language_model("primary-model"), backup.language_model("backup-model"), **options
    )


def asked(server: FaultServer) -> list[tuple[str | None, str]]:
    """Each request's wire shape and model, in order."""
    return [(request.shape, request.json["model"]) for request in server.requests]


PRIMARY = ("openai", "primary-model")
BACKUP = ("anthropic", "backup-model")


@pytest.mark.anyio
@MODES
async def test_the_primary_is_retried_then_the_backup_answers(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], streaming: bool
) -> None:
    server.script([status(503), status(529), ok(BACKUP_TEXT)])
    retries: list[RetryPart] = []
    agent = Agent(chain(server, client), retry=POLICY, on_retry=retries.append)
    result, parts = await run(agent, streaming=streaming)
    assert result.text == BACKUP_TEXT
    assert asked(server) == [PRIMARY, PRIMARY, BACKUP]
    assert sleeps == [1.0]
    (step,) = result.steps
    assert (step.provider, step.model_id) == ("anthropic", "backup-model")
    assert [(retry.provider, retry.model, retry.delay) for retry in retries] == [
        ("openaicompat", "primary-model", 1.0),
        ("anthropic", "backup-model", 0.0),
    ]
    if streaming:
        assert after_last_retry(parts) == BACKUP_TEXT


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize("code", [400, 401, 403])
async def test_a_bad_request_or_bad_credentials_do_not_fall_back(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], streaming: bool, code: int
) -> None:
    server.script([status(code)])
    agent = Agent(chain(server, client), retry=POLICY)
    with pytest.raises(ProviderError) as raised:
        await run(agent, streaming=streaming)
    assert raised.value.status_code == code
    assert asked(server) == [PRIMARY]
    assert sleeps == []


@pytest.mark.anyio
@MODES
async def test_a_stream_cut_mid_answer_moves_on_without_mixing_the_models(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], streaming: bool
) -> None:
    server.script([cut_stream(after_events=3), ok(BACKUP_TEXT)])
    agent = Agent(chain(server, client), retry=NO_RETRY)
    result, parts = await run(agent, streaming=streaming)
    assert asked(server) == [PRIMARY, BACKUP]
    (step,) = result.steps
    assert step.text == BACKUP_TEXT and step.provider == "anthropic"
    assert sleeps == []
    if streaming:
        (retry,) = [part for part in parts if isinstance(part, RetryPart)]
        assert (retry.provider, retry.model, retry.attempt) == ("anthropic", "backup-model", 1)
        delivered = "".join(part.delta for part in parts if isinstance(part, TextDeltaPart))
        assert delivered.startswith("Hello from")  # the primary's words reached the consumer ...
        assert retry.error.partial_text == "Hello from"
        discarded = retry.discarded.text
        assert discarded == "Hello from"  # ... and the retry part says to drop them
        assert after_last_retry(parts) == BACKUP_TEXT


@pytest.mark.anyio
@MODES
async def test_a_prompt_too_large_for_the_primary_goes_to_the_backup(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], streaming: bool
) -> None:
    server.script([context_length_exceeded(), ok(BACKUP_TEXT)])
    agent = Agent(chain(server, client), retry=POLICY)
    result, _ = await run(agent, streaming=streaming)
    assert result.text == BACKUP_TEXT
    assert asked(server) == [PRIMARY, BACKUP]
    assert sleeps == []  # never retried on the same model: it would not fit either


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize("retry", [POLICY, NO_RETRY], ids=["retries", "max_retries=0"])
async def test_when_every_model_fails_the_error_lists_every_attempt(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float], streaming: bool, retry: RetryPolicy
) -> None:
    codes = [500, 502, 503, 529] if retry is POLICY else [500, 503]
    server.script([status(code) for code in codes])
    agent = Agent(chain(server, client), retry=retry)
    with pytest.raises(RetryError) as raised:
        await run(agent, streaming=streaming)
    assert [getattr(error, "status_code", None) for error in raised.value.errors] == codes
    expected = [PRIMARY, PRIMARY, BACKUP, BACKUP] if retry is POLICY else [PRIMARY, BACKUP]
    assert asked(server) == expected
    assert f"failed after {len(codes)} attempts" in str(raised.value)


@pytest.mark.anyio
async def test_custom_fallback_on_over_http(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    server.script([status(404), ok(BACKUP_TEXT)])  # by default a 404 stops; this rule moves on
    model = chain(server, client, fallback_on=lambda error: getattr(error, "status_code", None) == 404)
    result = await Agent(model).generate_async("hi")
    assert result.text == BACKUP_TEXT and asked(server) == [PRIMARY, BACKUP]
    server.reset()
    server.script([status(503)])  # ... and a 503 no longer does
    with pytest.raises(ProviderError):
        await Agent(chain(server, client, fallback_on=(KeyError,)), retry=NO_RETRY).generate_async("hi")
    assert asked(server) == [PRIMARY]


# --- direct calls ---------------------------------------------------------------------------------


def call() -> Call:
    return Call(prompt=[Message.user("hi")])


@pytest.mark.anyio
async def test_a_direct_generate_falls_back(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    server.script([status(503), status(503), ok(BACKUP_TEXT)])
    response = await chain(server, client, retry=POLICY).generate_async(call())
    assert [part.text for part in response.content if part.type == "text"] == [BACKUP_TEXT]
    assert asked(server) == [PRIMARY, PRIMARY, BACKUP]
    assert sleeps == [1.0]


@pytest.mark.anyio
async def test_a_direct_stream_cut_mid_answer_says_what_to_discard(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    server.script([cut_stream(after_events=3), None])
    model: LanguageModel = chain(server, client)
    parts = [part async for part in model.stream_async(call())]
    (retry,) = [part for part in parts if isinstance(part, RetryPart)]
    assert (retry.step_number, retry.provider, retry.model) == (0, "anthropic", "backup-model")
    assert "RemoteProtocolError" in str(retry.error)
    assert after_last_retry(parts) == DEFAULT_TEXT
    assert parts[-1].type == "finish"
    assert asked(server) == [PRIMARY, BACKUP] and sleeps == []


@pytest.mark.anyio
async def test_generate_object_falls_back(
    server: FaultServer, client: httpx2.AsyncClient, sleeps: list[float]
) -> None:
    # Both models speak the OpenAI shape here: the server answers a tool call there.
    server.script([status(503), None])
    provider = openaicompat.Provider(base_url=server.url + "/v1", api_key="k", async_http_client=client)
    model = FallbackModel(provider.language_model("primary-model"), provider.language_model("backup-model"))
    schema = {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
    result = await model.generate_object_async("Where?", schema=schema)
    assert result.object == {"location": "Florence"}
    assert asked(server) == [PRIMARY, ("openai", "backup-model")]

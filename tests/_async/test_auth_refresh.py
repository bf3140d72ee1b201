"""An API key given as a callable, refreshed when the server refuses it, through the public API.

A real loopback server (``tests.key_server.KeyServer``) accepts key ``k1`` for its first
requests, then only ``k2``: the key "expires" mid-run. The provider's key callable hands out
``k1`` then ``k2``. The refused request is sent once more with the new key, outside the retry
budget (``max_retries=0`` here, and no retry is reported); a key refused twice is final.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import pytest

from reverie import Agent, AgentResult, AgentStreamPart, ProviderError, RetryPart, RetryPolicy, tool
from reverie._provider import Provider
from reverie.providers import anthropic, google, openai, openaicompat
from tests.faults import DEFAULT_TEXT, TOOL_FINAL_TEXT, status
from tests.key_server import Keys, KeyServer

MODES = ["generate", "stream"]
NO_RETRIES = RetryPolicy(max_retries=0)


@tool
def weather(location: str) -> str:
    """Get the weather for a location."""
    return f"40 C in {location}"


@dataclass
class Run:
    result: AgentResult
    parts: list[AgentStreamPart] = field(default_factory=list[AgentStreamPart])
    retries: list[RetryPart] = field(default_factory=list[RetryPart])


async def run(agent: Agent, mode: str, prompt: str = "What's the weather in Florence?") -> Run:
    retries: list[RetryPart] = []
    agent.callbacks.on_retry = retries.append
    if mode == "generate":
        return Run(await agent.generate_async(prompt), retries=retries)
    parts: list[AgentStreamPart] = []
    async with agent.stream_async(prompt) as stream:
        async for part in stream:
            parts.append(part)
        result = await stream.result()
    return Run(result, parts, retries)


@pytest.fixture
def server() -> Iterator[KeyServer]:
    with KeyServer(idle_timeout=60.0) as server:
        yield server
        assert server.errors == []


@pytest.fixture
async def client() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(timeout=httpx2.Timeout(5.0)) as client:
        yield client


def chat(server: KeyServer, client: httpx2.AsyncClient, keys: Any) -> Provider:
    return openai.Provider(base_url=server.url + "/v1", api_key=keys, async_http_client=client)


def family_provider(family: str, server: KeyServer, client: httpx2.AsyncClient, keys: Any) -> Provider:
    """A provider of ``family`` (``openai`` is ``chat``) talking to ``server`` with ``keys``."""
    if family == "openai":
        return chat(server, client, keys)
    if family == "anthropic":
        return anthropic.Provider(base_url=server.url + "/v1", api_key=keys, async_http_client=client)
    if family == "google":
        return google.Provider(base_url=server.url + "/v1beta", api_key=keys, async_http_client=client)
    assert family == "openaicompat"
    return openaicompat.Provider(base_url=server.url + "/v1", api_key=keys, async_http_client=client)


# --- a key that expires mid-run ----------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_a_key_expiring_mid_run_is_refreshed_once_and_the_run_completes(
    server: KeyServer, client: httpx2.AsyncClient, mode: str
) -> None:
    keys = Keys("k1", "k2")
    agent = Agent(chat(server, client, keys).language_model("m"), tools=[weather], retry=NO_RETRIES)
    outcome = await run(agent, mode)
    assert outcome.result.text == TOOL_FINAL_TEXT
    assert len(outcome.result.steps) == 2  # the tool call, then the answer
    # Step 1 with k1; step 2 refused with k1, sent again with k2.
    assert server.keys == ["k1", "k1", "k2"]
    assert keys.calls == 2
    # Outside the retry budget: no retry, although max_retries is 0.
    assert outcome.retries == []
    assert not any(isinstance(part, RetryPart) for part in outcome.parts)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_the_new_key_is_kept_for_the_following_requests(
    server: KeyServer, client: httpx2.AsyncClient, mode: str
) -> None:
    keys = Keys("k1", "k2")
    agent = Agent(chat(server, client, keys).language_model("m"), retry=NO_RETRIES)
    for _ in range(3):
        assert (await run(agent, mode, "hi")).result.text == DEFAULT_TEXT
    assert server.keys == ["k1", "k1", "k2", "k2"]  # one refusal, then k2 is reused
    assert keys.calls == 2


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_an_async_key_callable_is_awaited(
    server: KeyServer, client: httpx2.AsyncClient, mode: str
) -> None:
    # In the generated sync twin this callable is a plain function: the sync API's case.
    calls: list[str] = []

    async def fetch_key() -> str:
        calls.append("k1" if not calls else "k2")
        return calls[-1]

    agent = Agent(chat(server, client, fetch_key).language_model("m"), tools=[weather], retry=NO_RETRIES)
    assert (await run(agent, mode)).result.text == TOOL_FINAL_TEXT
    assert calls == ["k1", "k2"]
    assert server.keys == ["k1", "k1", "k2"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("family", ["anthropic", "google", "openaicompat"])
async def test_every_provider_family_refreshes_its_key(
    server: KeyServer, client: httpx2.AsyncClient, mode: str, family: str
) -> None:
    keys = Keys("k1", "k2")
    agent = Agent(family_provider(family, server, client, keys).language_model("m"), retry=NO_RETRIES)
    assert (await run(agent, mode, "hi")).result.text == DEFAULT_TEXT
    assert (await run(agent, mode, "hi")).result.text == DEFAULT_TEXT
    assert server.keys == ["k1", "k1", "k2"]
    assert keys.calls == 2


# --- a second refusal is final --------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_a_key_refused_twice_is_a_final_401(
    server: KeyServer, client: httpx2.AsyncClient, mode: str
) -> None:
    keys = Keys("k1", "k1-again")  # the server wants k2 from its second request on
    agent = Agent(chat(server, client, keys).language_model("m"), retry=RetryPolicy(max_retries=3))
    await run(agent, mode, "hi")
    with pytest.raises(ProviderError) as info:
        await run(agent, mode, "hi")
    assert info.value.status_code == 401
    assert not info.value.is_retryable
    assert "Incorrect API key" in str(info.value)
    assert server.keys == ["k1", "k1", "k1-again"]  # one resend, no retries
    assert keys.calls == 2


# --- errors the provider flags as a refused key ---------------------------------------------

GEMINI_KEY_INVALID = {
    "error": {
        "code": 400,
        "message": "API key expired. Please renew the API key.",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
    }
}


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("family", "code", "body"),
    [
        # Gemini answers an expired key with a 400 whose details say so.
        ("google", 400, GEMINI_KEY_INVALID),
        # A gateway's 403 in a provider's own words for a bad key.
        ("openai", 403, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}),
        (
            "anthropic",
            403,
            {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
        ),
    ],
    ids=["gemini-400-expired-key", "gateway-403-openai", "gateway-403-anthropic"],
)
async def test_a_refusal_the_provider_flags_as_a_bad_key_refreshes_it(
    client: httpx2.AsyncClient, mode: str, family: str, code: int, body: dict[str, Any]
) -> None:
    with KeyServer(rejection=status(code, body=json.dumps(body)), idle_timeout=60.0) as server:
        keys = Keys("k1", "k2")
        agent = Agent(family_provider(family, server, client, keys).language_model("m"), retry=NO_RETRIES)
        await run(agent, mode, "hi")
        assert (await run(agent, mode, "hi")).result.text == DEFAULT_TEXT
        assert server.keys == ["k1", "k1", "k2"]
    assert keys.calls == 2


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_an_error_not_about_the_key_is_not_a_refresh(client: httpx2.AsyncClient, mode: str) -> None:
    refusal = {"error": {"message": "You do not have access to this model", "code": "model_not_found"}}
    with KeyServer(rejection=status(403, body=json.dumps(refusal)), idle_timeout=60.0) as server:
        keys = Keys("k1", "k2")
        agent = Agent(chat(server, client, keys).language_model("m"), retry=NO_RETRIES)
        await run(agent, mode, "hi")
        with pytest.raises(ProviderError) as info:
            await run(agent, mode, "hi")
        assert info.value.status_code == 403
        assert server.keys == ["k1", "k1"]
    assert keys.calls == 1

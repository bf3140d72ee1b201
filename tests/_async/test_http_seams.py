"""The HTTP seams through the public API: a provider resolves each request's endpoint and
authenticates it with its own ``httpx2.Auth``.

An Azure-like provider (deployment URLs, an ``api-version`` query, Entra-style tokens that
expire) is built here from hooks alone, as cloud platforms will be; the built-in providers
must send exactly what they sent before.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import Agent, ProviderError, RetryPolicy
from reverie._codec import WireRequest
from reverie._http.auth import SigningAuth, Token, TokenAuth
from reverie._http.endpoint import Endpoint, join_url
from reverie.providers import anthropic, openaicompat
from tests.wire_answers import chat_completion

MODES = ["generate", "stream"]
API_VERSION = "2024-10-21"
AZURE = "https://example-resource.openai.azure.com/openai"


def completion(text: str) -> dict[str, Any]:
    return chat_completion(text, model="gpt-4o")


def streamed(text: str) -> bytes:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    return b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks)


class Server:
    """Answers like a chat-completions API; 401 for the tokens in ``reject``."""

    def __init__(self, reject: frozenset[str] = frozenset()) -> None:
        self.reject = reject
        self.requests: list[httpx2.Request] = []
        self.tokens: list[str | None] = []
        """As sent: a resend reuses (and updates) the same request object."""

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        self.tokens.append(request.headers.get("authorization"))
        if request.headers.get("authorization") in self.reject:
            return httpx2.Response(401, json={"error": {"code": "401", "message": "token expired"}})
        if json.loads(request.content).get("stream"):
            headers = {"content-type": "text/event-stream"}
            return httpx2.Response(200, headers=headers, content=streamed("hi"))
        return httpx2.Response(200, json=completion("hi"))


class AzureLike(openaicompat.Provider):
    """Deployment URLs with an api-version query, and a token from a callable."""

    def __init__(self, fetch_token: Any, **options: Any) -> None:
        super().__init__(base_url=AZURE, **options)
        self.fetch_token = fetch_token

    def endpoint(self, model_id: str, request: WireRequest, *, stream: bool) -> Endpoint:
        url = join_url(f"{self.base_url}/deployments/{model_id}", request.path, {"api-version": API_VERSION})
        return Endpoint(url, self.request_headers())

    def auth(self) -> httpx2.Auth | None:
        return TokenAuth(self.fetch_token)


async def run(agent: Agent, mode: str) -> str:
    if mode == "generate":
        return (await agent.generate_async("hi")).text
    return (await agent.stream_async("hi").result()).text


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_a_provider_resolves_deployment_urls_and_refreshes_tokens(mode: str) -> None:
    fetched: list[int] = []

    async def fetch_token() -> Token:
        fetched.append(1)
        return Token(f"token-{len(fetched)}", expires_at=None)

    server = Server(reject=frozenset({"Bearer token-1"}))
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        provider = AzureLike(fetch_token, async_http_client=client)
        agent = Agent(provider.language_model("gpt-4o"), retry=RetryPolicy(max_retries=0))
        assert await run(agent, mode) == "hi"
        assert await run(agent, mode) == "hi"
    urls = {str(request.url) for request in server.requests}
    assert urls == {f"{AZURE}/deployments/gpt-4o/chat/completions?api-version={API_VERSION}"}
    assert server.tokens == ["Bearer token-1", "Bearer token-2", "Bearer token-2"]  # one refresh, then cached
    assert len(fetched) == 2


@pytest.mark.anyio
async def test_a_token_the_server_keeps_rejecting_is_a_401_provider_error() -> None:
    async def fetch_token() -> str:
        return "always-bad"

    server = Server(reject=frozenset({"Bearer always-bad"}))
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        agent = Agent(AzureLike(fetch_token, async_http_client=client).language_model("gpt-4o"))
        with pytest.raises(ProviderError) as info:
            await agent.generate_async("hi")
    assert info.value.status_code == 401
    assert len(server.requests) == 2  # the request and its one resend with a fresh token


@pytest.mark.anyio
async def test_provider_headers_are_resolved_per_request() -> None:
    server = Server()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        provider = openaicompat.Provider(
            base_url="http://test/v1", api_key="k", headers={"X-Tenant": "a"}, async_http_client=client
        )
        agent = Agent(provider.language_model("m"))
        await agent.generate_async("hi")
        provider.headers["X-Tenant"] = "b"  # after language_model(): still applies
        await agent.generate_async("hi")
    assert [request.headers["x-tenant"] for request in server.requests] == ["a", "b"]
    assert server.tokens == ["Bearer k", "Bearer k"]


@pytest.mark.anyio
async def test_credential_precedence_is_unchanged() -> None:
    # The key beats a provider-level header of the same name; a per-call header beats the key.
    server = Server()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        provider = openaicompat.Provider(
            base_url="http://test/v1",
            api_key="key",
            headers={"Authorization": "Bearer provider-level"},
            async_http_client=client,
        )
        agent = Agent(provider.language_model("m"))
        await agent.generate_async("hi")
        await agent.generate_async("hi", headers={"Authorization": "Bearer per-call"})
    assert server.tokens == ["Bearer key", "Bearer per-call"]


@pytest.mark.anyio
async def test_api_keys_travel_in_their_headers_as_before() -> None:
    seen: list[httpx2.Headers] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers)
        return httpx2.Response(400, json={"type": "error", "error": {"type": "x", "message": "stop here"}})

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = anthropic.Provider(api_key="sk-ant", async_http_client=client)
        with pytest.raises(ProviderError):
            await Agent(provider.language_model("claude")).generate_async("hi")
    (headers,) = seen
    assert headers["x-api-key"] == "sk-ant"
    assert headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in headers


class Signed(openaicompat.Provider):
    def auth(self) -> httpx2.Auth | None:
        def sign(request: httpx2.Request) -> None:
            request.headers["x-signature"] = f"{request.url.path}:{len(request.content)}"

        return SigningAuth(sign)


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_a_signing_provider_signs_the_final_request(mode: str) -> None:
    server = Server()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        agent = Agent(Signed(base_url="http://test/v1", async_http_client=client).language_model("m"))
        assert await run(agent, mode) == "hi"
    (request,) = server.requests
    assert request.headers["x-signature"] == f"/v1/chat/completions:{len(request.content)}"


@pytest.mark.anyio
async def test_models_of_one_provider_share_its_auth_and_token_cache() -> None:
    fetched: list[int] = []

    async def fetch_token() -> str:
        fetched.append(1)
        return "shared"

    server = Server()
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        provider = AzureLike(fetch_token, async_http_client=client)
        for model_id in ("gpt-4o", "gpt-4o-mini"):
            await Agent(provider.language_model(model_id)).generate_async("hi")
    assert len(fetched) == 1
    assert [request.url.path for request in server.requests] == [
        "/openai/deployments/gpt-4o/chat/completions",
        "/openai/deployments/gpt-4o-mini/chat/completions",
    ]

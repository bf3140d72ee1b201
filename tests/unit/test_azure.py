"""Azure OpenAI (``reverie.providers.azure``): resource URLs, key or Entra ID token, and the
models it hands out, driven through real httpx2 clients over a ``MockTransport``."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest

from reverie import Call, Message, MissingAPIKeyError, UserError
from reverie.providers import azure, openai

RESOURCE = "https://my-resource.openai.azure.com"
V1 = f"{RESOURCE}/openai/v1"
COMPLETION = {
    "id": "c1",
    "model": "o4-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Olá"}, "finish_reason": "stop"}],
}


class Server:
    """Answers every request with a chat completion and records what it was sent."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(200, json=COMPLETION)

    def header(self, name: str) -> list[str | None]:
        return [request.headers.get(name) for request in self.requests]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


CALL = Call(prompt=[Message.user("Say hi in Portuguese")])


def provider(server: Server, **settings: Any) -> azure.Provider:
    return azure.Provider(
        base_url=RESOURCE, http_client=httpx2.Client(transport=httpx2.MockTransport(server)), **settings
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (RESOURCE, V1),
        (f"{RESOURCE}/", V1),
        (f"{RESOURCE}/openai", V1),
        (f"{RESOURCE}/openai/v1/", V1),
        (f"{RESOURCE}/openai/deployments/gpt-5", V1),
        ("my-resource.openai.azure.com", V1),
        ("https://other.cognitiveservices.azure.com", "https://other.cognitiveservices.azure.com/openai/v1"),
        ("https://proxy.example/azure/v1/", "https://proxy.example/azure/v1"),
    ],
)
def test_resource_urls_become_the_v1_api_root(given: str, expected: str) -> None:
    assert azure.resource_url(given) == expected
    assert azure.Provider(base_url=given, api_key="k").base_url == expected


def test_models_are_azure_models_speaking_openai() -> None:
    chat = azure.Provider(base_url=RESOURCE, api_key="k").language_model("my-deployment")
    assert (chat.provider, chat.model_id) == ("azure", "my-deployment")
    assert isinstance(chat.codec, openai.Codec) and chat.codec.name == "openai"
    assert chat.prepare(CALL, stream=False).url == f"{V1}/chat/completions"
    responses = azure.Provider(base_url=RESOURCE, api_key="k", api="responses").language_model("gpt-5-mini")
    assert isinstance(responses.codec, openai.ResponsesCodec)
    assert responses.prepare(CALL, stream=True).url == f"{V1}/responses"
    with pytest.raises(UserError):
        azure.Provider(base_url=RESOURCE, api_key="k", api="assistants")  # pyright: ignore[reportArgumentType]


def test_openai_options_apply_under_the_openai_key() -> None:
    model = azure.Provider(base_url=RESOURCE, api_key="k").language_model("gpt-5-mini")
    call = Call(prompt=[Message.user("hi")], provider_options={"openai": {"reasoning_effort": "high"}})
    assert json.loads(model.prepare(call, stream=False).content)["reasoning_effort"] == "high"


def test_the_key_comes_from_the_environment_and_travels_as_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZURE_OPENAI_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="AZURE_OPENAI_API_KEY"):
        azure.Provider(base_url=RESOURCE)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key")
    server = Server()
    provider(server).language_model("o4-mini").generate(CALL)
    assert server.header("api-key") == ["env-key"]
    assert server.header("authorization") == [None]
    assert "env-key" not in repr(provider(server))


def test_a_token_string_is_a_bearer_token_and_replaces_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key")
    server = Server()
    provider(server, azure_ad_token="entra-token").language_model("o4-mini").generate(CALL)
    assert server.header("authorization") == ["Bearer entra-token"]
    assert server.header("api-key") == [None]
    with pytest.raises(UserError, match="not both"):
        azure.Provider(base_url=RESOURCE, api_key="k", azure_ad_token="t")


def test_a_token_callable_returning_strings_is_called_for_every_request() -> None:
    tokens = iter(["t1", "t2"])
    server = Server()
    model = provider(server, azure_ad_token=lambda: next(tokens)).language_model("o4-mini")
    model.generate(CALL)
    model.generate(CALL)
    assert server.header("authorization") == ["Bearer t1", "Bearer t2"]


def test_an_expiring_token_is_reused_until_it_expires_then_fetched_again() -> None:
    clock = Clock()
    calls: list[float] = []

    def fetch() -> azure.Token:
        calls.append(clock.now)
        return azure.Token(f"t{len(calls)}", expires_at=clock.now + 3600)

    class FakeClockProvider(azure.Provider):
        def token_clock(self) -> float:
            return clock.now

    server = Server()
    client = httpx2.Client(transport=httpx2.MockTransport(server))
    model = FakeClockProvider(base_url=RESOURCE, azure_ad_token=fetch, http_client=client).language_model(
        "o4-mini"
    )
    model.generate(CALL)
    clock.now += 1800  # still fresh
    model.generate(CALL)
    clock.now += 1800  # expired: never sent again
    model.generate(CALL)
    assert server.header("authorization") == ["Bearer t1", "Bearer t1", "Bearer t2"]
    assert len(calls) == 2


def test_an_async_token_callable_serves_the_async_api_only() -> None:
    async def fetch() -> str:
        return "async-token"

    server = Server()

    async def main() -> None:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
        model = azure.Provider(
            base_url=RESOURCE, azure_ad_token=fetch, async_http_client=client
        ).language_model("o4-mini")
        await model.generate_async(CALL)
        await client.aclose()

    anyio.run(main)
    assert server.header("authorization") == ["Bearer async-token"]
    with pytest.raises(UserError, match="async"):
        provider(Server(), azure_ad_token=fetch).language_model("o4-mini").generate(CALL)

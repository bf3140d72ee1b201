"""``api_key=`` as a callable on every provider: when it is called, which headers it fills,
which errors refresh it, and what a sync call does with an async callable.

The refresh itself, through agents over a real server, is in ``tests/_async/test_auth_refresh.py``.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import httpx2
import pytest

from reverie import Agent, Call, Message, MissingAPIKeyError, ProviderError, RetryPolicy, UserError
from reverie._provider import Provider
from reverie.providers import azure, bedrock, google, openai, openaicompat, vertex
from reverie.providers._openai_chat import decode as chat_decode
from reverie.providers.anthropic import decode as anthropic_decode
from reverie.providers.google import decode as google_decode
from tests.key_server import Keys
from tests.wire_answers import anthropic_message, chat_completion

KINDS = ["openai", "openrouter", "openaicompat", "vercel", "anthropic", "google"]
ENV_VARS = (
    "OPENAI_API_KEY",
    "OPENROUTER_API_KEY",
    "AI_GATEWAY_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AZURE_OPENAI_API_KEY",
    "AWS_BEARER_TOKEN_BEDROCK",
)
CHAT_COMPLETION = chat_completion()
ANTHROPIC_MESSAGE = anthropic_message()


@pytest.fixture(autouse=True)
def no_keys_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


class Recorder:
    """Answers ``body`` with 200 and records each request's headers."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.headers: list[httpx2.Headers] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.headers.append(request.headers)
        return httpx2.Response(200, json=self.body)


def make(kind: str, api_key: Any, **options: Any) -> Provider:
    module = importlib.import_module(f"reverie.providers.{kind}")
    base_url = {"openaicompat": "https://compat.example/v1"}.get(kind)
    return module.Provider(api_key=api_key, base_url=base_url, **options)


# --- when the callable is called ------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_callable_needs_no_environment_and_is_not_called_before_a_request(kind: str) -> None:
    keys = Keys("k")
    provider = make(kind, keys)
    model = provider.language_model("m")
    model.prepare(Call(prompt=[Message.user("hi")]), stream=False)
    assert keys.calls == 0
    assert "api_key=<callable>" in repr(provider)


@pytest.mark.parametrize("kind", ["openai", "anthropic", "google", "openrouter", "vercel"])
def test_without_a_key_the_missing_environment_variable_error_is_unchanged(kind: str) -> None:
    with pytest.raises(MissingAPIKeyError, match="environment variable"):
        make(kind, None)


def test_the_key_is_fetched_once_and_reused_until_refused() -> None:
    keys, server = Keys("first-key", "second-key"), Recorder(CHAT_COMPLETION)
    with httpx2.Client(transport=httpx2.MockTransport(server)) as client:
        agent = Agent(openai.Provider(api_key=keys, http_client=client).language_model("m"))
        for _ in range(3):
            agent.generate("hi")
    assert keys.calls == 1
    assert [headers["authorization"] for headers in server.headers] == ["Bearer first-key"] * 3


# --- headers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "header", "value"),
    [
        ("openai", "authorization", "Bearer from-callable"),
        ("anthropic", "x-api-key", "from-callable"),
        ("google", "x-goog-api-key", "from-callable"),
    ],
)
def test_the_key_travels_in_the_provider_s_own_header(kind: str, header: str, value: str) -> None:
    seen: list[httpx2.Headers] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers)
        return httpx2.Response(400, json={"error": {"message": "stop here"}})

    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        model = make(kind, lambda: "from-callable", http_client=client).language_model("m")
        with pytest.raises(ProviderError):
            Agent(model, retry=RetryPolicy(max_retries=0)).generate("hi")
    (headers,) = seen
    assert headers[header] == value
    others = {"authorization", "x-api-key", "x-goog-api-key"} - {header}
    assert not others & set(headers)


def test_azure_and_bedrock_take_a_key_callable_too() -> None:
    azure_server, bedrock_server = Recorder(CHAT_COMPLETION), Recorder(ANTHROPIC_MESSAGE)
    with (
        httpx2.Client(transport=httpx2.MockTransport(azure_server)) as azure_client,
        httpx2.Client(transport=httpx2.MockTransport(bedrock_server)) as bedrock_client,
    ):
        on_azure = azure.Provider(
            base_url="https://r.openai.azure.com", api_key=lambda: "az-key", http_client=azure_client
        )
        on_bedrock = bedrock.Provider(
            region="us-east-1", api_key=lambda: "br-key", http_client=bedrock_client
        )
        assert Agent(on_azure.language_model("gpt-4o")).generate("hi").text == "hi"
        assert Agent(on_bedrock.language_model("anthropic.claude")).generate("hi").text == "hi"
    assert azure_server.headers[0]["api-key"] == "az-key"
    assert "authorization" not in azure_server.headers[0]
    assert bedrock_server.headers[0]["authorization"] == "Bearer br-key"
    assert "auth='api_key'" in repr(on_bedrock)


def test_a_per_call_header_beats_the_key_callable_and_the_callable_is_not_called() -> None:
    keys, server = Keys("provider-key"), Recorder(CHAT_COMPLETION)
    with httpx2.Client(transport=httpx2.MockTransport(server)) as client:
        provider = openaicompat.Provider(
            base_url="https://compat.example/v1",
            api_key=keys,
            headers={"Authorization": "Bearer provider-level"},  # the key beats it
            http_client=client,
        )
        agent = Agent(provider.language_model("m"))
        agent.generate("hi", headers={"Authorization": "Bearer per-call"})
        assert keys.calls == 0
        agent.generate("hi")
    assert [headers["authorization"] for headers in server.headers] == [
        "Bearer per-call",
        "Bearer provider-key",
    ]


# --- async callables in sync calls ----------------------------------------------------------


async def async_key() -> str:
    return "async-key"


@pytest.mark.parametrize("mode", ["generate", "stream"])
def test_an_async_key_callable_in_a_sync_call_is_a_clear_user_error(mode: str) -> None:
    server = Recorder(CHAT_COMPLETION)
    with httpx2.Client(transport=httpx2.MockTransport(server)) as client:
        agent = Agent(openai.Provider(api_key=async_key, http_client=client).language_model("m"))
        with pytest.raises(UserError, match="async API"):
            if mode == "generate":
                agent.generate("hi")
            else:
                agent.stream("hi").result()
    assert server.headers == []  # nothing was sent


@pytest.mark.anyio
async def test_an_async_key_callable_works_in_an_async_call() -> None:
    server = Recorder(CHAT_COMPLETION)
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        agent = Agent(openai.Provider(api_key=async_key, async_http_client=client).language_model("m"))
        assert (await agent.generate_async("hi")).text == "hi"
    assert server.headers[0]["authorization"] == "Bearer async-key"


# --- which answers refuse the key -----------------------------------------------------------


def body(value: object) -> str:
    return json.dumps(value)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        (body({"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}), True),
        (body({"error": {"message": "no such model", "code": "model_not_found"}}), False),
        (body({"error": "invalid_api_key"}), False),
        ("<html>403</html>", False),
    ],
)
def test_openai_flags_invalid_api_key(text: str, refused: bool) -> None:
    assert chat_decode.rejects_credentials(403, {}, text) is refused


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        (
            body(
                {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
            ),
            True,
        ),
        (body({"type": "error", "error": {"type": "permission_error", "message": "no access"}}), False),
        ("not json", False),
    ],
)
def test_anthropic_flags_authentication_error(text: str, refused: bool) -> None:
    assert anthropic_decode.rejects_credentials(403, {}, text) is refused


KEY_INVALID = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        (body({"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": [KEY_INVALID]}}), True),
        (body([{"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": [KEY_INVALID]}}]), True),
        (body({"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "bad token"}}), True),
        (body({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "bad schema"}}), False),
        (body({"error": {"code": 400, "details": "API_KEY_INVALID"}}), False),
        ("[]", False),
    ],
)
def test_gemini_flags_an_invalid_or_expired_key(text: str, refused: bool) -> None:
    assert google_decode.rejects_credentials(400, {}, text) is refused


def test_providers_ask_their_codec_family() -> None:
    invalid_key = body({"error": {"code": "invalid_api_key", "message": "bad"}})
    gemini_key = body({"error": {"status": "INVALID_ARGUMENT", "details": [KEY_INVALID]}})
    for kind in ("openai", "openrouter", "openaicompat", "vercel"):
        assert make(kind, "k").rejects_credentials(403, {}, invalid_key)
        assert not make(kind, "k").rejects_credentials(403, {}, gemini_key)
    assert google.Provider(api_key="k").rejects_credentials(400, {}, gemini_key)
    on_azure = azure.Provider(base_url="https://r.openai.azure.com", api_key="k")
    assert on_azure.rejects_credentials(403, {}, invalid_key)
    on_vertex = vertex.Provider(project="p", location="us-east5", access_token="t")
    assert not on_vertex.rejects_credentials(400, {}, gemini_key)  # two codecs: only a 401 refreshes

from __future__ import annotations

import json

import httpx2
import pytest

import reverie
from reverie import Agent, MissingAPIKeyError, UserError
from reverie._model_strings import KNOWN_PROVIDERS, ModelSpec, parse_model_string
from tests.wire_answers import chat_completion


@pytest.fixture(autouse=True)
def _fresh_shared_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    import reverie._model_strings as strings

    monkeypatch.setattr(strings, "_shared", {})


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("openai:gpt-4o", ModelSpec("openai", "gpt-4o")),
        ("openrouter:moonshotai/kimi-k2-0905", ModelSpec("openrouter", "moonshotai/kimi-k2-0905")),
        ("anthropic:claude-sonnet-4-20250514", ModelSpec("anthropic", "claude-sonnet-4-20250514")),
        # split at the first colon only: the model id keeps its own colons
        ("openrouter:openai/gpt-4o:free", ModelSpec("openrouter", "openai/gpt-4o:free")),
        (
            "openaicompat:llama3@http://localhost:11434/v1",
            ModelSpec("openaicompat", "llama3", "http://localhost:11434/v1"),
        ),
        (
            "openaicompat:llama3:8b@https://host.example/v1",
            ModelSpec("openaicompat", "llama3:8b", "https://host.example/v1"),
        ),
        # the last @ that starts a URL; an @ in the model id stays
        (
            "openaicompat:org@team/model@http://user@host:8000/v1",
            ModelSpec("openaicompat", "org@team/model", "http://user@host:8000/v1"),
        ),
        ("openaicompat:name@not-a-url", ModelSpec("openaicompat", "name@not-a-url")),
        # only openaicompat reads a base URL: Vertex's versioned ids keep their @
        ("vertex:claude-sonnet-4@20250514", ModelSpec("vertex", "claude-sonnet-4@20250514")),
        ("openai:gpt-4o@http://x/v1", ModelSpec("openai", "gpt-4o@http://x/v1")),
    ],
)
def test_grammar(spec: str, expected: ModelSpec) -> None:
    assert parse_model_string(spec) == expected


@pytest.mark.parametrize("spec", ["gpt-4o", ":gpt-4o", "openai:", "openaicompat:@http://x/v1"])
def test_malformed_strings_are_user_errors(spec: str) -> None:
    with pytest.raises(UserError, match="model string"):
        parse_model_string(spec)


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(UserError) as caught:
        reverie.model("opnai:gpt-4o")
    message = str(caught.value)
    assert "'opnai'" in message
    assert "did you mean 'openai'" in message
    for name in KNOWN_PROVIDERS:
        assert name in message


def test_builds_each_provider_from_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-a")
    monkeypatch.setenv("GEMINI_API_KEY", "g")
    monkeypatch.setenv("OPENROUTER_API_KEY", "or")
    monkeypatch.setenv("AI_GATEWAY_API_KEY", "v")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "az")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "b")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj")
    cases = {
        "openai:gpt-4o": ("openai", "gpt-4o"),
        "anthropic:claude-sonnet-4-20250514": ("anthropic", "claude-sonnet-4-20250514"),
        "google:gemini-2.5-flash": ("google", "gemini-2.5-flash"),
        "openrouter:moonshotai/kimi-k2-0905": ("openrouter", "moonshotai/kimi-k2-0905"),
        "vercel:openai/gpt-5": ("vercel", "openai/gpt-5"),
        "azure:my-deployment": ("azure", "my-deployment"),
        "bedrock:anthropic.claude-3-haiku": ("bedrock", "anthropic.claude-3-haiku"),
        "vertex:gemini-2.5-pro": ("vertex", "gemini-2.5-pro"),
        "openaicompat:llama3@http://127.0.0.1:11434/v1": ("openaicompat", "llama3"),
    }
    for spec, (provider, model_id) in cases.items():
        built = reverie.model(spec)
        assert (built.provider, built.model_id) == (provider, model_id), spec


def test_missing_key_names_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(MissingAPIKeyError, match="ANTHROPIC_API_KEY"):
        reverie.model("anthropic:claude-sonnet-4-20250514")


def test_settings_that_must_be_given(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match="base URL"):
        reverie.model("openaicompat:llama3")
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    with pytest.raises(UserError, match="AZURE_OPENAI_ENDPOINT"):
        reverie.model("azure:dep", api_key="k")


def test_base_url_argument_wins_over_the_string() -> None:
    requests: list[httpx2.Request] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return httpx2.Response(200, json=_chat_completion("hi"))

    client = httpx2.Client(transport=httpx2.MockTransport(answer))
    built = reverie.model(
        "openaicompat:llama3@http://ignored.invalid/v1", base_url="http://127.0.0.1:9/v1", http_client=client
    )
    response = built.generate(reverie.Call(prompt=[reverie.Message.user("hi")]))
    assert [part.text for part in response.content if isinstance(part, reverie.TextPart)] == ["hi"]
    assert str(requests[0].url) == "http://127.0.0.1:9/v1/chat/completions"
    assert json.loads(requests[0].content)["model"] == "llama3"


def test_models_from_the_environment_share_one_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o")
    first, second = reverie.model("openai:gpt-4o"), reverie.model("openai:gpt-4o-mini")
    assert first._host is second._host  # one connection pool
    keyed = reverie.model("openai:gpt-4o", api_key="sk-other")
    assert keyed._host is not first._host


def test_agent_accepts_a_model_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o")
    agent = Agent("openai:gpt-4o")
    assert (agent.model.provider, agent.model.model_id) == ("openai", "gpt-4o")
    with pytest.raises(UserError, match="unknown provider"):
        Agent("nope:model")


def test_the_key_stays_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    built = reverie.model("openai:gpt-4o", api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(built)
    assert "sk-very-secret" not in repr(vars(built))


def _chat_completion(text: str) -> dict[str, object]:
    return chat_completion(text, response_id="c1", model="llama3")

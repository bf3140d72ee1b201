"""The Vertex AI provider: codec choice, URLs, bodies, auth forms and the ADC fallback."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx2
import pytest

from reverie import Call, Message, MissingAPIKeyError, ToolCallPart, ToolResultPart, UserError
from reverie._http.auth import HeaderAuth, TokenAuth
from reverie.providers import vertex
from reverie.providers.vertex._auth import GoogleCredentialsAuth, application_default_credentials
from tests.unit.test_bedrock import block_import

PROJECT = "my-project"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GOOGLE_CLOUD_PROJECT", "GOOGLE_CLOUD_LOCATION"):
        monkeypatch.delenv(name, raising=False)


def call() -> Call:
    return Call(prompt=[Message.system("Be brief"), Message.user("hi")], max_output_tokens=10)


def test_gemini_ids_speak_gemini_under_v1beta1() -> None:
    provider = vertex.Provider(project=PROJECT, location="us-east5", access_token="t")
    model = provider.language_model("gemini-2.5-flash")
    assert model.provider == "vertex" and model.object_mode == "json"
    base = "https://us-east5-aiplatform.googleapis.com/v1beta1/projects/my-project/locations/us-east5"
    prepared = model.prepare(call(), stream=True)
    assert prepared.url == f"{base}/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert prepared.headers["authorization"] == "Bearer t"
    assert model.prepare(call(), stream=False).url.endswith("/models/gemini-2.5-flash:generateContent")


def test_claude_ids_speak_anthropic_at_raw_predict() -> None:
    provider = vertex.Provider(project=PROJECT, location="us-east5", access_token="t")
    model = provider.language_model("claude-3-7-sonnet@20250219")
    assert model.provider == "vertex" and model.object_mode == "tool"
    base = "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5"
    streamed = model.codec.build_request(call(), stream=True)
    prepared = model.prepare(call(), stream=True)
    assert prepared.url == f"{base}/publishers/anthropic/models/claude-3-7-sonnet@20250219:streamRawPredict"
    assert streamed.body["stream"] is True and "model" not in streamed.body
    assert streamed.body["anthropic_version"] == "vertex-2023-10-16"
    assert model.prepare(call(), stream=False).url.endswith(":rawPredict")


def test_the_global_location_has_no_regional_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "env-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "global")
    provider = vertex.Provider(access_token="t")
    assert (provider.project, provider.location) == ("env-project", "global")
    url = provider.language_model("gemini-2.5-flash").prepare(call(), stream=False).url
    assert url.startswith("https://aiplatform.googleapis.com/v1beta1/projects/env-project/locations/global/")


def test_a_project_is_required() -> None:
    with pytest.raises(UserError, match="GOOGLE_CLOUD_PROJECT"):
        vertex.Provider(access_token="t")


def test_gemini_function_call_ids_are_not_sent() -> None:
    conversation = [
        Message.user("weather?"),
        Message(role="assistant", content=[ToolCallPart(tool_call_id="1", tool_name="weather", input="{}")]),
        Message(role="tool", content=[ToolResultPart(tool_call_id="1", tool_name="weather", output="40 C")]),
    ]
    codec = vertex.VertexGeminiCodec("gemini-2.5-flash", project=PROJECT, location="us-east5")
    contents = codec.build_request(Call(prompt=conversation), stream=False).body["contents"]
    assert contents[1]["parts"] == [{"functionCall": {"name": "weather", "args": {}}}]
    assert contents[2]["parts"] == [{"functionResponse": {"name": "weather", "response": {"result": "40 C"}}}]


def test_auth_forms_in_order() -> None:
    def fetch() -> str:
        return "t"

    def auth(**options: Any) -> Any:
        return vertex.Provider(project=PROJECT, **options)._shared_auth()

    assert isinstance(auth(access_token="t"), HeaderAuth)
    assert isinstance(auth(access_token=fetch), TokenAuth)
    assert isinstance(auth(credentials=object()), GoogleCredentialsAuth)
    assert isinstance(auth(), GoogleCredentialsAuth)  # Application Default Credentials


def test_without_google_auth_no_credentials_is_a_missing_key_error_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    block_import(monkeypatch, "google.auth")
    with pytest.raises(MissingAPIKeyError, match=r'pip install "reverie\[vertex\]"'):
        vertex.Provider(project=PROJECT)
    with pytest.raises(MissingAPIKeyError, match=r'pip install "reverie\[vertex\]"'):
        application_default_credentials()
    vertex.Provider(project=PROJECT, access_token="t")  # a token needs no extra


def test_no_application_default_credentials_is_a_missing_key_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    with pytest.raises(MissingAPIKeyError, match="Application Default Credentials"):
        application_default_credentials()


class Clock:
    def __init__(self) -> None:
        self.now = 0.0


class FakeCredentials:
    """Like google-auth's: ``valid`` until ``expiry``; ``refresh`` records the thread it ran on."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.token: str | None = None
        self.expiry = 0.0
        self.threads: list[int] = []

    @property
    def valid(self) -> bool:
        return self.token is not None and self.clock.now < self.expiry

    def refresh(self, request: object) -> None:
        self.threads.append(threading.get_ident())
        self.token = f"token-{len(self.threads)}"
        self.expiry = self.clock.now + 3600


def test_the_async_refresh_runs_off_the_event_loop() -> None:
    credentials = FakeCredentials(Clock())
    auth = GoogleCredentialsAuth(credentials, request_factory=object)
    seen: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("authorization"))
        return httpx2.Response(200)

    async def main() -> int:
        async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler), auth=auth) as client:
            await client.get("https://example.test/")
        return threading.get_ident()

    loop_thread = anyio.run(main)
    assert seen == ["Bearer token-1"]
    assert credentials.threads and loop_thread not in credentials.threads


def test_a_401_refreshes_valid_credentials_once() -> None:
    credentials = FakeCredentials(Clock())
    auth = GoogleCredentialsAuth(credentials, request_factory=object)
    seen: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("authorization"))
        return httpx2.Response(401 if len(seen) == 1 else 200)

    with httpx2.Client(transport=httpx2.MockTransport(handler), auth=auth) as client:
        assert client.get("https://example.test/").status_code == 200
    assert seen == ["Bearer token-1", "Bearer token-2"]


def test_credentials_are_loaded_once_on_first_use() -> None:
    clock = Clock()
    loaded: list[FakeCredentials] = []

    def load() -> FakeCredentials:
        loaded.append(FakeCredentials(clock))
        return loaded[-1]

    auth = GoogleCredentialsAuth(load=load, request_factory=object)

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200)

    with httpx2.Client(transport=httpx2.MockTransport(handler), auth=auth) as client:
        client.get("https://example.test/")
        client.get("https://example.test/")
    assert len(loaded) == 1 and len(loaded[0].threads) == 1

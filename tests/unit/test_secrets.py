"""A canary API key never shows up where a user or a log could see it.

Every provider is given the key ``sk-canary-7f3a9`` and a transport that fails in the usual
ways (401, 500, a stream cut mid-way, a refused connection, an unreadable body). The test
then greps for the key (and for its distinctive tail) in: exception ``str``/``repr``, the
formatted traceback chain, error attributes, ``RetryError`` text, provider/model/agent and
``PreparedRequest`` reprs, the ``repr``/``str``/``vars()`` of providers, models and their auth
objects (static headers, tokens, signers), every log record at DEBUG (reverie, httpx2 and
httpcore2, on a real socket too), a recorded cassette, and the output of ``reverie demo``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    Call,
    InvalidResponseError,
    Message,
    ProviderError,
    RetryError,
    RetryPolicy,
    ReverieError,
    _concurrency,
)
from reverie._cli import main as cli_main
from reverie._http.auth import HeaderAuth, Secret, SigningAuth, Token, TokenAuth
from reverie._provider import Provider
from reverie.testing import Cassette
from tests.faults import FaultServer, cut_stream, status
from tests.wire_answers import anthropic_message, chat_completion, gemini_response

CANARY = "sk-canary-7f3a9"
NEEDLES = (CANARY, "7f3a9")
"""The key, and its tail (a masked key such as ``sk-...7f3a9`` leaks too)."""
ENV_VARS = (
    "OPENROUTER_API_KEY",
    "OPENAI_API_KEY",
    "AI_GATEWAY_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
)
POLICY = RetryPolicy(max_retries=1, initial_delay=0.0)


def _available(kind: str) -> bool:
    try:
        importlib.import_module(f"reverie.providers.{kind}")
    except ImportError:
        return False
    return True


KINDS = [
    kind
    for kind in ("openrouter", "openai", "openaicompat", "vercel", "anthropic", "google")
    if _available(kind)
]
SHAPES = {"anthropic": "anthropic", "google": "gemini"}
SCENARIOS = ["unauthorized", "server_error", "cut_stream", "connect_error", "garbage"]


def make_provider(kind: str, api_key: Any = CANARY, **clients: Any) -> Provider:
    module = importlib.import_module(f"reverie.providers.{kind}")
    base_url = {"openaicompat": "https://compat.example/v1"}.get(kind)
    return module.Provider(api_key=api_key, base_url=base_url, **clients)


def ask(agent: Agent, mode: str) -> None:
    """One call of ``agent`` in ``mode`` (``generate`` or ``stream``), to its end."""
    if mode == "generate":
        agent.generate("hi")
    else:
        agent.stream("hi").result()


def success_body(kind: str) -> dict[str, Any]:
    if kind == "anthropic":
        return anthropic_message()
    if kind == "google":
        return gemini_response()
    return chat_completion()


class Handler:
    """A MockTransport handler for one scenario; it checks that the key was really sent."""

    def __init__(self, scenario: str, kind: str) -> None:
        self.scenario = scenario
        self.kind = kind
        self.keys_seen = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        credentials = [
            request.headers.get(name, "") for name in ("authorization", "x-api-key", "x-goog-api-key")
        ]
        self.keys_seen += any(CANARY in value for value in credentials)
        if self.scenario == "unauthorized":
            return httpx2.Response(401, json={"error": {"message": "Invalid credentials", "code": 401}})
        if self.scenario == "server_error":
            return httpx2.Response(500, json={"error": {"message": "Internal error", "code": 500}})
        if self.scenario == "connect_error":
            raise httpx2.ConnectError("connection refused", request=request)
        if self.scenario == "garbage":
            return httpx2.Response(200, headers={"content-type": "application/json"}, content=b"{not json")
        if self.scenario == "success":
            return httpx2.Response(200, json=success_body(self.kind))
        stream = json.loads(request.content).get("stream") or "streamGenerateContent" in request.url.path
        if not stream:  # a cut JSON body: announced longer than what arrives
            return httpx2.Response(200, headers={"content-type": "application/json"}, content=cut_body())
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=cut_body())


def cut_body() -> Iterator[bytes]:
    yield b"data: {}\n\n"
    raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")


def texts_of(error: BaseException) -> list[str]:
    """Every text a user may print or log about ``error``."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    errors: list[BaseException] = [error]
    if isinstance(error, RetryError):
        errors.extend(error.errors)
    for item in errors:
        texts += [str(item), repr(item), repr(vars(item))]
        if isinstance(item, ReverieError):
            texts.append(repr(item.partial_step))
    return texts


def assert_clean(*texts: str) -> None:
    for text in texts:
        for needle in NEEDLES:
            assert needle not in text, (
                f"the API key leaked: ...{text[max(0, text.find(needle) - 80) :][:200]}"
            )


def assert_clean_logs(caplog: pytest.LogCaptureFixture) -> None:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        assert_clean(formatter.format(record), repr(record.args), repr(getattr(record, "__dict__", {})))


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("reverie", "httpx2", "httpcore2", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    monkeypatch.setattr(_concurrency, "sleep", lambda seconds: None)
    return caplog


# --- errors, reprs and logs ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["generate", "stream"])
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("kind", KINDS)
def test_errors_and_reprs_never_show_the_key(
    kind: str, scenario: str, mode: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    handler = Handler(scenario, kind)
    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        provider = make_provider(kind, http_client=client)
        model = provider.language_model("some-model")
        agent = Agent(model, retry=POLICY)
        with pytest.raises(ReverieError) as info:
            ask(agent, mode)
    assert handler.keys_seen >= 1, "the key was not sent: the test would prove nothing"
    error = info.value
    expected = {
        "unauthorized": ProviderError,
        "server_error": RetryError,
        "cut_stream": RetryError,
        "connect_error": RetryError,
        "garbage": (InvalidResponseError, ProviderError),  # a JSON answer to a stream is an error report
    }[scenario]
    assert isinstance(error, expected)
    call = Call(prompt=[Message.user("hi")], headers={"x-extra": "1"})
    prepared = [model.prepare(call, stream=stream) for stream in (False, True)]
    assert any(CANARY in value for value in prepared[0].headers.values())  # it is in there...
    assert_clean(  # ...but never in what a user sees
        *texts_of(error),
        repr(provider),
        str(provider),
        repr(model),
        repr(agent),
        *(repr(request) for request in prepared),
    )
    assert_clean_logs(debug_logs)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", KINDS)
async def test_async_errors_never_show_the_key(kind: str, debug_logs: pytest.LogCaptureFixture) -> None:
    handler = Handler("unauthorized", kind)
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        agent = Agent(make_provider(kind, async_http_client=client).language_model("m"), retry=POLICY)
        with pytest.raises(ProviderError) as info:
            await agent.stream_async("hi").result()
    assert handler.keys_seen == 1
    assert_clean(*texts_of(info.value))
    assert_clean_logs(debug_logs)


@pytest.mark.parametrize("kind", ["openaicompat", *(kind for kind in KINDS if kind in SHAPES)])
def test_real_sockets_and_their_debug_logs_never_show_the_key(
    kind: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    with FaultServer() as server, httpx2.Client(timeout=5.0) as client:
        base_url = server.url + {"google": "/v1beta"}.get(kind, "/v1")
        module = importlib.import_module(f"reverie.providers.{kind}")
        agent = Agent(
            module.Provider(api_key=CANARY, base_url=base_url, http_client=client).language_model("m")
        )
        server.script([status(401)])
        with pytest.raises(ProviderError) as unauthorized:
            agent.generate("hi")
        server.script([cut_stream()])
        with pytest.raises(ProviderError) as cut:
            Agent(agent.model, retry=RetryPolicy(max_retries=0)).stream("hi").result()
        requests = server.requests
    assert any(CANARY in value for value in requests[0].headers.values())
    assert_clean(*texts_of(unauthorized.value), *texts_of(cut.value))
    assert any(record.name.startswith("httpcore2") for record in debug_logs.records), "no DEBUG logs captured"
    assert_clean_logs(debug_logs)


# --- auth objects and models ------------------------------------------------------------------


def views_of(value: object) -> list[str]:
    """``repr``, ``str`` and ``vars()`` (when it has one) of ``value``."""
    texts = [repr(value), str(value)]
    with contextlib.suppress(TypeError):  # slotted: nothing to show
        texts.append(repr(vars(value)))
    return texts


@pytest.mark.parametrize("kind", KINDS)
def test_providers_models_and_their_auth_never_show_the_key(kind: str) -> None:
    provider = make_provider(kind)
    model = provider.language_model("some-model")
    auth = model._auth
    assert isinstance(auth, HeaderAuth)
    assert provider.auth() is not None
    prepared = model.prepare(Call(prompt=[Message.user("hi")]), stream=True)
    assert any(CANARY in value for value in prepared.headers.values())  # the key is really there
    assert_clean(
        *views_of(provider),
        *views_of(model),
        *views_of(auth),
        *views_of(provider.auth()),
        *views_of(provider._api_key),
        repr(prepared),
    )


@pytest.mark.parametrize("mode", ["generate", "stream"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_key_from_a_callable_never_shows(
    kind: str, mode: str, debug_logs: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def key() -> str:
        calls.append(1)
        return CANARY

    handler = Handler("unauthorized", kind)
    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        provider = make_provider(kind, key, http_client=client)
        model = provider.language_model("some-model")
        agent = Agent(model, retry=POLICY)
        with pytest.raises(ProviderError) as info:
            ask(agent, mode)
    assert handler.keys_seen == 2 and len(calls) == 2  # sent, refused, fetched again, refused
    assert_clean(
        *texts_of(info.value),
        *views_of(provider),
        *views_of(model),
        *views_of(model._auth),
        *views_of(provider._api_key_source),
        repr(model.prepare(Call(prompt=[Message.user("hi")]), stream=False)),
    )
    assert_clean_logs(debug_logs)


def test_the_secret_holder_hides_its_value() -> None:
    secret = Secret(CANARY)
    assert secret.reveal() == CANARY
    assert_clean(*views_of(secret))
    with pytest.raises(TypeError):
        vars(secret)


def test_token_auth_never_shows_the_token(debug_logs: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        assert request.headers["authorization"] == f"Bearer {CANARY}"
        return httpx2.Response(401, json={"error": {"message": "Invalid credentials", "code": 401}})

    auth = TokenAuth(lambda: Token(CANARY, expires_at=4_000_000_000.0))
    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:

        class Vertexish(Provider):
            name = "vertexish"
            default_base_url = "https://vertex.example/v1"
            codec_type = importlib.import_module("reverie.providers.openaicompat").Codec

            def auth(self) -> httpx2.Auth | None:
                return auth

        model = Vertexish(http_client=client).language_model("m")
        with pytest.raises(ProviderError) as info:
            Agent(model, retry=POLICY).generate("hi")
    assert info.value.status_code == 401
    prepared = model.prepare(Call(prompt=[Message.user("hi")]), stream=False)
    assert_clean(
        *texts_of(info.value),
        *views_of(auth),
        *views_of(model),
        *views_of(Token(CANARY)),
        repr(prepared),
        repr(prepared.headers),  # a token is added on sending only, never prepared
    )
    assert_clean_logs(debug_logs)


def test_signing_auth_never_shows_what_its_signer_holds() -> None:
    key = CANARY

    def sign(request: httpx2.Request) -> None:
        request.headers["authorization"] = f"signed-with-{key}"

    assert_clean(*views_of(SigningAuth(sign)))


# --- recordings and the demo ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_recorded_cassettes_never_hold_the_key(
    kind: str, tmp_path: Path, debug_logs: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / f"{kind}.yaml"
    success, unauthorized = Handler("success", kind), Handler("unauthorized", kind)
    handlers: list[Callable[[httpx2.Request], httpx2.Response]] = [success, unauthorized]
    cassette = Cassette(
        path, mode="record", real_transport=httpx2.MockTransport(lambda r: handlers.pop(0)(r))
    )
    with httpx2.Client(transport=cassette) as client:
        agent = Agent(make_provider(kind, http_client=client).language_model("m"), retry=POLICY)
        assert agent.generate("hi").text == "hi"
        with pytest.raises(ProviderError):
            agent.generate("hi again")
    cassette.save()
    assert success.keys_seen == unauthorized.keys_seen == 1
    text = path.read_text(encoding="utf-8")
    assert "hi again" in text and "Invalid credentials" in text  # both exchanges were recorded
    assert_clean(text, repr(cassette))
    assert_clean_logs(debug_logs)


def test_demo_output_never_shows_the_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    for name in ENV_VARS:
        monkeypatch.setenv(name, CANARY)
    assert cli_main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert "Weather agent" in out and "Streamed greeting" in out
    assert_clean(out, err)
    assert_clean_logs(debug_logs)


# --- keys echoed, URL credentials, keys in bodies ------------------------------------------------


def test_a_key_echoed_by_the_server_is_redacted_from_the_error(debug_logs: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        message = f"Incorrect API key provided: {CANARY}. You can find your key at ..."
        return httpx2.Response(400, json={"error": {"message": message, "code": "invalid_api_key"}})

    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        model = make_provider("openaicompat", http_client=client).language_model("m")
        with pytest.raises(ProviderError) as info:
            Agent(model, retry=POLICY).generate("hi")
    error = info.value
    assert error.status_code == 400
    assert "Incorrect API key provided" in str(error)  # the message is kept, the key is not
    assert error.response_body is not None and "Incorrect API key" in error.response_body
    assert_clean(*texts_of(error), repr(error.response_body), repr(error.request_body))
    assert_clean_logs(debug_logs)


def test_a_password_in_the_base_url_is_masked_everywhere(debug_logs: pytest.LogCaptureFixture) -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(401, json={"error": {"message": "Invalid credentials", "code": 401}})

    module = importlib.import_module("reverie.providers.openaicompat")
    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        provider = module.Provider(
            base_url=f"https://proxy-user:{CANARY}@gateway.example/v1", http_client=client
        )
        model = provider.language_model("m")
        with pytest.raises(ProviderError) as info:
            Agent(model, retry=POLICY).generate("hi")
    request = seen[0]
    assert request.url.host == "gateway.example" and not request.url.userinfo
    assert request.headers["authorization"].startswith("Basic ")  # the credentials are still sent
    assert "proxy-user" in httpx2_basic_user(request.headers["authorization"])
    assert provider.base_url == "https://gateway.example/v1"
    assert_clean(
        *texts_of(info.value), *views_of(provider), *views_of(model), *views_of(provider.auth() or "")
    )
    assert any(record.name.startswith("httpx2") for record in debug_logs.records)  # its INFO line
    assert_clean_logs(debug_logs)


def httpx2_basic_user(header: str) -> str:
    import base64

    return base64.b64decode(header.split(" ", 1)[1]).decode()


def test_url_credentials_and_an_api_key_both_travel() -> None:
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(200, json=success_body("anthropic"))

    module = importlib.import_module("reverie.providers.anthropic")
    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        provider = module.Provider(
            api_key="sk-other", base_url="https://u:p@gateway.example/v1", http_client=client
        )
        assert Agent(provider.language_model("m")).generate("hi").text == "hi"
    assert seen[0].headers["x-api-key"] == "sk-other"
    assert httpx2_basic_user(seen[0].headers["authorization"]) == "u:p"


def test_recording_scrubs_known_keys_from_urls_headers_and_both_bodies(tmp_path: Path) -> None:
    module = importlib.import_module("reverie.providers.openaicompat")

    class KeyInQuery(module.Provider):
        def endpoint(self, model_id: str, request: Any, *, stream: bool) -> Any:
            endpoint = super().endpoint(model_id, request, stream=stream)
            return type(endpoint)(endpoint.url + f"?auth={CANARY}", endpoint.headers)

    def handler(request: httpx2.Request) -> httpx2.Response:
        assert CANARY in request.url.query.decode() and CANARY in request.content.decode()
        body = success_body("openaicompat")
        body["choices"][0]["message"]["content"] = f"you said {CANARY}"
        return httpx2.Response(200, json=body, headers={"x-echo": CANARY})

    path = tmp_path / "echo.yaml"
    cassette = Cassette(path, mode="record", real_transport=httpx2.MockTransport(handler))
    with httpx2.Client(transport=cassette) as client:
        provider = KeyInQuery(api_key=CANARY, base_url="https://compat.example/v1", http_client=client)
        agent = Agent(provider.language_model("m"), retry=POLICY)
        assert CANARY in agent.generate(f"my key is {CANARY}").text  # the live answer is untouched
    cassette.save()
    text = path.read_text(encoding="utf-8")
    assert "my key is" in text and "you said" in text
    assert_clean(text, repr(cassette))


def test_a_recording_with_a_redacted_key_replays(tmp_path: Path) -> None:
    path = tmp_path / "body.yaml"
    recorder = Cassette(
        path, mode="record", real_transport=httpx2.MockTransport(Handler("success", "openai"))
    )
    prompt = f"my key is {CANARY}"
    with httpx2.Client(transport=recorder) as client:
        Agent(make_provider("openaicompat", http_client=client).language_model("m")).generate(prompt)
    recorder.save()
    with Cassette(path) as replay, httpx2.Client(transport=replay) as client:
        agent = Agent(make_provider("openaicompat", http_client=client).language_model("m"))
        assert agent.generate(prompt).text == "hi"


def test_redaction_hides_known_values_and_url_passwords_only() -> None:
    from reverie._secrets import known_secrets, redact, redact_bytes, register_secret

    register_secret("provider")  # reads like a word: never redacted
    register_secret("short-1")
    register_secret("zz-unit-test-secret-42")
    assert "provider" not in known_secrets() and "short-1" not in known_secrets()
    assert redact("a provider said zz-unit-test-secret-42!") == "a provider said ***!"
    assert redact_bytes(b"\x00zz-unit-test-secret-42\xff") == b"\x00***\xff"
    assert redact("see https://ann:pw@host/x and ftp://tok@h") == "see https://ann:***@host/x and ftp://***@h"
    assert redact("mail ann@example.com") == "mail ann@example.com"

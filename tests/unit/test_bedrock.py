"""The Bedrock provider: its codec, its configuration, its credentials and its import cost."""

from __future__ import annotations

import base64
import builtins
import json
import subprocess
import sys
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from reverie import Call, Message, MissingAPIKeyError, ProviderError, UserError
from reverie._http.eventstream import EventStreamDecoder
from reverie._parts import ModelStreamPart
from reverie.providers import bedrock
from reverie.providers.bedrock._auth import DefaultChain, SigV4Auth
from tests.conftest import CASSETTES_V041
from tests.eventstream_frames import event, exception

MODEL = "us.anthropic.claude-haiku-4-5-20251001-v1:0"
CREDENTIALS = bedrock.AWSCredentials(access_key_id="AKIDEXAMPLE", secret_access_key="secret")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_BEARER_TOKEN_BEDROCK", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


def call(**settings: Any) -> Call:
    return Call(prompt=[Message.system("Be brief"), Message.user("hi")], **settings)


def test_the_body_drops_model_and_stream_and_names_the_bedrock_version() -> None:
    codec = bedrock.Codec(MODEL)
    for stream, action in ((False, "invoke"), (True, "invoke-with-response-stream")):
        request = codec.build_request(call(max_output_tokens=10), stream=stream)
        assert request.path == f"/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/{action}"
        assert "model" not in request.body and "stream" not in request.body
        assert request.body["anthropic_version"] == "bedrock-2023-05-31"
        assert request.body["max_tokens"] == 10


def test_urls_follow_the_region_and_the_model_speaks_as_bedrock() -> None:
    provider = bedrock.Provider(region="eu-west-3", api_key="k")
    model = provider.language_model(MODEL)
    assert model.provider == "bedrock"
    prepared = model.prepare(call(), stream=True)
    assert prepared.url == (
        "https://bedrock-runtime.eu-west-3.amazonaws.com/model/"
        "us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke-with-response-stream"
    )
    assert prepared.headers["accept"] == "application/vnd.amazon.eventstream"
    assert prepared.headers["authorization"] == "Bearer k"


def test_the_region_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert bedrock.Provider(api_key="k").region == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert bedrock.Provider(api_key="k").region == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert bedrock.Provider(api_key="k").region == "ap-south-1"


def test_the_bearer_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "from-env")
    prepared = bedrock.Provider().language_model(MODEL).prepare(call(), stream=False)
    assert prepared.headers["authorization"] == "Bearer from-env"


def test_credentials_sign_with_sigv4_after_the_bearer_token_in_the_documented_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = bedrock.Provider(credentials=CREDENTIALS)._shared_auth()
    assert isinstance(auth, SigV4Auth)
    assert "secret" not in repr(CREDENTIALS)
    # First found: api_key or AWS_BEARER_TOKEN_BEDROCK, then credentials, then the chain.
    with_key = bedrock.Provider(api_key="k", credentials=CREDENTIALS)._shared_auth()
    assert not isinstance(with_key, SigV4Auth)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "from-env")
    from_env = bedrock.Provider(credentials=CREDENTIALS)._shared_auth()
    assert not isinstance(from_env, SigV4Auth)


def test_without_credentials_the_default_chain_is_used() -> None:
    auth = bedrock.Provider()._shared_auth()
    assert isinstance(auth, SigV4Auth)
    assert isinstance(auth._source, DefaultChain)


def test_the_default_chain_reads_the_environment_through_botocore(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDCHAIN")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "chain-secret")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "chain-token")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    found = DefaultChain()()
    assert found == bedrock.AWSCredentials("AKIDCHAIN", "chain-secret", "chain-token")


def block_import(monkeypatch: pytest.MonkeyPatch, blocked: str) -> None:
    """Make ``import blocked`` (and its submodules) fail, as if the extra were not installed."""
    real_import = builtins.__import__

    def guarded(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == blocked or name.startswith(blocked + "."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", guarded)
    for module in [name for name in sys.modules if name == blocked or name.startswith(blocked + ".")]:
        monkeypatch.delitem(sys.modules, module)
    monkeypatch.setitem(sys.modules, blocked, None)  # find_spec and import both see it missing


def test_without_botocore_no_credentials_is_a_missing_key_error_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    block_import(monkeypatch, "botocore")
    with pytest.raises(MissingAPIKeyError) as info:
        bedrock.Provider()
    message = str(info.value)
    assert 'pip install "reverie[bedrock]"' in message
    assert "AWS_BEARER_TOKEN_BEDROCK" in message and "credentials=" in message
    with pytest.raises(MissingAPIKeyError, match=r'pip install "reverie\[bedrock\]"'):
        DefaultChain()()
    bedrock.Provider(api_key="k")  # explicit credentials need no extra
    bedrock.Provider(credentials=CREDENTIALS)


def test_importing_the_cloud_providers_loads_no_cloud_sdk() -> None:
    code = (
        "import json, sys; import reverie.providers.bedrock, reverie.providers.vertex; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules: list[str] = json.loads(completed.stdout)
    loaded = [name for name in modules if name.split(".")[0] in ("botocore", "boto3", "requests")]
    assert loaded == []
    assert [name for name in modules if name.startswith("google.auth")] == []
    assert [name for name in modules if name.split(".")[0] in ("pydantic", "yaml", "asyncio")] == []


@pytest.mark.parametrize("name", ["bedrock", "vertex"])
def test_cloud_provider_exports_are_sorted_and_exist(name: str) -> None:
    import importlib

    module = importlib.import_module(f"reverie.providers.{name}")
    exported: list[str] = module.__all__
    assert exported == sorted(exported, key=lambda item: (not item.isupper(), not item[:1].isupper(), item))
    assert [item for item in exported if not hasattr(module, item)] == []
    assert module.Provider.name == name


# --------------------------------------------------------------------------- streams


def chunk(payload: dict[str, Any]) -> bytes:
    encoded = base64.b64encode(json.dumps(payload).encode()).decode()
    return event("chunk", json.dumps({"bytes": encoded, "p": "abc"}).encode())


def decode(data: bytes, splits: list[int] | None = None) -> list[ModelStreamPart]:
    frames = EventStreamDecoder()
    decoder = bedrock.Codec(MODEL).stream_decoder()
    parts: list[ModelStreamPart] = []
    cuts = [*sorted(set(splits or [])), len(data)]
    start = 0
    for cut in cuts:
        for item in frames.feed(data[start:cut]):
            parts.extend(decoder.feed(item))
        start = cut
    for item in frames.end():
        parts.extend(decoder.feed(item))
    parts.extend(decoder.end())
    return parts


STREAM_START = chunk(
    {"type": "message_start", "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 3}}}
)
STREAM = b"".join(
    [
        STREAM_START,
        chunk({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        chunk({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Olá"}}),
        chunk({"type": "content_block_stop", "index": 0}),
        chunk({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}),
        chunk({"type": "message_stop"}),
    ]
)


def test_chunks_unwrap_to_anthropic_events() -> None:
    parts = decode(STREAM)
    assert "".join(getattr(part, "delta", "") for part in parts if part.type == "text_delta") == "Olá"
    finish = parts[-1]
    assert finish.type == "finish" and finish.finish_reason == "stop"


def test_a_stream_exception_maps_to_a_retryable_or_final_error() -> None:
    with pytest.raises(ProviderError) as info:
        decode(STREAM_START + exception("throttlingException", "slow down"))
    assert info.value.is_retryable
    assert "throttlingException: slow down" in str(info.value)
    with pytest.raises(ProviderError) as final:
        decode(exception("validationException", "bad input"))
    assert not final.value.is_retryable


@pytest.mark.parametrize("bad", [{"bytes": "not base64!"}, {"nothing": 1}, ["list"]])
def test_a_malformed_chunk_is_an_invalid_response(bad: object) -> None:
    from reverie import InvalidResponseError

    with pytest.raises(InvalidResponseError):
        decode(event("chunk", json.dumps(bad).encode()))


def test_bedrock_error_bodies_give_their_message_and_type() -> None:
    error = bedrock.Codec(MODEL).parse_error(
        429,
        {"x-amzn-errortype": "ThrottlingException:http://internal"},
        '{"message":"Too many requests"}',
        "u",
    )
    assert "ThrottlingException: Too many requests" in str(error)
    assert error.is_retryable
    final = bedrock.Codec(MODEL).parse_error(400, {}, '{"message":"bad"}', "u")
    assert not final.is_retryable


def test_an_async_credentials_callable_from_the_sync_api_is_a_user_error() -> None:
    async def fetch() -> bedrock.AWSCredentials:
        return CREDENTIALS

    import httpx2

    def handler(request: httpx2.Request) -> httpx2.Response:
        raise AssertionError("nothing is sent")

    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        model = bedrock.Provider(credentials=fetch, http_client=client).language_model(MODEL)
        with pytest.raises(UserError, match="async"):
            model.generate(call())


RECORDED = (
    CASSETTES_V041 / "TestBedrockCommon" / "bedrock-anthropic-claude-sonnet-4-5" / "tool_streaming.yaml"
)


def recorded_stream() -> bytes:
    if not RECORDED.exists():
        pytest.skip(f"the v0.41.2 recordings are absent ({RECORDED})")
    document: Any = yaml.safe_load(RECORDED.read_text())
    body = document["interactions"][0]["response"]["body"]
    assert isinstance(body, bytes)
    return body


@settings(max_examples=60, deadline=None)
@given(cuts=st.lists(st.floats(min_value=0, max_value=1), max_size=12))
def test_any_split_of_a_recorded_stream_gives_the_same_parts(cuts: list[float]) -> None:
    data = recorded_stream()
    expected = decode(data)
    assert any(part.type == "tool_call" for part in expected)
    assert decode(data, [int(cut * len(data)) for cut in cuts]) == expected

"""Tests for reverie.testing.cassette and its pytest plugin."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from reverie.testing.cassette import Cassette, CassetteError, Interaction
from tests.conftest import CASSETTES

pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = sorted(FIXTURES.glob("*.yaml"))
GROQ_SIMPLE = FIXTURES / "openrouter-kimi-k2-groq-simple.yaml"  # 429 then 200
GROQ_STREAMING = FIXTURES / "openrouter-kimi-k2-groq-simple_streaming.yaml"  # "Olá" split in deltas
SILICONFLOW_TOOL = FIXTURES / "openrouter-kimi-k2-siliconflow-tool.yaml"
URL = "https://openrouter.ai/api/v1/chat/completions"
# Inner pytest runs: block the (possibly installed) entry point and load the module explicitly.
PLUGIN_ARGS = ("-p", "no:reverie", "-p", "reverie.testing.pytest_plugin", "--strict-markers")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def write_cassette(path: Path, interactions: list[dict[str, Any]]) -> Path:
    """Write a minimal go-vcr v2 cassette; each dict has method/url/body and optional response."""
    entries: list[dict[str, Any]] = [
        {
            "id": index,
            "request": {"body": item["body"], "headers": {}, "url": item["url"], "method": item["method"]},
            "response": {
                "body": item.get("response", "ok"),
                "headers": {"Content-Type": [item.get("content_type", "text/plain")]},
                "status": "200 OK",
                "code": item.get("code", 200),
                "duration": "1ms",
            },
        }
        for index, item in enumerate(interactions)
    ]
    path.write_text(yaml.safe_dump({"version": 2, "interactions": entries}), encoding="utf-8")
    return path


def one(tmp_path: Path, body: str, url: str = URL, method: str = "POST") -> Cassette:
    return Cassette(write_cassette(tmp_path / "c.yaml", [{"method": method, "url": url, "body": body}]))


def post(cassette: Cassette, body: str | bytes, url: str = URL) -> httpx2.Response:
    content = body.encode() if isinstance(body, str) else body
    return httpx2.Client(transport=cassette).post(url, content=content)


# --------------------------------------------------------------------------- loading


def test_load_parses_go_vcr_v2() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    assert [i.id for i in cassette.interactions] == [0, 1]
    first = cassette.interactions[0]
    assert isinstance(first, Interaction)
    assert first.method == "POST"
    assert first.url == URL
    assert json.loads(first.request_body)["model"] == "moonshotai/kimi-k2-0905"
    assert first.request_headers["User-Agent"] == ["OpenAI/Go 2.3.0"]
    assert first.status_code == 429
    assert first.response_headers == {"Content-Type": ["application/json"]}
    assert cassette.interactions[1].status_code == 200
    assert cassette.used == []
    assert cassette.requests == []
    with pytest.raises(AttributeError):
        first.id = 5  # type: ignore[misc]  # frozen


def test_missing_or_broken_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(CassetteError, match=r"nope\.yaml"):
        Cassette.load(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(CassetteError, match=r"broken\.yaml.*not a go-vcr"):
        Cassette.load(broken)


def test_invalid_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        Cassette(GROQ_SIMPLE, chunk_size=0)
    with pytest.raises(ValueError, match="mode"):
        Cassette(GROQ_SIMPLE, mode="rewind")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- replaying the seeds


@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
def test_seed_replays_sync(seed: Path) -> None:
    cassette = Cassette.load(seed)
    with httpx2.Client(transport=cassette) as client:
        for interaction in cassette.interactions:
            response = client.request(interaction.method, interaction.url, content=interaction.request_body)
            assert response.status_code == interaction.status_code
            assert response.text == interaction.response_body
            assert response.headers["content-type"] == interaction.response_headers["Content-Type"][0]
    # leaving the client's `with` ran assert_all_used() on the cassette already
    assert cassette.used == [i.id for i in cassette.interactions]
    assert len(cassette.requests) == len(cassette.interactions)
    cassette.assert_all_used()


@pytest.mark.anyio
@pytest.mark.parametrize("seed", SEEDS, ids=[p.stem for p in SEEDS])
async def test_seed_replays_async(seed: Path) -> None:
    cassette = Cassette.load(seed)
    async with httpx2.AsyncClient(transport=cassette) as client:
        for interaction in cassette.interactions:
            response = await client.request(
                interaction.method, interaction.url, content=interaction.request_body
            )
            assert response.status_code == interaction.status_code
            assert response.text == interaction.response_body
            assert response.headers["content-type"] == interaction.response_headers["Content-Type"][0]
    assert cassette.used == [i.id for i in cassette.interactions]
    cassette.assert_all_used()


@pytest.mark.skipif(not CASSETTES.is_dir(), reason=f"the shared cassette corpus is absent ({CASSETTES})")
def test_every_shared_cassette_replays_its_own_requests() -> None:
    files = sorted(CASSETTES.rglob("*.yaml"))
    assert files
    for path in files:
        cassette = Cassette.load(path, chunk_size=None)
        client = httpx2.Client(transport=cassette)
        for interaction in cassette.interactions:
            response = client.request(interaction.method, interaction.url, content=interaction.request_body)
            assert response.content == interaction.response_body.encode(), path
        cassette.assert_all_used()


# --------------------------------------------------------------------------- body matching


def test_reordered_json_keys_match() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    recorded = json.loads(cassette.interactions[0].request_body)
    reordered = json.dumps(dict(reversed(list(recorded.items()))), indent=2)
    assert reordered != cassette.interactions[0].request_body
    assert post(cassette, reordered).status_code == 429
    # httpx2's own json= serialisation (spaces after separators) matches too
    assert httpx2.Client(transport=cassette).post(URL, json=recorded).status_code == 200
    cassette.assert_all_used()


def test_float_equals_int_by_value() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    body = json.loads(cassette.interactions[0].request_body)
    body["max_tokens"] = 4000.0
    assert '"max_tokens": 4000.0' in json.dumps(body)
    assert post(cassette, json.dumps(body)).status_code == 429


def test_true_never_equals_one() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    body = json.loads(cassette.interactions[0].request_body)
    body["usage"]["include"] = 1  # recorded: true
    with pytest.raises(CassetteError, match=r"\$\.usage\.include: recorded true, sent 1"):
        post(cassette, json.dumps(body))


@pytest.mark.parametrize(
    ("recorded", "sent", "matches"),
    [
        ('{"a": 1}', '{"a": true}', False),
        ('{"a": 0}', '{"a": false}', False),
        ('{"a": false}', '{"a": false}', True),
        ('{"a": [1, 2]}', '{"a": [2, 1]}', False),
        ('{"a": [1, 2]}', '{"a": [1.0, 2e0]}', True),
        ('{"a": "1"}', '{"a": 1}', False),
        ('{"a": null}', '{"a": 0}', False),
        ('{"a": {}}', '{"a": []}', False),
        ('{"a": 1}', '{"a": 1, "b": 2}', False),
        ('{"s": "x\\r\\ny"}', '{"s": "x\\ny"}', True),  # escaped CRLF inside a JSON string
        ('{"s": "x\\ny"}', '{"s": "x\\r\\ny"}', True),
        ('{"a": 1}\r\n', '{"a": 1}\n', True),  # raw CRLF
        ('{"a": 1}\n', '{"a": 1}', True),  # trailing newline (go's json.Encoder) is not JSON content
        ("line one\r\nline two", "line one\nline two", True),  # non-JSON bodies: normalised text only
        ("plain", "plain ", False),
        ("", "", True),
        ("", "{}", False),
    ],
)
def test_body_rules(tmp_path: Path, recorded: str, sent: str, matches: bool) -> None:
    cassette = one(tmp_path, recorded)
    if matches:
        assert post(cassette, sent).text == "ok"
    else:
        with pytest.raises(CassetteError):
            post(cassette, sent)


def test_method_and_full_url_must_be_equal(tmp_path: Path) -> None:
    url = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    cassette = one(tmp_path, "{}", url=url)
    client = httpx2.Client(transport=cassette)
    with pytest.raises(CassetteError, match="no recorded interaction matches POST"):
        client.post(url.replace("?alt=sse", ""), content=b"{}")
    with pytest.raises(CassetteError, match="no recorded interaction matches PUT"):
        client.put(url, content=b"{}")
    with pytest.raises(CassetteError):
        client.post(url.replace("https", "http"), content=b"{}")
    # an API key in the query string is a credential, not part of the request's identity
    assert client.post(url + "&key=secret", content=b"{}").text == "ok"


def test_headers_are_not_compared() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    body = cassette.interactions[0].request_body
    response = httpx2.Client(transport=cassette).post(
        URL, content=body, headers={"Authorization": "Bearer x", "User-Agent": "reverie/0", "X-Extra": "1"}
    )
    assert response.status_code == 429


# --------------------------------------------------------------------------- serving order and errors


def test_each_interaction_served_once_in_recorded_order() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    body = cassette.interactions[0].request_body
    client = httpx2.Client(transport=cassette)
    first = client.post(URL, content=body)
    assert first.status_code == 429
    assert first.json()["error"]["code"] == 429
    second = client.post(URL, content=body)
    assert second.status_code == 200
    assert second.json()["choices"][0]["message"]["content"] == "Olá!"
    assert cassette.used == [0, 1]
    with pytest.raises(CassetteError, match=r"already answered by interaction\(s\) 0, 1"):
        client.post(URL, content=body)
    with pytest.raises(CassetteError, match="matched no recorded interaction"):
        cassette.assert_all_used()


def test_tool_seed_429_on_second_step() -> None:
    cassette = Cassette.load(SILICONFLOW_TOOL)
    client = httpx2.Client(transport=cassette)
    step2 = cassette.interactions[1].request_body
    # the second step is requested first: it is answered by the first unused match (id 1, the 429)
    assert client.post(URL, content=step2).status_code == 429
    assert client.post(URL, content=cassette.interactions[0].request_body).status_code == 200
    response = client.post(URL, content=step2)
    assert response.status_code == 200
    assert response.text.startswith("\n")  # whitespace padding before the JSON is kept
    assert cassette.used == [1, 0, 2]
    cassette.assert_all_used()


def test_unmatched_request_names_url_and_diff(tmp_path: Path) -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    body = json.loads(cassette.interactions[0].request_body)
    body["messages"][1]["content"] = "Say hello"
    with pytest.raises(CassetteError) as excinfo:
        post(cassette, json.dumps(body))
    message = str(excinfo.value)
    assert str(GROQ_SIMPLE) in message
    assert f"POST {URL}" in message
    assert "closest unused candidate: interaction 0" in message
    assert '$.messages[1].content: recorded "Say hi in Portuguese", sent "Say hello"' in message
    assert len(cassette.requests) == 1
    assert cassette.used == []


def test_unmatched_non_json_body_gets_text_hint(tmp_path: Path) -> None:
    cassette = one(tmp_path, "hello world")
    with pytest.raises(CassetteError, match="body text differs at offset 6"):
        post(cassette, "hello there")


def test_unmatched_url_lists_unused_interactions() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    with pytest.raises(CassetteError) as excinfo:
        httpx2.Client(transport=cassette).get("https://example.com/nothing?x=1")
    message = str(excinfo.value)
    assert "GET https://example.com/nothing?x=1" in message
    assert f"0: POST {URL}" in message
    assert f"1: POST {URL}" in message


def test_swallowed_unmatched_request_still_fails_later(tmp_path: Path) -> None:
    cassette = one(tmp_path, '{"a": 1}')
    client = httpx2.Client(transport=cassette)
    with contextlib.suppress(CassetteError):  # e.g. an SDK that catches everything
        client.post(URL, content=b'{"a": 2}')
    assert client.post(URL, content=b'{"a": 1}').text == "ok"
    with pytest.raises(CassetteError, match=r"1 request\(s\) matched no recorded interaction"):
        cassette.assert_all_used()
    with pytest.raises(CassetteError, match=r"\$\.a: recorded 1, sent 2"):
        client.close()
    client.close()  # reported once by close(); assert_all_used() keeps failing
    with pytest.raises(CassetteError):
        cassette.assert_all_used()


def test_unused_interactions_are_detected() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    post(cassette, cassette.interactions[0].request_body)
    with pytest.raises(CassetteError) as excinfo:
        cassette.assert_all_used()
    message = str(excinfo.value)
    assert str(GROQ_SIMPLE) in message
    assert "1 recorded interaction(s) were never used" in message
    assert f"1: POST {URL}" in message
    assert "0: POST" not in message


def test_context_manager_checks_on_success_only() -> None:
    with pytest.raises(CassetteError, match="never used"), Cassette.load(GROQ_SIMPLE):
        pass
    with pytest.raises(KeyError), Cassette.load(GROQ_SIMPLE):  # the test's own error is not masked
        raise KeyError("boom")
    with Cassette.load(GROQ_SIMPLE) as cassette:
        for interaction in cassette.interactions:
            post(cassette, interaction.request_body)


@pytest.mark.anyio
async def test_async_client_context_checks_unused() -> None:
    cassette = Cassette.load(GROQ_SIMPLE)
    with pytest.raises(CassetteError, match="never used"):
        async with httpx2.AsyncClient(transport=cassette) as client:
            await client.post(URL, content=cassette.interactions[0].request_body)


# --------------------------------------------------------------------------- lenient matching


def three_targets(tmp_path: Path) -> Path:
    return write_cassette(
        tmp_path / "three.yaml",
        [
            {"method": "GET", "url": "https://x/a", "body": "", "response": "a"},
            {"method": "POST", "url": "https://x/b", "body": '{"n": 1}', "response": "b"},
            {"method": "GET", "url": "https://x/c", "body": "", "response": "c"},
        ],
    )


def test_lenient_replay_ignores_bodies_and_serves_in_order() -> None:
    strict = Cassette.load(GROQ_SIMPLE)
    with pytest.raises(CassetteError, match="closest unused candidate"):
        post(strict, '{"model": "another"}')
    cassette = Cassette.load(GROQ_SIMPLE, match="lenient")
    assert cassette.match == "lenient"
    client = httpx2.Client(transport=cassette)
    # neither body resembles the recording; the interactions answer in recorded order
    assert client.post(URL, content=b'{"model": "another"}').status_code == 429
    assert client.post(URL, content=b"not even json").json()["choices"][0]["message"]["content"] == "Olá!"
    assert cassette.used == [0, 1]
    cassette.assert_all_used()


@pytest.mark.anyio
async def test_lenient_replay_async_with_a_different_body() -> None:
    cassette = Cassette.load(GROQ_STREAMING, match="lenient")
    async with httpx2.AsyncClient(transport=cassette) as client:
        response = await client.post(URL, json={"messages": [], "stream": True})
        assert response.text == streaming_body().decode()
    assert cassette.used == [0]


def test_lenient_request_that_skips_an_interaction_fails(tmp_path: Path) -> None:
    cassette = Cassette.load(three_targets(tmp_path), match="lenient")
    client = httpx2.Client(transport=cassette)
    assert client.get("https://x/a").text == "a"
    with pytest.raises(CassetteError) as excinfo:
        client.get("https://x/c")  # interaction 1 (POST /b) comes first
    message = str(excinfo.value)
    assert "no recorded interaction matches GET https://x/c" in message
    assert "the next is interaction 1: POST https://x/b" in message
    assert "matches interaction 2, which would skip interaction 1" in message
    assert cassette.used == [0]
    with pytest.raises(CassetteError) as excinfo:
        cassette.assert_all_used()
    assert "1 request(s) matched no recorded interaction" in str(excinfo.value)
    assert "2 recorded interaction(s) were never used" in str(excinfo.value)


def test_lenient_still_requires_every_interaction(tmp_path: Path) -> None:
    cassette = Cassette.load(three_targets(tmp_path), match="lenient")
    client = httpx2.Client(transport=cassette)
    assert client.get("https://x/a").text == "a"
    assert client.post("https://x/b", content=b'{"n": 2}').text == "b"
    with pytest.raises(
        CassetteError, match=r"1 recorded interaction\(s\) were never used:\n  2: GET https://x/c"
    ):
        cassette.assert_all_used()
    assert client.get("https://x/c").text == "c"
    cassette.assert_all_used()
    with pytest.raises(CassetteError, match="every recorded interaction has already been used"):
        client.get("https://x/c")


def test_lenient_still_compares_method_and_url(tmp_path: Path) -> None:
    cassette = Cassette.load(three_targets(tmp_path), match="lenient")
    client = httpx2.Client(transport=cassette)
    with pytest.raises(CassetteError, match="the next is interaction 0: GET https://x/a"):
        client.post("https://x/a")
    with pytest.raises(CassetteError, match="no recorded interaction matches GET https://x/a/"):
        client.get("https://x/a/")
    assert client.get("https://x/a?key=secret").text == "a"  # a credential, as in strict mode
    assert cassette.used == [0]


def test_invalid_match_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="match must be 'strict' or 'lenient'"):
        Cassette(GROQ_SIMPLE, match="loose")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="match"):
        Cassette.load(GROQ_SIMPLE, match="fuzzy")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- chunked bodies


def streaming_body() -> bytes:
    return Cassette.load(GROQ_STREAMING).interactions[0].response_body.encode("utf-8")


def test_sync_stream_is_chunked_and_reassembles() -> None:
    cassette = Cassette.load(GROQ_STREAMING)
    expected = streaming_body()
    assert "á".encode() in expected
    client = httpx2.Client(transport=cassette)
    request_body = cassette.interactions[0].request_body
    with client.stream("POST", URL, content=request_body) as response:
        assert response.headers["content-type"] == "text/event-stream"
        chunks = list(response.iter_bytes())
    assert all(0 < len(chunk) <= 7 for chunk in chunks)
    assert len(chunks) == -(-len(expected) // 7)
    assert b"".join(chunks) == expected


def test_chunks_split_multibyte_characters(tmp_path: Path) -> None:
    body = "data: Olá, ação, 🙂\n\n" * 3
    path = write_cassette(
        tmp_path / "u.yaml",
        [
            {
                "method": "GET",
                "url": "https://x/",
                "body": "",
                "response": body,
                "content_type": "text/event-stream",
            }
        ],
    )
    cassette = Cassette.load(path)
    with httpx2.Client(transport=cassette).stream("GET", "https://x/") as response:
        chunks = list(response.iter_bytes())
        assert all(0 < len(chunk) <= 7 for chunk in chunks)
        assert any(not _decodes(chunk) for chunk in chunks)  # a boundary inside a UTF-8 character
        assert b"".join(chunks) == body.encode()
    with httpx2.Client(transport=Cassette.load(path)).stream("GET", "https://x/") as response:
        assert "".join(response.iter_text()) == body


def _decodes(chunk: bytes) -> bool:
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.anyio
async def test_async_stream_is_chunked_and_lines_survive() -> None:
    cassette = Cassette.load(GROQ_STREAMING, chunk_size=3)
    expected = streaming_body()
    async with httpx2.AsyncClient(transport=cassette) as client:
        request_body = cassette.interactions[0].request_body
        async with client.stream("POST", URL, content=request_body) as response:
            chunks = [chunk async for chunk in response.aiter_bytes()]
        assert all(0 < len(chunk) <= 3 for chunk in chunks)
        assert b"".join(chunks) == expected
        assert len(chunks) > 100
    assert cassette.used == [0]


@pytest.mark.anyio
async def test_async_lines_reassemble_across_chunks() -> None:
    cassette = Cassette.load(GROQ_STREAMING)
    async with httpx2.AsyncClient(transport=cassette) as client:
        request_body = cassette.interactions[0].request_body
        async with client.stream("POST", URL, content=request_body) as response:
            lines = [line async for line in response.aiter_lines()]
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in data if c["choices"])
    assert text == "Olá!"


def test_non_streaming_read_and_whole_body_mode() -> None:
    expected = streaming_body()
    cassette = Cassette.load(GROQ_STREAMING)
    assert post(cassette, cassette.interactions[0].request_body).content == expected
    whole = Cassette.load(GROQ_STREAMING, chunk_size=None)
    with httpx2.Client(transport=whole).stream(
        "POST", URL, content=whole.interactions[0].request_body
    ) as response:
        assert list(response.iter_bytes()) == [expected]


# --------------------------------------------------------------------------- record mode

SECRET = "sk-super-secret-123"
SSE = 'data: {"text": "Olá"}\r\n\r\ndata: {"text": "!"}\r\n\r\n'


def fake_upstream(request: httpx2.Request) -> httpx2.Response:
    assert request.headers["authorization"] == f"Bearer {SECRET}"  # the real transport gets the key
    if request.url.path.endswith(":stream"):
        return httpx2.Response(
            200, content=SSE.encode(), headers={"Content-Type": "text/event-stream", "X-Secret": SECRET}
        )
    payload = json.loads(request.content)
    status = 429 if payload.get("fail") else 200
    return httpx2.Response(status, json={"echo": payload, "note": "multi\nline"})


def send_recorded_requests(client: httpx2.Client) -> list[httpx2.Response]:
    headers = {"Authorization": f"Bearer {SECRET}", "x-api-key": SECRET, "x-goog-api-key": SECRET}
    return [
        client.post(f"{URL}?key={SECRET}", json={"fail": True, "q": "Olá"}, headers=headers),
        client.post(URL, json={"fail": False, "q": "Olá"}, headers={**headers, "Accept": "application/json"}),
        client.post(
            f"https://example.com/v1/m:stream?alt=sse&key={SECRET}", content=b'{"a": 1}\n', headers=headers
        ),
    ]


def test_record_scrubs_credentials_and_replays_back(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "recorded.yaml"
    recorder = Cassette(path, mode="record", real_transport=httpx2.MockTransport(fake_upstream))
    with httpx2.Client(transport=recorder) as client:
        live = send_recorded_requests(client)
    assert [r.status_code for r in live] == [429, 200, 200]
    assert live[2].text == SSE
    assert recorder.used == [0, 1, 2]
    assert len(recorder.requests) == 3

    text = path.read_text(encoding="utf-8")
    assert SECRET not in text
    assert "key=" not in text
    assert "authorization" not in text.lower()
    assert "api-key" not in text.lower()
    document = yaml.safe_load(text)
    assert document["version"] == 2
    entries = document["interactions"]
    assert [e["id"] for e in entries] == [0, 1, 2]
    first = entries[0]
    assert set(first["request"]) == {
        "proto", "proto_major", "proto_minor", "content_length", "host", "body", "headers", "url", "method",
    }  # fmt: skip
    assert set(first["response"]) == {
        "proto", "proto_major", "proto_minor", "content_length", "body", "headers", "status", "code",
        "duration",
    }  # fmt: skip
    assert first["request"]["url"] == URL
    assert first["request"]["host"] == "openrouter.ai"
    assert first["request"]["method"] == "POST"
    assert first["response"]["status"] == "429 Too Many Requests"
    assert first["response"]["code"] == 429
    assert entries[1]["response"]["status"] == "200 OK"
    assert entries[1]["request"]["headers"]["Accept"] == ["application/json"]
    assert entries[1]["request"]["headers"]["Content-Type"] == ["application/json"]
    assert set(entries[1]["request"]["headers"]) <= {"Accept", "Content-Type", "User-Agent"}
    assert entries[2]["request"]["url"] == "https://example.com/v1/m:stream?alt=sse"
    assert entries[2]["response"]["headers"] == {"Content-Type": ["text/event-stream"]}
    assert entries[2]["response"]["body"] == SSE  # CRLFs survive the YAML round trip

    replay = Cassette.load(path)
    assert replay.interactions == recorder.interactions
    with httpx2.Client(transport=replay) as client:
        again = send_recorded_requests(client)
    assert [(r.status_code, r.content) for r in again] == [(r.status_code, r.content) for r in live]
    assert again[2].headers["content-type"] == "text/event-stream"


@pytest.mark.anyio
async def test_record_async(tmp_path: Path) -> None:
    path = tmp_path / "async.yaml"

    async def upstream(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(201, text="créé", headers={"Content-Type": "text/plain; charset=utf-8"})

    recorder = Cassette(path, mode="record", real_transport=httpx2.MockTransport(upstream))
    async with httpx2.AsyncClient(transport=recorder) as client:
        response = await client.put("https://example.com/x?key=abc&b=2", content="corps")
    assert response.status_code == 201
    assert response.text == "créé"
    replay = Cassette.load(path)
    assert replay.interactions[0].url == "https://example.com/x?b=2"
    assert replay.interactions[0].status_code == 201
    async with httpx2.AsyncClient(transport=replay) as client:
        again = await client.put("https://example.com/x?b=2", content="corps")
    assert again.text == "créé"


def test_record_not_saved_when_block_fails(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    real = httpx2.MockTransport(lambda request: httpx2.Response(200, text="hi"))
    with pytest.raises(RuntimeError), Cassette(path, mode="record", real_transport=real) as recorder:
        httpx2.Client(transport=recorder).get("https://example.com/")
        raise RuntimeError("test failed")
    assert not path.exists()
    with Cassette(path, mode="record", real_transport=real) as recorder:
        httpx2.Client(transport=recorder).get("https://example.com/")
    assert [i.response_body for i in Cassette.load(path).interactions] == ["hi"]


def test_save_is_record_only() -> None:
    with pytest.raises(CassetteError, match="record mode"):
        Cassette.load(GROQ_SIMPLE).save()


# --------------------------------------------------------------------------- pytest plugin


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # Inner runs load only our plugin: autoloaded third-party plugins cost seconds per run.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def _inner(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_inner=source)
    return pytester.runpytest_inprocess(*PLUGIN_ARGS, *args)


PLUGIN_TEST = f"""
import httpx2
import pytest

SEED = {str(GROQ_SIMPLE)!r}
URL = {URL!r}


@pytest.mark.cassette(SEED)
def test_all_used(cassette):
    client = httpx2.Client(transport=cassette)
    for interaction in cassette.interactions:
        assert client.post(URL, content=interaction.request_body).status_code == interaction.status_code


@pytest.mark.cassette(SEED)
def test_one_unused(cassette):
    client = httpx2.Client(transport=cassette)
    client.post(URL, content=cassette.interactions[0].request_body)


@pytest.mark.cassette("relative.yaml")
def test_relative(cassette):
    assert httpx2.Client(transport=cassette).get("https://example.com/r").text == "ok"


@pytest.mark.cassette(SEED)
def test_swallowed(cassette):
    try:
        httpx2.Client(transport=cassette).get("https://example.com/unknown")
    except AssertionError:
        pass


def test_no_marker(cassette):
    pass
"""


def test_plugin_replay(pytester: pytest.Pytester) -> None:
    write_cassette(
        pytester.path / "relative.yaml", [{"method": "GET", "url": "https://example.com/r", "body": ""}]
    )
    result = _inner(pytester, PLUGIN_TEST)
    result.assert_outcomes(passed=2, failed=2, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*test_one_unused*",
            "*recorded interaction(s) were never used*",
            f"*1: POST {URL}*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*test_swallowed*", "*no recorded interaction matches GET https://example.com/unknown*"]
    )
    result.stdout.fnmatch_lines(["*test_no_marker*", "*needs a @pytest.mark.cassette(*"])


def test_plugin_registers_marker_and_option(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(*PLUGIN_ARGS, "--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.cassette(path*"])
    result = pytester.runpytest_inprocess(*PLUGIN_ARGS, "--help")
    result.stdout.fnmatch_lines(["*--record-cassettes*"])


MATCH_TEST = f"""
import httpx2
import pytest

SEED = {str(GROQ_SIMPLE)!r}
URL = {URL!r}


@pytest.mark.cassette(SEED, match="lenient")
def test_lenient(cassette):
    assert cassette.match == "lenient"
    client = httpx2.Client(transport=cassette)
    assert [client.post(URL, content=b"{{}}").status_code for _ in range(2)] == [429, 200]


@pytest.mark.cassette(SEED)
def test_strict_by_default(cassette):
    assert cassette.match == "strict"
    httpx2.Client(transport=cassette).post(URL, content=b"{{}}")


@pytest.mark.cassette(SEED, match="loose")
def test_bad_mode(cassette):
    pass
"""


def test_plugin_match_option(pytester: pytest.Pytester) -> None:
    result = _inner(pytester, MATCH_TEST)
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["*test_strict_by_default*", "*closest unused candidate: interaction 0*"])
    result.stdout.fnmatch_lines(["*test_bad_mode*", "*cassette match must be 'strict' or 'lenient'*"])


RECORD_TEST = """
import httpx2
import pytest


NETWORK_UP = True


def answer(request):
    assert NETWORK_UP, "replay must not reach the network"
    return httpx2.Response(200, json={"got": request.content.decode()})


@pytest.fixture(autouse=True)
def fake_network(monkeypatch):
    monkeypatch.setattr(httpx2, "HTTPTransport", lambda: httpx2.MockTransport(answer))


@pytest.mark.cassette("cassettes/rec.yaml")
def test_rec(cassette):
    client = httpx2.Client(transport=cassette)
    response = client.post("https://example.com/chat?key=SECRET", content=b'{"q": 1}',
                           headers={"Authorization": "Bearer SECRET"})
    assert response.json() == {"got": '{"q": 1}'}
"""


def test_plugin_record_then_replay(pytester: pytest.Pytester) -> None:
    result = _inner(pytester, RECORD_TEST, "--record-cassettes")
    result.assert_outcomes(passed=1)
    recorded = pytester.path / "cassettes" / "rec.yaml"
    assert recorded.is_file()
    assert "SECRET" not in recorded.read_text(encoding="utf-8")
    cassette = Cassette.load(recorded)
    assert [(i.method, i.url, i.request_body) for i in cassette.interactions] == [
        ("POST", "https://example.com/chat", '{"q": 1}')
    ]
    # replay: the fake network is never called, the recording answers
    replay_test = RECORD_TEST.replace("NETWORK_UP = True", "NETWORK_UP = False")
    result = _inner(pytester, replay_test)
    result.assert_outcomes(passed=1)


def test_plugin_record_failure_keeps_existing_file(pytester: pytest.Pytester) -> None:
    target = write_cassette(
        pytester.mkdir("cassettes") / "rec.yaml", [{"method": "GET", "url": "https://x/", "body": ""}]
    )
    before = target.read_text(encoding="utf-8")
    result = _inner(pytester, RECORD_TEST.replace('== {"got"', '== {"nope"'), "--record-cassettes")
    result.assert_outcomes(failed=1)
    assert target.read_text(encoding="utf-8") == before


def test_binary_bodies_are_recorded_as_yaml_binary_and_replayed_byte_for_byte(tmp_path: Path) -> None:
    # The AWS event stream is not UTF-8: stored as text it would lose its CRCs.
    frames = bytes(range(256)) * 3

    def upstream(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, content=frames, headers={"Content-Type": "application/vnd.amazon.eventstream"}
        )

    path = tmp_path / "binary.yaml"
    recorder = Cassette(path, mode="record", real_transport=httpx2.MockTransport(upstream))
    with httpx2.Client(transport=recorder) as client:
        client.post("https://bedrock.example/invoke", content=b"{}")
    assert "!!binary" in path.read_text(encoding="utf-8")
    replay = Cassette.load(path)
    assert replay.interactions[0].response_body == frames
    with httpx2.Client(transport=replay) as client:
        assert client.post("https://bedrock.example/invoke", content=b"{}").content == frames


def _alias_bomb(levels: int) -> str:
    """A small cassette whose nested aliases expand to 9 ** levels header values."""
    lines = ['x0: &x0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"x{level}: &x{level} [{','.join([f'*x{level - 1}'] * 9)}]" for level in range(1, levels)]
    top = f"*x{levels - 1}"
    lines.append("interactions:")
    lines.append(f"- request: {{method: GET, url: 'http://test/', body: '', headers: {{X-Bomb: {top}}}}}")
    lines.append(f"  response: {{code: 200, body: '', headers: {{X-Bomb: {top}}}}}")
    return "\n".join(lines) + "\n"


def test_nested_aliases_are_refused_fast(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(9))
    assert len(path.read_bytes()) < 1000
    with pytest.raises(CassetteError, match="aliases expand"):
        Cassette.load(path)


def test_a_few_aliases_still_load(tmp_path: Path) -> None:
    path = tmp_path / "small.yaml"
    path.write_text(_alias_bomb(1))
    (interaction,) = Cassette.load(path).interactions
    assert interaction.request_headers["X-Bomb"] == ["lol"] * 9


def test_a_self_referring_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("interactions: &loop [*loop]\n")
    with pytest.raises(CassetteError):
        Cassette.load(path)

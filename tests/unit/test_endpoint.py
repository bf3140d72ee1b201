"""Endpoints (``reverie._http.endpoint``): URL joining and the provider's per-request hook."""

from __future__ import annotations

import gc

import httpx2

from reverie import Call, Message
from reverie._codec import WireRequest
from reverie._http import endpoint
from reverie._http.endpoint import Endpoint, join_url, merged_headers, parse_url
from reverie.providers import google, openrouter


def test_join_url_concatenates_exactly() -> None:
    assert (
        join_url("https://api.example/v1", "/chat/completions") == "https://api.example/v1/chat/completions"
    )
    assert (
        join_url("https://g.example/v1beta", "/models/m:streamGenerateContent?alt=sse")
        == "https://g.example/v1beta/models/m:streamGenerateContent?alt=sse"
    )


def test_join_url_appends_a_query_with_the_right_separator() -> None:
    assert (
        join_url("https://r.example/openai/deployments/d", "/chat/completions", {"api-version": "2024-10-21"})
        == "https://r.example/openai/deployments/d/chat/completions?api-version=2024-10-21"
    )
    assert join_url("https://g.example", "/m:stream?alt=sse", {"a b": "c&d"}) == (
        "https://g.example/m:stream?alt=sse&a+b=c%26d"
    )


def test_parse_url_parses_each_url_once() -> None:
    url = "https://api.example/v1/parse-once"
    assert parse_url(url) is parse_url(url)
    assert parse_url(url).path == "/v1/parse-once"


def test_the_default_endpoint_is_base_url_plus_path_with_the_provider_headers() -> None:
    provider = openrouter.Provider(api_key="k", headers={"X-Title": "demo"})
    endpoint = provider.endpoint("m", WireRequest(path="/chat/completions", body={}), stream=False)
    assert endpoint == Endpoint(
        "https://openrouter.ai/api/v1/chat/completions",
        {
            "accept": "application/json",
            "content-type": "application/json",
            "user-agent": endpoint.headers["user-agent"],
            "x-title": "demo",
        },
    )
    assert "k" not in endpoint.headers.values()  # credentials come from auth, not the endpoint


def test_prepared_requests_keep_their_urls_and_show_static_credentials() -> None:
    model = google.Provider(api_key="g-key").language_model("gemini-2.5-flash")
    call = Call(prompt=[Message.user("hi")])
    streaming = model.prepare(call, stream=True)
    assert streaming.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    assert streaming.headers["accept"] == "text/event-stream"
    assert streaming.headers["x-goog-api-key"] == "g-key"
    assert streaming.auth is not None
    assert "g-key" not in repr(streaming)


def test_merged_headers_are_httpx2s_merge_made_once_per_pair() -> None:
    client = httpx2.Client(headers={"Accept": "*/*", "User-Agent": "httpx2", "Connection": "keep-alive"})
    ours = {"accept": "application/json", "user-agent": "reverie", "x-extra": "1"}
    expected = httpx2.Headers(client.headers)
    expected.update(ours)
    merged = merged_headers(client, ours)
    assert merged.raw == expected.raw
    assert merged_headers(client, dict(ours)) is merged  # equal layers: the same merge
    client.headers["X-Later"] = "2"
    changed = merged_headers(client, ours)
    assert changed is not merged and changed["x-later"] == "2"
    assert merged_headers(client, {**ours, "x-extra": "3"})["x-extra"] == "3"
    other = httpx2.Client(headers={"Accept": "*/*", "User-Agent": "httpx2", "Connection": "keep-alive"})
    assert merged_headers(other, ours) is not merged  # kept per client
    client.close()
    other.close()


def test_merged_headers_go_with_their_client() -> None:
    # Header values can be credentials: nothing is kept once the client is gone.
    client = httpx2.Client()
    merged_headers(client, {"x-goog-api-key": "g-key"})
    assert len(endpoint._merged) >= 1
    client.close()
    del client
    gc.collect()
    assert not any(
        "g-key" in value
        for kept in endpoint._merged.values()
        for headers in kept.values()
        for value in headers.values()
    )

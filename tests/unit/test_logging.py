"""The ``reverie`` logger: requests and retries at DEBUG, call warnings at WARNING, silent by default."""

from __future__ import annotations

import logging
import subprocess
import sys

import httpx2
import pytest

from reverie import Agent, CallWarning, ProviderError, Response, RetryPolicy, TextPart, Usage
from reverie._log import safe_url
from reverie.providers import openaicompat
from reverie.testing import MockModel


def test_requests_are_logged_at_debug_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        message = {"role": "assistant", "content": "ok"}
        return httpx2.Response(
            200, json={"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
        )

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    provider = openaicompat.Provider(
        base_url="http://user:hunter2@test/v1", api_key="sk-header", http_client=client
    )
    with caplog.at_level(logging.DEBUG, logger="reverie"):
        Agent(provider.language_model("m")).generate("hi")
    lines = [record.getMessage() for record in caplog.records if record.name == "reverie"]
    assert any(line.startswith("request POST http://user:***@test/v1/chat/completions") for line in lines), (
        lines
    )
    text = "\n".join(lines)
    assert "hunter2" not in text and "sk-header" not in text


def test_retries_and_their_delays_are_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    error = ProviderError("overloaded", status_code=503)
    model = MockModel([error, "ok"])
    with caplog.at_level(logging.DEBUG, logger="reverie"):
        Agent(model, retry=RetryPolicy(initial_delay=1.5)).generate("hi")
    assert "step 0 attempt 1 failed, retrying in 1.500 s: HTTP 503: overloaded" in caplog.messages


def test_call_warnings_are_logged_at_warning(caplog: pytest.LogCaptureFixture) -> None:
    warning = CallWarning(setting="seed", message="the provider has no seed")
    model = MockModel(
        [Response(content=[TextPart(text="ok")], finish_reason="stop", usage=Usage(), warnings=[warning])]
    )
    with caplog.at_level(logging.WARNING, logger="reverie"):
        Agent(model).generate("hi")
    assert [record.levelno for record in caplog.records] == [logging.WARNING]
    assert "mock ignored seed: the provider has no seed" in caplog.messages[0]


def test_the_logger_is_silent_without_configuration() -> None:
    probe = (
        "from reverie import Agent, CallWarning, Response, TextPart, Usage\n"
        "from reverie.testing import MockModel\n"
        "warning = CallWarning(setting='seed', message='ignored')\n"
        "answer = Response(\n"
        "    content=[TextPart(text='ok')], finish_reason='stop', usage=Usage(), warnings=[warning]\n"
        ")\n"
        "model = MockModel([answer])\n"
        "Agent(model).generate('hi')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stderr == ""


def test_safe_url_masks_passwords_and_secret_query_values() -> None:
    assert safe_url("https://a:b@h/p?key=s&alt=sse") == "https://a:***@h/p?key=***&alt=sse"
    assert safe_url("https://token@h/p") == "https://***@h/p"
    assert safe_url("https://h/p") == "https://h/p"

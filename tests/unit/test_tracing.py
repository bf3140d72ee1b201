"""Tracing's pure parts and its switches: attributes, message JSON, import cost, the missing extra.

The spans of real runs are checked in ``tests/_async/test_tracing.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import nullcontext

import pytest

import reverie
from reverie import (
    Agent,
    Call,
    FilePart,
    Message,
    ProviderError,
    ReasoningPart,
    ResponseFormat,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
    UserError,
)
from reverie import _instrument as switches
from reverie._otel import attributes as names
from reverie._otel import content
from reverie._otel.hooks import TracingHooks
from reverie._run.hooks import NO_HOOKS, RunHooks
from reverie.testing import MockModel
from tests.conftest import ROOT


def _modules_after(code: str) -> list[str]:
    script = f"import json, sys; {code}; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT, timeout=60
    )
    return json.loads(completed.stdout)


def _otel_modules(modules: list[str]) -> list[str]:
    return [
        name for name in modules if name.split(".")[0] == "opentelemetry" or name.startswith("reverie._otel")
    ]


# --------------------------------------------------------------------------- import cost


def test_import_reverie_does_not_import_opentelemetry() -> None:
    assert _otel_modules(_modules_after("import reverie")) == []


def test_a_run_without_instrumentation_does_not_import_opentelemetry() -> None:
    modules = _modules_after(
        "import reverie; from reverie.testing import MockModel; "
        "assert reverie.Agent(MockModel('Hi.')).generate('Hello').text == 'Hi.'"
    )
    assert "reverie._run.machine" in modules
    assert _otel_modules(modules) == []


def test_instrument_imports_the_api_only() -> None:
    modules = _modules_after("import reverie; reverie.instrument()")
    assert "opentelemetry.trace" in modules and "reverie._otel.hooks" not in modules
    assert [name for name in modules if name.startswith("opentelemetry.sdk")] == []


# --------------------------------------------------------------------------- the switches


@pytest.fixture
def no_opentelemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``opentelemetry.trace`` unimportable, as without the ``otel`` extra."""
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", None)


@pytest.mark.usefixtures("no_opentelemetry")
def test_instrument_without_the_extra_says_how_to_install_it() -> None:
    with pytest.raises(UserError, match=r'pip install "reverie\[otel\]"'):
        reverie.instrument()
    with pytest.raises(UserError, match=r"reverie\[otel\]"):
        Agent(MockModel("Hi."), instrument=True)
    assert switches.current() is None


@pytest.mark.usefixtures("no_opentelemetry")
def test_an_agent_that_does_not_ask_for_tracing_needs_no_extra() -> None:
    assert Agent(MockModel("Hi."), instrument=False).generate("Hello").text == "Hi."
    assert Agent(MockModel("Hi.")).generate("Hello").text == "Hi."


def test_run_hooks_follow_the_switches() -> None:
    try:
        assert switches.run_hooks(None, None) is NO_HOOKS
        assert switches.run_hooks(False, None) is NO_HOOKS
        assert isinstance(switches.run_hooks(True, "named"), TracingHooks)
        reverie.instrument(capture_content=True)
        settings = switches.current()
        assert settings is not None and settings.capture_content
        assert isinstance(switches.run_hooks(None, None), TracingHooks)
        assert switches.run_hooks(False, None) is NO_HOOKS
        reverie.uninstrument()
        assert switches.current() is None
        assert switches.run_hooks(None, None) is NO_HOOKS
    finally:
        reverie.uninstrument()


def test_the_default_hooks_do_nothing() -> None:
    assert repr(NO_HOOKS) == "NO_HOOKS"
    assert isinstance(NO_HOOKS.around_run(None), nullcontext)  # type: ignore[arg-type]
    assert isinstance(
        NO_HOOKS.around_tool(ToolCallPart(tool_call_id="1", tool_name="t", input="{}")), nullcontext
    )

    class Named(RunHooks):
        pass

    assert repr(Named()) == "Named()"


# --------------------------------------------------------------------------- attributes


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("google", "gcp.gemini"),
        ("vertex", "gcp.vertex_ai"),
        ("bedrock", "aws.bedrock"),
        ("azure", "azure.ai.openai"),
        ("openrouter", "openrouter"),
    ],
)
def test_provider_names_follow_the_conventions(provider: str, expected: str) -> None:
    assert names.provider_name(provider) == expected


def test_finish_reasons_follow_the_conventions() -> None:
    assert names.finish_reason("tool_calls") == "tool_call"
    assert [names.finish_reason(reason) for reason in ("stop", "length", "content_filter", "error")] == [
        "stop",
        "length",
        "content_filter",
        "error",
    ]


def test_request_attributes_name_every_set_setting() -> None:
    assert names.request_attributes(Call(prompt=[])) == {}
    call = Call(
        prompt=[],
        max_output_tokens=100,
        temperature=0.0,
        top_p=0.9,
        top_k=40,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        seed=7,
        stop_sequences=["END"],
        response_format=ResponseFormat(schema={"type": "object"}, name="answer"),
    )
    assert names.request_attributes(call) == {
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.temperature": 0.0,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.output.type": "json",
    }


def test_usage_attributes_add_cache_and_reasoning_tokens_when_there_are_any() -> None:
    assert names.usage_attributes(Usage()) == {
        "gen_ai.usage.input_tokens": 0,
        "gen_ai.usage.output_tokens": 0,
    }
    usage = Usage(
        input_tokens=10, output_tokens=20, reasoning_tokens=5, cache_creation_tokens=3, cache_read_tokens=2
    )
    assert names.usage_attributes(usage) == {
        "gen_ai.usage.input_tokens": 10,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 2,
        "gen_ai.usage.cache_creation.input_tokens": 3,
        "gen_ai.usage.reasoning.output_tokens": 5,
    }


def test_error_type_is_the_status_code_or_the_class() -> None:
    assert names.error_type(ProviderError("busy", status_code=503)) == "503"
    assert names.error_type(ProviderError("cut short", retryable=True)) == "ProviderError"
    assert names.error_type(TimeoutError()) == "TimeoutError"


# --------------------------------------------------------------------------- message content


def test_messages_become_the_conventions_json() -> None:
    messages = [
        Message.system("Be brief."),
        Message(
            role="user",
            content=[
                TextPart(text="What is this?"),
                FilePart(data=b"\x89PNG", media_type="image/png"),
                FilePart(data=b"%PDF", media_type="application/pdf"),
            ],
        ),
        Message(
            role="assistant",
            content=[
                ReasoningPart(text="Look closer."),
                ToolCallPart(tool_call_id="c1", tool_name="zoom", input='{"level": 2}'),
                ToolCallPart(tool_call_id="c2", tool_name="zoom", input="{level: 2"),
                SourcePart(id="s1", url="https://example.com", title="Example"),
            ],
        ),
        Message(role="tool", content=[ToolResultPart(tool_call_id="c1", tool_name="zoom", output="a cat")]),
    ]
    assert json.loads(content.input_messages(messages)) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is this?"},
                {"type": "blob", "mime_type": "image/png", "modality": "image", "content": "iVBORw=="},
                {
                    "type": "blob",
                    "mime_type": "application/pdf",
                    "modality": "application",
                    "content": "JVBERg==",
                },
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Look closer."},
                {"type": "tool_call", "id": "c1", "name": "zoom", "arguments": {"level": 2}},
                {"type": "tool_call", "id": "c2", "name": "zoom", "arguments": "{level: 2"},
                {
                    "type": "source",
                    "id": "s1",
                    "source_type": "url",
                    "url": "https://example.com",
                    "title": "Example",
                },
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": "a cat"}]},
    ]


def test_output_messages_carry_the_finish_reason() -> None:
    said = content.output_messages([TextPart(text="Hi. ✓")], "length")
    assert "✓" in said  # not escaped: the attribute stays readable
    assert json.loads(said) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi. ✓"}], "finish_reason": "length"}
    ]

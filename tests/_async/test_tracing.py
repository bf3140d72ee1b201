"""Tracing: the OpenTelemetry GenAI spans and metrics of agent runs, read back from the SDK's memory.

This is the async source; ``tests/_sync/test_tracing.py`` is generated from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

import reverie
from reverie import (
    Agent,
    Budget,
    BudgetExceededError,
    FallbackModel,
    ProviderError,
    Response,
    RetryPolicy,
    StepOverrides,
    StreamStartPart,
    TextDeltaPart,
    TextPart,
    TextStartPart,
    ToolCallPart,
    Usage,
    tool,
)
from reverie._run.hooks import NO_HOOKS
from reverie.testing import MockModel
from tests.tracing_helpers import (
    Telemetry,
    async_probe,
    attributes,
    global_telemetry,
    probe_tracer,
    sync_probe,
)

from .agent_runs import finish

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
CONTENT_KEYS = {
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
}
GEMINI = {"gen_ai.provider.name": "gcp.gemini", "gen_ai.system": "gcp.gemini"}
REQUEST = {
    "gen_ai.request.model": "gemini-2.5-flash",
    "gen_ai.request.temperature": 0.5,
    "gen_ai.request.max_tokens": 200,
}


@tool
def weather(location: str) -> str:
    """Get the weather."""
    return f"40 C in {location}"


@tool
def broken() -> str:
    """Always fails."""
    raise ValueError("no data today")


def tool_step() -> Response:
    return Response(
        content=[ToolCallPart(tool_call_id="call_1", tool_name="weather", input='{"location": "Rome"}')],
        finish_reason="tool_calls",
        usage=Usage(input_tokens=12, output_tokens=7, total_tokens=19, cache_read_tokens=4),
        response_id="resp-1",
        model_id="gemini-2.5-flash-001",
    )


def answer() -> Response:
    return Response(
        content=[TextPart(text="It is 40 C in Rome.")],
        finish_reason="stop",
        usage=Usage(input_tokens=30, output_tokens=9, total_tokens=39),
        response_id="resp-2",
        model_id="gemini-2.5-flash-001",
    )


def forecaster(*first: Any, **options: Any) -> Agent:
    """The 2-step run: a weather call, then the answer (after whatever ``first`` scripts)."""
    model = MockModel([*first, tool_step(), answer()], provider="google", model_id="gemini-2.5-flash")
    return Agent(
        model,
        tools=[weather],
        name="forecaster",
        system_prompt="Be brief.",
        temperature=0.5,
        max_output_tokens=200,
        **options,
    )


@pytest.fixture
def telemetry() -> Iterator[Telemetry]:
    """Fresh in-memory providers; the global ones are set too, to show they stay unused."""
    global_telemetry().exporter.clear()
    recorded = Telemetry()
    probe_tracer[:] = [recorded.tracer_provider.get_tracer("probe")]
    yield recorded
    reverie.uninstrument()


def instrument(telemetry: Telemetry, *, capture_content: bool = False) -> None:
    reverie.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=capture_content,
    )


# --------------------------------------------------------------------------- the span tree


@pytest.mark.anyio
@MODES
async def test_a_two_step_tool_run_gives_the_span_tree(streaming: bool, telemetry: Telemetry) -> None:
    instrument(telemetry)
    result = await finish(forecaster(), "Weather in Rome?", streaming=streaming)
    assert result.text == "It is 40 C in Rome."
    assert telemetry.tree() == [
        ("invoke_agent forecaster", "INTERNAL", None),
        ("chat gemini-2.5-flash", "CLIENT", "invoke_agent forecaster"),
        ("execute_tool weather", "INTERNAL", "invoke_agent forecaster"),
        ("chat gemini-2.5-flash", "CLIENT", "invoke_agent forecaster"),
    ]
    run, first, weather_call, second = [attributes(span) for span in telemetry.spans()]
    assert run == {
        "gen_ai.operation.name": "invoke_agent",
        **GEMINI,
        "gen_ai.agent.name": "forecaster",
        **REQUEST,
        "gen_ai.usage.input_tokens": 42,
        "gen_ai.usage.output_tokens": 16,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.response.finish_reasons": ["stop"],
    }
    assert first == {
        "gen_ai.operation.name": "chat",
        **GEMINI,
        **REQUEST,
        "gen_ai.response.model": "gemini-2.5-flash-001",
        "gen_ai.response.id": "resp-1",
        "gen_ai.response.finish_reasons": ["tool_call"],
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 4,
    }
    assert weather_call == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "weather",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.type": "function",
    }
    assert second == {
        "gen_ai.operation.name": "chat",
        **GEMINI,
        **REQUEST,
        "gen_ai.response.model": "gemini-2.5-flash-001",
        "gen_ai.response.id": "resp-2",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 30,
        "gen_ai.usage.output_tokens": 9,
    }
    assert all(span.status.status_code is StatusCode.UNSET for span in telemetry.spans())


@pytest.mark.anyio
@MODES
async def test_requests_record_token_usage_and_duration(streaming: bool, telemetry: Telemetry) -> None:
    instrument(telemetry)
    await finish(forecaster(), "Weather in Rome?", streaming=streaming)
    request = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.request.model": "gemini-2.5-flash",
        "gen_ai.response.model": "gemini-2.5-flash-001",
    }
    recorded = telemetry.metrics()
    assert recorded["gen_ai.client.token.usage"] == [
        ({**request, "gen_ai.token.type": "input"}, 42, 2),
        ({**request, "gen_ai.token.type": "output"}, 16, 2),
    ]
    [(duration_attributes, seconds, count)] = recorded["gen_ai.client.operation.duration"]
    assert (duration_attributes, count) == (request, 2)
    assert 0 < seconds < 10


@pytest.mark.anyio
@MODES
async def test_an_agent_without_a_name_gives_a_bare_invoke_agent_span(
    streaming: bool, telemetry: Telemetry
) -> None:
    instrument(telemetry)
    await finish(Agent(MockModel("Hi.")), "Hello", streaming=streaming)
    assert telemetry.tree() == [
        ("invoke_agent", "INTERNAL", None),
        ("chat mock-model", "CLIENT", "invoke_agent"),
    ]
    assert "gen_ai.agent.name" not in attributes(telemetry.spans()[0])


# --------------------------------------------------------------------------- retries and errors


@pytest.mark.anyio
@MODES
async def test_each_retry_is_its_own_chat_span(
    streaming: bool, telemetry: Telemetry, sleeps: list[float]
) -> None:
    instrument(telemetry)
    agent = forecaster(
        ProviderError("rate limited", status_code=429), retry=RetryPolicy(max_retries=2, initial_delay=1.0)
    )
    await finish(agent, "Weather in Rome?", streaming=streaming)
    assert sleeps == [1.0]
    assert [name for name, _, _ in telemetry.tree()] == [
        "invoke_agent forecaster",
        "chat gemini-2.5-flash",
        "chat gemini-2.5-flash",
        "execute_tool weather",
        "chat gemini-2.5-flash",
    ]
    failed = telemetry.spans()[1]
    assert attributes(failed) == {"gen_ai.operation.name": "chat", **GEMINI, **REQUEST, "error.type": "429"}
    assert failed.status.status_code is StatusCode.ERROR
    assert "rate limited" in (failed.status.description or "")
    assert [span.status.status_code for span in telemetry.spans()[2:]] == [StatusCode.UNSET] * 3
    durations = telemetry.metrics()["gen_ai.client.operation.duration"]
    assert [(point[0].get("error.type"), point[2]) for point in durations] == [("429", 1), (None, 2)]


@pytest.mark.anyio
@MODES
async def test_each_request_names_the_model_it_went_to(streaming: bool, telemetry: Telemetry) -> None:
    instrument(telemetry)
    other = MockModel([answer()], provider="anthropic", model_id="claude-sonnet-4")
    agent = forecaster(
        prepare_step=lambda context: StepOverrides(model=other) if context.step_number else None
    )
    await finish(agent, "Weather in Rome?", streaming=streaming)
    chats = [span for span in telemetry.spans() if span.name.startswith("chat")]
    assert [span.name for span in chats] == ["chat gemini-2.5-flash", "chat claude-sonnet-4"]
    assert [attributes(span)["gen_ai.provider.name"] for span in chats] == ["gcp.gemini", "anthropic"]


def cut_stream() -> tuple[Any, ...]:
    """A stream that breaks after some text (a connection reset mid-answer)."""
    return (
        StreamStartPart(),
        TextStartPart(id="0"),
        TextDeltaPart(id="0", delta="It is"),
        ProviderError("connection reset mid-stream", retryable=True),
    )


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize(
    ("failures", "retry", "error_type"),
    [
        ([ProviderError("overloaded", status_code=503)], RetryPolicy(max_retries=0), "503"),
        (
            [ProviderError("rate limited", status_code=429)] * 2,
            RetryPolicy(max_retries=1, initial_delay=1.0),
            "429",
        ),
        ([cut_stream()], RetryPolicy(max_retries=0), "ProviderError"),
    ],
    ids=["5xx", "retryable after its retries", "cut mid-stream"],
)
async def test_a_fallback_is_its_own_chat_span_naming_the_backup(
    streaming: bool,
    failures: list[Any],
    retry: RetryPolicy,
    error_type: str,
    telemetry: Telemetry,
    sleeps: list[float],
) -> None:
    instrument(telemetry)
    primary = MockModel([*failures], provider="anthropic", model_id="claude-sonnet-4")
    backup = MockModel([answer()], provider="google", model_id="gemini-2.5-flash")
    agent = Agent(FallbackModel(primary, backup), name="forecaster", retry=retry, temperature=0.5)
    result = await finish(agent, "Weather in Rome?", streaming=streaming)
    assert result.text == "It is 40 C in Rome."
    assert result.steps[0].provider == "google"
    primary_spans = [("chat claude-sonnet-4", "CLIENT", "invoke_agent forecaster")] * len(failures)
    assert telemetry.tree() == [
        ("invoke_agent forecaster", "INTERNAL", None),
        *primary_spans,
        ("chat gemini-2.5-flash", "CLIENT", "invoke_agent forecaster"),
    ]
    run, *failed, answered = telemetry.spans()
    for span in failed:
        assert attributes(span) == {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4",
            "gen_ai.request.temperature": 0.5,
            "error.type": error_type,
        }
        assert span.status.status_code is StatusCode.ERROR
    assert attributes(answered) == {
        "gen_ai.operation.name": "chat",
        **GEMINI,
        "gen_ai.request.model": "gemini-2.5-flash",
        "gen_ai.request.temperature": 0.5,
        "gen_ai.response.model": "gemini-2.5-flash-001",
        "gen_ai.response.id": "resp-2",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 30,
        "gen_ai.usage.output_tokens": 9,
    }
    assert answered.status.status_code is StatusCode.UNSET
    # The run names the chain it was given; each request names the model it went to.
    assert run.status.status_code is StatusCode.UNSET
    run_attributes = attributes(run)
    assert "error.type" not in run_attributes
    assert run_attributes["gen_ai.provider.name"] == "fallback"
    assert run_attributes["gen_ai.request.model"] == "anthropic:claude-sonnet-4,google:gemini-2.5-flash"
    durations = telemetry.metrics()["gen_ai.client.operation.duration"]
    assert sorted(
        (
            point[0]["gen_ai.provider.name"],
            point[0]["gen_ai.request.model"],
            point[0].get("error.type"),
            point[2],
        )
        for point in durations
    ) == [
        ("anthropic", "claude-sonnet-4", error_type, len(failures)),
        ("gcp.gemini", "gemini-2.5-flash", None, 1),
    ]


@pytest.mark.anyio
@MODES
async def test_a_failed_run_marks_its_spans(streaming: bool, telemetry: Telemetry) -> None:
    instrument(telemetry)
    agent = forecaster(ProviderError("bad request", status_code=400))
    with pytest.raises(ProviderError):
        await finish(agent, "Weather in Rome?", streaming=streaming)
    run, request = telemetry.spans()
    for span in (run, request):
        assert attributes(span)["error.type"] == "400"
        assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in run.events] == ["exception"]
    assert [event.name for event in request.events] == []
    assert "gen_ai.usage.input_tokens" not in attributes(run)


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize("limit", [{"max_input_tokens": 10}, {"max_requests": 1}], ids=["tokens", "requests"])
async def test_a_spent_budget_ends_the_run_span_with_its_error(
    streaming: bool, limit: dict[str, int], telemetry: Telemetry
) -> None:
    instrument(telemetry)
    with pytest.raises(BudgetExceededError):
        await finish(forecaster(budget=Budget(**limit)), "Weather in Rome?", streaming=streaming)
    assert [name for name, _, _ in telemetry.tree()] == [
        "invoke_agent forecaster",
        "chat gemini-2.5-flash",
        "execute_tool weather",
    ]
    run, *others = telemetry.spans()
    run_attributes = attributes(run)
    assert run_attributes["error.type"] == "BudgetExceededError"
    assert run.status.status_code is StatusCode.ERROR
    assert [event.name for event in run.events] == ["exception"]
    # What the run spent before it stopped: the first step's tokens.
    assert (run_attributes["gen_ai.usage.input_tokens"], run_attributes["gen_ai.usage.output_tokens"]) == (
        12,
        7,
    )
    assert "gen_ai.response.finish_reasons" not in run_attributes
    assert all(span.status.status_code is StatusCode.UNSET for span in others)


@pytest.mark.anyio
@MODES
async def test_failed_tool_calls_mark_their_spans(streaming: bool, telemetry: Telemetry) -> None:
    instrument(telemetry)
    model = MockModel([MockModel.tool_calls(("broken", {}), ("missing", {})), "Sorry."])
    await finish(Agent(model, tools=[broken]), "Go", streaming=streaming)
    tools = {span.name: span for span in telemetry.spans() if span.name.startswith("execute_tool")}
    assert attributes(tools["execute_tool broken"])["error.type"] == "ValueError"
    assert attributes(tools["execute_tool missing"])["error.type"] == "invalid_tool_call"
    for span in tools.values():
        assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in tools["execute_tool broken"].events] == ["exception"]


# --------------------------------------------------------------------------- content


@pytest.mark.anyio
@MODES
async def test_content_is_recorded_only_with_capture_content(streaming: bool, telemetry: Telemetry) -> None:
    instrument(telemetry)
    await finish(forecaster(), "Weather in Rome?", streaming=streaming)
    assert all(CONTENT_KEYS.isdisjoint(attributes(span)) for span in telemetry.spans())

    telemetry.exporter.clear()
    instrument(telemetry, capture_content=True)
    await finish(forecaster(), "Weather in Rome?", streaming=streaming)
    run, first, weather_call, second = [attributes(span) for span in telemetry.spans()]
    prompt = [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Rome?"}]},
    ]
    call = {"type": "tool_call", "id": "call_1", "name": "weather", "arguments": {"location": "Rome"}}
    said = [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "It is 40 C in Rome."}],
            "finish_reason": "stop",
        }
    ]
    assert json.loads(run["gen_ai.input.messages"]) == prompt
    assert json.loads(run["gen_ai.output.messages"]) == said
    assert json.loads(first["gen_ai.input.messages"]) == prompt
    assert json.loads(first["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [call], "finish_reason": "tool_call"}
    ]
    assert weather_call["gen_ai.tool.call.arguments"] == '{"location": "Rome"}'
    assert weather_call["gen_ai.tool.call.result"] == "40 C in Rome"
    assert json.loads(second["gen_ai.input.messages"]) == [
        *prompt,
        {"role": "assistant", "parts": [call]},
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "40 C in Rome"}],
        },
    ]
    assert json.loads(second["gen_ai.output.messages"]) == said


# --------------------------------------------------------------------------- switching it on and off


@pytest.mark.anyio
@MODES
async def test_nothing_is_recorded_without_instrument_even_with_a_global_provider(
    streaming: bool, telemetry: Telemetry
) -> None:
    global_recorded = global_telemetry()
    before = global_recorded.metrics()
    agent = forecaster()
    await finish(agent, "Weather in Rome?", streaming=streaming)
    assert global_recorded.spans() == []
    assert global_recorded.metrics() == before
    assert telemetry.spans() == []
    assert agent._config("again", None, {}).hooks is NO_HOOKS  # pyright: ignore[reportPrivateUsage]


@pytest.mark.anyio
@MODES
async def test_agent_instrument_true_uses_the_global_providers(streaming: bool, telemetry: Telemetry) -> None:
    global_recorded = global_telemetry()
    await finish(forecaster(instrument=True), "Weather in Rome?", streaming=streaming)
    assert [name for name, _, _ in global_recorded.tree()] == [
        "invoke_agent forecaster",
        "chat gemini-2.5-flash",
        "execute_tool weather",
        "chat gemini-2.5-flash",
    ]
    assert all(CONTENT_KEYS.isdisjoint(attributes(span)) for span in global_recorded.spans())
    assert telemetry.spans() == []


@pytest.mark.anyio
async def test_agent_instrument_follows_the_global_settings(telemetry: Telemetry) -> None:
    instrument(telemetry, capture_content=True)
    await forecaster(instrument=True).generate_async("Weather in Rome?")
    assert len(telemetry.spans()) == 4
    assert "gen_ai.input.messages" in attributes(telemetry.spans()[0])
    assert global_telemetry().spans() == []

    telemetry.exporter.clear()
    await forecaster(instrument=False).generate_async("Weather in Rome?")
    assert telemetry.spans() == []


@pytest.mark.anyio
async def test_uninstrument_stops_recording(telemetry: Telemetry) -> None:
    instrument(telemetry)
    agent = forecaster()
    await agent.generate_async("Weather in Rome?")
    assert len(telemetry.spans()) == 4
    reverie.uninstrument()
    agent = forecaster()
    await agent.generate_async("Weather in Rome?")
    assert len(telemetry.spans()) == 4
    assert global_telemetry().spans() == []


@pytest.mark.anyio
async def test_instrument_again_replaces_the_settings(telemetry: Telemetry) -> None:
    instrument(telemetry)
    replacement = Telemetry()
    instrument(replacement)
    await forecaster().generate_async("Weather in Rome?")
    assert telemetry.spans() == []
    assert len(replacement.spans()) == 4


# --------------------------------------------------------------------------- context


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize(
    "calls",
    [
        [("sync_probe", {"n": 0})],
        [("async_probe", {"n": 0})],
        [
            ("sync_probe", {"n": 0}),
            ("async_probe", {"n": 1}),
            ("sync_probe", {"n": 2}),
            ("async_probe", {"n": 3}),
        ],
    ],
    ids=["sync tool", "async tool", "parallel tools"],
)
async def test_a_span_started_in_a_tool_is_a_child_of_its_execute_tool_span(
    streaming: bool, calls: list[tuple[str, dict[str, Any]]], telemetry: Telemetry
) -> None:
    instrument(telemetry)
    model = MockModel([MockModel.tool_calls(*calls), "Done."])
    await finish(Agent(model, tools=[sync_probe, async_probe]), "Probe", streaming=streaming)
    spans = telemetry.spans()
    by_id = {span.context.span_id: span for span in spans if span.context is not None}
    inside = [span for span in spans if span.name.startswith("inside")]
    assert len(inside) == len(calls)
    for span in inside:
        assert span.parent is not None
        parent = by_id[span.parent.span_id]
        kind, number = span.name.removeprefix("inside ").split()
        assert parent.name == f"execute_tool {kind}_probe"
        assert attributes(parent)["gen_ai.tool.call.id"] == f"call_{number}"


@pytest.mark.anyio
@MODES
async def test_the_run_is_a_child_of_the_callers_span_and_leaves_its_context_alone(
    streaming: bool, telemetry: Telemetry
) -> None:
    instrument(telemetry)
    tracer = telemetry.tracer_provider.get_tracer("app")
    agent = forecaster()
    with tracer.start_as_current_span("request") as outer:
        if streaming:
            stream = agent.stream_async("Weather in Rome?")
            async for _ in stream:
                assert trace.get_current_span() is outer
        else:
            await agent.generate_async("Weather in Rome?")
        assert trace.get_current_span() is outer
    assert telemetry.tree()[:2] == [
        ("request", "INTERNAL", None),
        ("invoke_agent forecaster", "INTERNAL", "request"),
    ]

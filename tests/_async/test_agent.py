"""The agent shell with a scripted model: the step loop, tools, stop conditions, callbacks, streams.

This is the async source; ``tests/_sync/test_agent.py`` is generated from it by
``scripts/unasync.py``. Helpers that must keep their colour live in ``tests/agent_helpers.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from reverie import (
    DEFAULT_MAX_STEPS,
    Agent,
    AgentResult,
    AgentStreamPart,
    Call,
    FinishPart,
    Message,
    ProviderError,
    ReasoningPart,
    Response,
    RetryPart,
    RetryPolicy,
    StepContext,
    StepOverrides,
    StepResult,
    StreamStartPart,
    TextDeltaPart,
    TextEndPart,
    TextPart,
    TextStartPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
    UserError,
    finish_reason_is,
    has_tool_call,
    max_tokens_used,
    step_count_is,
    tool,
)
from reverie._concurrency import async_sleep
from reverie.testing import MockModel
from tests.agent_helpers import AsyncRendezvous, async_shout, call_in_running_loop

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
NO_WAIT = RetryPolicy(max_retries=2, initial_delay=0.0)


@tool
def weather(location: str) -> str:
    """Get the weather for a location."""
    return f"40 C in {location}"


@tool
def sync_upper(text: str) -> str:
    """Upper-case the text."""
    return text.upper()


def weather_call(location: str = "Florence", *, usage: Usage | None = None) -> Response:
    return MockModel.tool_calls(("weather", {"location": location}), usage=usage)


def usage(total: int) -> Usage:
    return Usage(input_tokens=total - 1, output_tokens=1, total_tokens=total)


async def run(
    agent: Agent, prompt: str | None = "What's the weather in Florence?", *, streaming: bool, **settings: Any
) -> tuple[AgentResult, list[AgentStreamPart]]:
    """Run ``agent`` once, whole or streamed; the parts are empty when not streaming."""
    if not streaming:
        return await agent.generate_async(prompt, **settings), []
    stream = agent.stream_async(prompt, **settings)
    parts = [part async for part in stream]
    return await stream.result(), parts


class ClosingModel:
    """Streams three words and records whether its stream was closed."""

    provider = "mock"
    model_id = "closing"

    def __init__(self) -> None:
        self.calls = 0
        self.closed = False

    async def stream_async(self, call: Call) -> AsyncIterator[Any]:
        self.calls += 1
        try:
            yield StreamStartPart()
            yield TextStartPart(id="0")
            for word in ("one ", "two ", "three"):
                yield TextDeltaPart(id="0", delta=word)
            yield TextEndPart(id="0")
            yield FinishPart(finish_reason="stop", usage=Usage())
        finally:
            self.closed = True


# --------------------------------------------------------------------------- the tool loop


@pytest.mark.anyio
@MODES
async def test_tool_loop_runs_two_steps(streaming: bool) -> None:
    model = MockModel([weather_call(), "It is 40 C in Florence."])
    agent = Agent(model, system_prompt="Be brief.", tools=[weather])
    result, _ = await run(agent, streaming=streaming)

    assert len(result.steps) == 2
    first, second = result.steps
    call = ToolCallPart(tool_call_id="call_0", tool_name="weather", input='{"location": "Florence"}')
    output = ToolResultPart(tool_call_id="call_0", tool_name="weather", output="40 C in Florence")
    assert first.finish_reason == "tool_calls"
    assert first.tool_calls == [call]
    assert first.tool_results == [output]
    assert first.content == [call, output]
    assert first.messages == [
        Message(role="assistant", content=[call]),
        Message(role="tool", content=[output]),
    ]
    assert second.finish_reason == "stop"
    assert second.messages == [Message(role="assistant", content=[TextPart(text="It is 40 C in Florence.")])]
    assert result.text == "It is 40 C in Florence."
    assert result.finish_reason == "stop"
    assert result.response_messages == [*first.messages, *second.messages]
    assert result.tool_calls == [call]

    first_call, second_call = model.calls
    opening = [Message.system("Be brief."), Message.user("What's the weather in Florence?")]
    assert first_call.prompt == opening
    assert first_call.tools == [weather.definition()]
    assert second_call.prompt == [*opening, *first.messages]
    assert [step.step_number for step in result.steps] == [0, 1]
    assert first.model_id == "mock-model" and first.provider == "mock"


@pytest.mark.anyio
@MODES
async def test_text_comes_from_the_last_step_with_non_blank_text(streaming: bool) -> None:
    model = MockModel(
        [
            Response(
                content=[TextPart(text="Let me check."), *weather_call().content],
                finish_reason="tool_calls",
                usage=Usage(),
            ),
            Response(content=[TextPart(text=" \n\t")], finish_reason="stop", usage=Usage()),
        ]
    )
    result, _ = await run(Agent(model, tools=[weather]), streaming=streaming)
    assert [step.text for step in result.steps] == ["Let me check.", " \n\t"]
    assert result.text == "Let me check."


@pytest.mark.anyio
@MODES
async def test_text_is_empty_when_no_step_wrote_any(streaming: bool) -> None:
    model = MockModel([weather_call(), Response(content=[], finish_reason="stop", usage=Usage())])
    result, _ = await run(Agent(model, tools=[weather]), streaming=streaming)
    assert len(result.steps) == 2
    assert result.text == ""


@pytest.mark.anyio
@MODES
async def test_total_usage_sums_the_steps(streaming: bool) -> None:
    first = Usage(input_tokens=10, output_tokens=5, total_tokens=15, reasoning_tokens=2, cache_read_tokens=4)
    second = Usage(input_tokens=30, output_tokens=7, total_tokens=37, cache_creation_tokens=3)
    model = MockModel([weather_call(usage=first), MockModel.text("Hot.", usage=second)])
    result, parts = await run(Agent(model, tools=[weather]), streaming=streaming)
    total = Usage(
        input_tokens=40,
        output_tokens=12,
        total_tokens=52,
        reasoning_tokens=2,
        cache_creation_tokens=3,
        cache_read_tokens=4,
    )
    assert [step.usage for step in result.steps] == [first, second]
    assert result.total_usage == total
    if streaming:
        assert parts[-1] == FinishPart(finish_reason="stop", usage=total)


@pytest.mark.anyio
@MODES
async def test_tool_exception_becomes_an_error_result_and_the_run_goes_on(streaming: bool) -> None:
    @tool
    def broken(location: str) -> str:
        """Always fails."""
        raise ValueError(f"no data for {location}")

    model = MockModel([MockModel.tool_calls(("broken", {"location": "Rome"})), "Sorry."])
    result, _ = await run(Agent(model, tools=[broken]), streaming=streaming)
    assert result.steps[0].tool_results == [
        ToolResultPart(
            tool_call_id="call_0", tool_name="broken", output="ValueError: no data for Rome", is_error=True
        )
    ]
    assert result.text == "Sorry."
    assert model.calls[1].prompt[-1] == Message(role="tool", content=result.steps[0].tool_results)


@pytest.mark.anyio
@MODES
async def test_unknown_tool_is_an_invalid_call_with_an_error_result(streaming: bool) -> None:
    model = MockModel([MockModel.tool_calls(("forecast", {"days": 3})), "Sorry."])
    result, _ = await run(Agent(model, tools=[weather]), streaming=streaming)
    (call,) = result.steps[0].tool_calls
    assert call.invalid is True
    assert call.error is not None and "forecast" in call.error
    (output,) = result.steps[0].tool_results
    assert output.is_error is True
    assert "forecast" in output.output
    assert len(result.steps) == 2


# --------------------------------------------------------------------------- stop conditions


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize(
    ("stop_when", "steps"),
    [
        (step_count_is(1), 1),
        (step_count_is(3), 3),
        (has_tool_call("weather"), 1),
        (has_tool_call("other"), 4),
        (finish_reason_is("tool_calls"), 1),
        (finish_reason_is("length"), 4),
        (max_tokens_used(25), 3),
        (lambda steps: steps[-1].tool_results[0].output.startswith("40 C in B"), 2),
        ([step_count_is(9), has_tool_call("weather")], 1),
    ],
    ids=[
        "step_count_is(1)",
        "step_count_is(3)",
        "has_tool_call",
        "has_tool_call-other",
        "finish_reason_is",
        "finish_reason_is-other",
        "max_tokens_used",
        "callable",
        "list",
    ],
)
async def test_stop_conditions(streaming: bool, stop_when: Any, steps: int) -> None:
    # The model would call the tool forever; max_steps=4 is the backstop.
    script = [weather_call(location, usage=usage(10)) for location in ("A", "B", "C", "D")]
    model = MockModel(script)
    result, _ = await run(
        Agent(model, tools=[weather]), streaming=streaming, stop_when=stop_when, max_steps=4
    )
    assert len(result.steps) == steps
    assert len(model.calls) == steps
    # A stopped step still ran its tools.
    assert all(len(step.tool_results) == 1 for step in result.steps)


@pytest.mark.anyio
@MODES
async def test_default_max_steps_caps_a_model_that_always_calls_a_tool(streaming: bool) -> None:
    model = MockModel(weather_call())  # the same answer to every call
    result, _ = await run(Agent(model, tools=[weather]), streaming=streaming)
    assert len(result.steps) == DEFAULT_MAX_STEPS
    assert len(model.calls) == DEFAULT_MAX_STEPS
    assert result.finish_reason == "tool_calls"
    assert result.text == ""


@pytest.mark.anyio
async def test_max_steps_setting_on_the_agent_and_per_call() -> None:
    model = MockModel(weather_call())
    agent = Agent(model, tools=[weather], max_steps=2)
    assert len((await agent.generate_async("hi")).steps) == 2
    assert len((await agent.generate_async("hi", max_steps=3)).steps) == 3
    with pytest.raises(UserError, match="max_steps"):
        await agent.generate_async("hi", max_steps=0)


@pytest.mark.anyio
async def test_a_settings_change_after_a_run_takes_effect_on_the_next_run() -> None:
    # Runs reuse what they resolved from the agent's settings while the settings stay the same.
    model = MockModel(weather_call())
    agent = Agent(model, tools=[weather], max_steps=1, temperature=0.5, provider_options={"mock": {"a": 1}})
    await agent.generate_async("hi")
    await agent.generate_async("hi")
    assert [call.temperature for call in model.calls] == [0.5, 0.5]
    agent.settings["temperature"] = 0.25  # a value set in place
    agent.settings["max_steps"] = 2
    options = agent.settings["provider_options"]
    assert options is not None
    options["mock"] = {"a": 2}  # a dict changed in place
    assert len((await agent.generate_async("hi")).steps) == 2
    assert [call.temperature for call in model.calls[2:]] == [0.25, 0.25]
    assert model.calls[-1].provider_options == {"mock": {"a": 2}}
    agent.settings["headers"] = {"X-Trace": "on"}
    agent.settings["stop_when"] = step_count_is(1)
    assert len((await agent.generate_async("hi")).steps) == 1
    assert model.calls[-1].headers == {"x-trace": "on"}
    agent.settings = {"max_steps": 0}  # the settings replaced: checked again
    with pytest.raises(UserError, match="max_steps"):
        await agent.generate_async("hi")


# --------------------------------------------------------------------------- prepare_step and repair


@pytest.mark.anyio
@MODES
async def test_prepare_step_switches_model_tools_choice_and_messages(streaming: bool) -> None:
    first_model = MockModel([weather_call()], model_id="first")
    second_model = MockModel(["Summary: hot."], model_id="second")
    seen: list[StepContext] = []

    def prepare(context: StepContext) -> StepOverrides | None:
        seen.append(context)
        if context.step_number == 0:
            return StepOverrides(tool_choice="required")
        return StepOverrides(
            model=second_model,
            tools=[],
            tool_choice="none",
            messages=[Message.system("Summarise."), *context.messages[1:]],
            provider_options={"mock": {"step": 1}},
        )

    agent = Agent(first_model, system_prompt="Be brief.", tools=[weather], prepare_step=prepare)
    result, _ = await run(agent, streaming=streaming, provider_options={"mock": {"step": 0}})

    assert [context.step_number for context in seen] == [0, 1]
    assert all(context.model is first_model for context in seen)
    assert len(seen[1].steps) == 1
    assert seen[1].messages[-2:] == result.steps[0].messages

    (step_zero,) = first_model.calls
    assert step_zero.tool_choice == "required"
    assert step_zero.tools == [weather.definition()]
    assert step_zero.provider_options == {"mock": {"step": 0}}
    (step_one,) = second_model.calls
    assert step_one.tools == []
    assert step_one.tool_choice == "none"
    assert step_one.prompt[0] == Message.system("Summarise.")
    assert step_one.prompt[1:] == seen[1].messages[1:]
    assert step_one.provider_options == {"mock": {"step": 1}}
    assert [step.model_id for step in result.steps] == ["first", "second"]
    assert result.text == "Summary: hot."


@pytest.mark.anyio
async def test_prepare_step_returning_none_keeps_everything() -> None:
    model = MockModel([weather_call(), "ok"])
    agent = Agent(model, tools=[weather], tool_choice="auto", prepare_step=lambda context: None)
    await agent.generate_async("hi")
    assert [call.tool_choice for call in model.calls] == ["auto", "auto"]
    assert [len(call.tools) for call in model.calls] == [1, 1]


@pytest.mark.anyio
@MODES
async def test_repair_tool_call_fixes_an_invalid_call(streaming: bool) -> None:
    repairs: list[tuple[ToolCallPart, str]] = []

    def repair(call: ToolCallPart, error: str) -> ToolCallPart | None:
        repairs.append((call, error))
        return ToolCallPart(
            tool_call_id=call.tool_call_id, tool_name="weather", input='{"location": "Florence"}'
        )

    model = MockModel([MockModel.tool_calls(("weather", {"city": "Florence"})), "Hot."])
    result, _ = await run(Agent(model, tools=[weather], repair_tool_call=repair), streaming=streaming)

    ((broken, error),) = repairs
    assert broken.invalid is True
    assert broken.input == '{"city": "Florence"}'
    assert "location" in error
    (call,) = result.steps[0].tool_calls
    assert call == ToolCallPart(tool_call_id="call_0", tool_name="weather", input='{"location": "Florence"}')
    assert result.steps[0].tool_results[0].output == "40 C in Florence"
    assert result.steps[0].tool_results[0].is_error is False
    # The repaired call is what goes back to the model.
    assert model.calls[1].prompt[-2].content == [call]


@pytest.mark.anyio
@MODES
async def test_repair_returning_none_keeps_the_call_invalid(streaming: bool) -> None:
    model = MockModel([MockModel.tool_calls(("weather", "{not json")), "Sorry."])
    result, _ = await run(
        Agent(model, tools=[weather], repair_tool_call=lambda call, error: None), streaming=streaming
    )
    (call,) = result.steps[0].tool_calls
    assert call.invalid is True
    (output,) = result.steps[0].tool_results
    assert output.is_error is True
    assert "JSON" in output.output


# --------------------------------------------------------------------------- callbacks


def _callback_log(log: list[tuple[Any, ...]]) -> dict[str, Any]:
    return {
        "on_step_start": lambda number: log.append(("step_start", number)),
        "on_step_finish": lambda step: log.append(("step_finish", step.step_number, step.text)),
        "on_text_delta": lambda delta: log.append(("text_delta", delta)),
        "on_reasoning_delta": lambda delta: log.append(("reasoning_delta", delta)),
        "on_tool_call": lambda call: log.append(("tool_call", call.tool_name, call.input, call.invalid)),
        "on_tool_result": lambda result: log.append(("tool_result", result.output)),
        "on_retry": lambda retry: log.append(("retry", retry.attempt)),
        "on_finish": lambda result: log.append(("finish", result.text, len(result.steps))),
    }


@pytest.mark.anyio
@MODES
async def test_callbacks_are_called_in_order_with_their_values(streaming: bool) -> None:
    model = MockModel(
        [
            Response(
                content=[ReasoningPart(text="hmm"), TextPart(text="Checking."), *weather_call().content],
                finish_reason="tool_calls",
                usage=Usage(),
            ),
            "Hot.",
        ]
    )
    log: list[tuple[Any, ...]] = []
    finished: list[AgentResult] = []
    steps: list[StepResult] = []
    callbacks = _callback_log(log)
    hooks = {
        **callbacks,
        "on_finish": lambda result: (finished.append(result), callbacks["on_finish"](result)),
        "on_step_finish": lambda step: (steps.append(step), callbacks["on_step_finish"](step)),
    }
    agent = Agent(model, tools=[weather], **hooks)
    result, _ = await run(agent, streaming=streaming)

    deltas_zero = [("reasoning_delta", "hmm"), ("text_delta", "Checking.")] if streaming else []
    deltas_one = [("text_delta", "Hot.")] if streaming else []
    assert log == [
        ("step_start", 0),
        *deltas_zero,
        ("tool_call", "weather", '{"location": "Florence"}', False),
        ("tool_result", "40 C in Florence"),
        ("step_finish", 0, "Checking."),
        ("step_start", 1),
        *deltas_one,
        ("step_finish", 1, "Hot."),
        ("finish", "Hot.", 2),
    ]
    assert finished == [result]
    assert steps == result.steps


@pytest.mark.anyio
@MODES
async def test_on_retry_is_called_before_the_step_is_retried(streaming: bool) -> None:
    busy = ProviderError("busy", status_code=503)
    model = MockModel([busy, "Olá!"])
    log: list[tuple[Any, ...]] = []
    retries: list[RetryPart] = []
    callbacks = _callback_log(log)
    agent = Agent(
        model,
        retry=NO_WAIT,
        **{**callbacks, "on_retry": lambda retry: (retries.append(retry), callbacks["on_retry"](retry))},
    )
    result, parts = await run(agent, streaming=streaming)

    (retry,) = retries
    assert retry.step_number == 0
    assert retry.attempt == 1
    assert retry.delay == 0.0
    assert retry.error is busy
    assert log[:2] == [("step_start", 0), ("retry", 1)]
    assert log[-1] == ("finish", "Olá!", 1)
    assert result.text == "Olá!"
    assert len(model.calls) == 2
    if streaming:
        assert [part for part in parts if isinstance(part, RetryPart)] == [retry]


# --------------------------------------------------------------------------- streams


@pytest.mark.anyio
async def test_stream_part_order() -> None:
    model = MockModel(
        [
            Response(
                content=[TextPart(text="Checking."), *weather_call().content],
                finish_reason="tool_calls",
                usage=usage(10),
            ),
            MockModel.text("Hot.", usage=usage(5)),
        ]
    )
    stream = Agent(model, tools=[weather]).stream_async("hi")
    parts = [part async for part in stream]
    assert [part.type for part in parts] == [
        "step_start",
        "stream_start",
        "text_start",
        "text_delta",
        "text_end",
        "tool_input_start",
        "tool_input_delta",
        "tool_input_end",
        "tool_call",
        "tool_result",
        "step_finish",
        "step_start",
        "stream_start",
        "text_start",
        "text_delta",
        "text_end",
        "step_finish",
        "finish",
    ]
    result = await stream.result()
    step_finishes = [part for part in parts if part.type == "step_finish"]
    assert [part.step for part in step_finishes] == result.steps
    assert [part.step_number for part in step_finishes] == [0, 1]
    assert [part.usage for part in step_finishes] == [usage(10), usage(5)]
    assert parts[-1] == FinishPart(finish_reason="stop", usage=usage(10) + usage(5))
    # Only the run's finish is forwarded; the model's per-step finish parts are folded in.
    assert sum(part.type == "finish" for part in parts) == 1


@pytest.mark.anyio
async def test_result_after_partial_iteration_drains_the_rest() -> None:
    model = MockModel([weather_call(), "Hot."])
    stream = Agent(model, tools=[weather]).stream_async("hi")
    seen: list[AgentStreamPart] = []
    async for part in stream:
        seen.append(part)
        if len(seen) == 3:
            break
    assert len(model.calls) == 1
    result = await stream.result()
    assert result.text == "Hot."
    assert len(result.steps) == 2
    assert len(model.calls) == 2
    assert stream.steps == result.steps
    assert [part async for part in stream] == []
    assert await stream.result() is result


@pytest.mark.anyio
async def test_stream_is_lazy() -> None:
    model = MockModel("Olá!")
    stream = Agent(model).stream_async("Say hi")
    assert model.calls == []
    assert stream.steps == []
    assert (await stream.__anext__()).type == "step_start"
    assert (await stream.__anext__()).type == "stream_start"
    assert len(model.calls) == 1
    assert (await stream.result()).text == "Olá!"


@pytest.mark.anyio
async def test_aclose_stops_the_run_and_closes_the_model_stream() -> None:
    model = ClosingModel()
    stream = Agent(model).stream_async("count")  # type: ignore[arg-type]
    async for part in stream:
        if isinstance(part, TextDeltaPart):
            break
    assert model.closed is False
    await stream.aclose()
    assert model.closed is True
    assert model.calls == 1
    assert [part async for part in stream] == []
    with pytest.raises(UserError, match="closed"):
        await stream.result()


@pytest.mark.anyio
async def test_aclose_before_iterating_starts_nothing() -> None:
    model = MockModel("never")
    stream = Agent(model).stream_async("hi")
    await stream.aclose()
    assert [part async for part in stream] == []
    assert model.calls == []


@pytest.mark.anyio
async def test_stream_as_context_manager_closes_it() -> None:
    model = ClosingModel()
    async with Agent(model).stream_async("count") as stream:  # type: ignore[arg-type]
        async for part in stream:
            if isinstance(part, TextDeltaPart):
                break
    assert model.closed is True


# --------------------------------------------------------------------------- running tools


@pytest.mark.anyio
@MODES
async def test_parallel_tools_run_concurrently(streaming: bool) -> None:
    # Each call waits for the other to start: run one after the other, both would time out.
    rendezvous = AsyncRendezvous(2)

    @tool(parallel=True)
    async def left() -> str:
        """Meet right."""
        return "met" if await rendezvous.wait() else "alone"

    @tool(parallel=True)
    async def right() -> str:
        """Meet left."""
        return "met" if await rendezvous.wait() else "alone"

    model = MockModel([MockModel.tool_calls(("left", {}), ("right", {})), "Both met."])
    result, _ = await run(Agent(model, tools=[left, right]), streaming=streaming)
    results = result.steps[0].tool_results
    assert [(item.tool_name, item.output) for item in results] == [("left", "met"), ("right", "met")]


@pytest.mark.anyio
@MODES
async def test_other_tools_run_sequentially_in_call_order(streaming: bool) -> None:
    log: list[str] = []

    @tool
    async def first() -> str:
        """First."""
        log.append("first:start")
        await async_sleep(0.01)
        log.append("first:end")
        return "1"

    @tool
    async def second() -> str:
        """Second."""
        log.append("second:start")
        await async_sleep(0.01)
        log.append("second:end")
        return "2"

    model = MockModel([MockModel.tool_calls(("second", {}), ("first", {}), ("second", {})), "done"])
    result, _ = await run(Agent(model, tools=[first, second]), streaming=streaming)
    assert log == ["second:start", "second:end", "first:start", "first:end", "second:start", "second:end"]
    assert [item.output for item in result.steps[0].tool_results] == ["2", "1", "2"]
    assert [item.tool_call_id for item in result.steps[0].tool_results] == ["call_0", "call_1", "call_2"]


@pytest.mark.anyio
@MODES
async def test_sync_and_async_tools_run_in_either_api(streaming: bool) -> None:
    # Run by the coroutine API, the plain-function tool goes to a worker thread; run by the
    # generated sync twin, the coroutine tool (imported, so it keeps its colour) gets a
    # private event loop.
    model = MockModel(
        [MockModel.tool_calls(("sync_upper", {"text": "a"}), ("async_shout", {"text": "b"})), "ok"]
    )
    result, _ = await run(Agent(model, tools=[sync_upper, async_shout]), streaming=streaming)
    assert [item.output for item in result.steps[0].tool_results] == ["A", "B!"]
    assert not any(item.is_error for item in result.steps[0].tool_results)


def test_async_tool_from_the_sync_api_inside_a_running_loop_is_a_user_error() -> None:
    def agent() -> Agent:
        model = MockModel([MockModel.tool_calls(("async_shout", {"text": "x"})), "done"])
        return Agent(model, tools=[async_shout])

    with pytest.raises(UserError, match="running event loop"):
        call_in_running_loop(lambda: agent().generate("hi"))
    with pytest.raises(UserError, match="running event loop"):
        call_in_running_loop(lambda: agent().stream("hi").result())


# --------------------------------------------------------------------------- input and settings


@pytest.mark.anyio
@MODES
async def test_message_history_is_continued(streaming: bool) -> None:
    model = MockModel("Tchau!")
    history = [Message.user("Say hi in Portuguese"), Message.assistant("Olá!")]
    agent = Agent(model, system_prompt="Be brief.")
    await run(agent, "Now say bye.", streaming=streaming, messages=history)
    assert model.calls[0].prompt == [Message.system("Be brief."), *history, Message.user("Now say bye.")]


@pytest.mark.anyio
async def test_messages_alone_or_as_the_prompt() -> None:
    model = MockModel("ok")
    agent = Agent(model)
    history = [Message.user("one"), Message.assistant("two"), Message.user("three")]
    await agent.generate_async(messages=history)
    await agent.generate_async(history)
    assert [call.prompt for call in model.calls] == [history, history]
    with pytest.raises(UserError, match="nothing to send"):
        await agent.generate_async()


@pytest.mark.anyio
async def test_continuing_from_response_messages() -> None:
    model = MockModel([weather_call(), "Hot.", "You asked about Florence."])
    agent = Agent(model, tools=[weather])
    first = await agent.generate_async("Weather in Florence?")
    await agent.generate_async(
        "What did I ask?", messages=[Message.user("Weather in Florence?"), *first.response_messages]
    )
    assert model.calls[2].prompt == [
        Message.user("Weather in Florence?"),
        *first.response_messages,
        Message.user("What did I ask?"),
    ]


@pytest.mark.anyio
@MODES
async def test_sampling_settings_reach_the_call(streaming: bool) -> None:
    model = MockModel("ok")
    agent = Agent(model, temperature=0.2, max_output_tokens=100, seed=1, top_k=3)
    await run(
        agent,
        streaming=streaming,
        temperature=0.7,
        top_p=0.5,
        presence_penalty=0.1,
        frequency_penalty=-0.1,
        stop_sequences=["END"],
        headers={"x-trace": "1"},
        provider_options={"mock": {"flag": True}},
        tool_choice="none",
    )
    (call,) = model.calls
    assert call.temperature == 0.7  # the call's value wins
    assert call.max_output_tokens == 100  # the agent's default stays
    assert call.seed == 1
    assert call.top_k == 3
    assert call.top_p == 0.5
    assert call.presence_penalty == 0.1
    assert call.frequency_penalty == -0.1
    assert call.stop_sequences == ["END"]
    assert call.headers == {"x-trace": "1"}
    assert call.provider_options == {"mock": {"flag": True}}
    assert call.tool_choice == "none"


@pytest.mark.anyio
async def test_unset_settings_stay_none() -> None:
    model = MockModel("ok")
    await Agent(model).generate_async("hi")
    (call,) = model.calls
    assert (call.temperature, call.top_p, call.max_output_tokens, call.tool_choice) == (
        None,
        None,
        None,
        None,
    )
    assert call.provider_options == {} and call.tools == []


@pytest.mark.anyio
async def test_unknown_setting_is_a_type_error_naming_it() -> None:
    model = MockModel("ok")
    with pytest.raises(TypeError, match="temprature"):
        Agent(model, temprature=0.1)  # type: ignore[call-arg]
    agent = Agent(model)
    with pytest.raises(TypeError, match="max_token"):
        await agent.generate_async("hi", max_token=5)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="seeds"):
        agent.stream_async("hi", seeds=1)  # type: ignore[call-arg]
    assert model.calls == []


@pytest.mark.parametrize(
    "not_a_tool",
    [lambda location: location, "weather", weather.function],
    ids=["lambda", "str", "plain-function"],
)
def test_tools_must_be_made_with_the_decorator(not_a_tool: Any) -> None:
    with pytest.raises(UserError, match="@tool"):
        Agent(MockModel("ok"), tools=[weather, not_a_tool])


def test_two_tools_with_one_name_are_a_user_error() -> None:
    twin = tool(name="weather")(lambda location: location)
    with pytest.raises(UserError, match="weather"):
        Agent(MockModel("ok"), tools=[weather, twin])


@pytest.mark.anyio
async def test_generate_does_not_modify_the_model_response() -> None:
    # A scripted response reused across runs must not be changed by validation.
    response = MockModel.tool_calls(("no_such_tool", {}))
    model = MockModel([response, "done"])
    result = await Agent(model, tools=[]).generate_async("hi")
    assert result.steps[0].tool_calls[0].invalid
    assert not response.content[0].invalid  # type: ignore[union-attr]

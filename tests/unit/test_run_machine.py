"""The run machine (``reverie._run.machine.Run``) driven by scripted feeds: no event loop, no HTTP.

Each test plays the driver's part by hand: ask ``next_action()``, collect ``events()``,
feed back what the model, the clock or the tools did, and check what the machine decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from reverie import (
    Discarded,
    FinishPart,
    Message,
    ModelStreamPart,
    ProviderError,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningStartPart,
    RetryError,
    RetryPart,
    RetryPolicy,
    StepContext,
    StepFinishPart,
    StepOverrides,
    StepStartPart,
    StreamStartPart,
    TextDeltaPart,
    TextEndPart,
    TextPart,
    TextStartPart,
    ToolCallPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
    ToolResultPart,
    Usage,
    finish_reason_is,
    has_tool_call,
    max_tokens_used,
    step_count_is,
    tool,
)
from reverie._model import Response
from reverie._run.actions import Action, CallModel, Finish, RunTools, Wait
from reverie._run.config import Callbacks, RunConfig, StopCondition
from reverie._run.machine import Run
from reverie._run.tools import invalid_result, output_result
from reverie._tools.protocol import Tool
from reverie.testing import MockModel


@tool
def weather(location: str) -> str:
    """Get the weather."""
    return f"40 C in {location}"


@tool
def final_answer(text: str) -> str:
    """Give the final answer."""
    return text


MODEL = MockModel("unused", provider="mock", model_id="m-1")
OTHER = MockModel("unused", provider="other", model_id="m-2")


def config(
    *,
    tools: Sequence[Tool] = (weather, final_answer),
    retry: RetryPolicy | None = None,
    max_steps: int = 20,
    stop_when: Sequence[StopCondition] = (),
    **extra: Any,
) -> RunConfig:
    from reverie._model import Call

    return RunConfig(
        model=MODEL,
        messages=[Message.user("hi")],
        tools=tools,
        call_template=Call(prompt=[]),
        retry=retry or RetryPolicy(max_retries=2, initial_delay=1.0, backoff_factor=3.0),
        max_steps=max_steps,
        stop_when=stop_when,
        **extra,
    )


def text_response(text: str, *, total: int = 10) -> Response:
    from reverie import TextPart

    return Response(
        content=[TextPart(text=text)],
        finish_reason="stop",
        usage=Usage(input_tokens=total - 2, output_tokens=2, total_tokens=total),
        response_id="resp-1",
        model_id="m-1-2025",
    )


def call_response(*calls: tuple[str, str], total: int = 10) -> Response:
    content: list[Any] = [
        ToolCallPart(tool_call_id=f"call-{index}", tool_name=name, input=arguments)
        for index, (name, arguments) in enumerate(calls)
    ]
    return Response(content=content, finish_reason="tool_calls", usage=Usage(total_tokens=total))


def run_tools(run: Run, action: Action) -> list[ToolResultPart]:
    """Carry out a ``RunTools`` action synchronously, as the sync driver would."""
    assert isinstance(action, RunTools)
    results: list[ToolResultPart] = []
    for batch in action.batches:
        for call, prepared in batch:
            if prepared is None:
                result = invalid_result(call)
            else:
                result = output_result(call, prepared.tool.call(prepared.arguments))
            run.feed_tool_result(result)
            results.append(result)
    return results


def test_a_tool_loop_calls_the_model_runs_the_tool_and_calls_again() -> None:
    run = Run(config(), streaming=False)
    first = run.next_action()
    assert isinstance(first, CallModel) and first.step_number == 0 and first.attempt == 0
    assert [event.type for event in run.events()] == ["step_start"]
    assert [tool.name for tool in first.call.tools] == ["weather", "final_answer"]

    run.feed_response(call_response(("weather", '{"location": "Rome"}')))
    tools = run.next_action()
    assert isinstance(tools, RunTools) and len(tools.batches) == 1
    (_, prepared), *_ = tools.batches[0]
    assert prepared is not None and prepared.arguments == {"location": "Rome"}
    results = run_tools(run, tools)
    assert [event.type for event in run.events()] == ["tool_result"]
    assert results[0].output == "40 C in Rome"

    second = run.next_action()
    assert isinstance(second, CallModel) and second.step_number == 1
    assert [event.type for event in run.events()] == ["step_finish", "step_start"]
    # The second request carries the assistant's call and the tool's result.
    roles = [message.role for message in second.call.prompt]
    assert roles == ["user", "assistant", "tool"]

    run.feed_response(text_response("It is 40 C."))
    finish = run.next_action()
    assert isinstance(finish, Finish)
    events = run.events()
    assert [event.type for event in events] == ["step_finish", "finish"]
    assert finish.result.text == "It is 40 C." and len(finish.result.steps) == 2
    assert finish.result.steps[1].response_id == "resp-1"
    assert finish.result.steps[1].response_model_id == "m-1-2025"
    assert isinstance(events[-1], FinishPart) and events[-1].usage.total_tokens == 20
    assert isinstance(run.next_action(), Finish)  # it stays finished


def drive_generate(run: Run, script: list[Response | ProviderError]) -> list[Any]:
    """A minimal sync driver over a scripted model: returns the events and actions seen."""
    seen: list[Any] = []
    answers = iter(script)
    while True:
        action = run.next_action()
        seen.extend(run.events())
        seen.append(action)
        if isinstance(action, Finish):
            return seen
        if isinstance(action, CallModel):
            answer = next(answers)
            if isinstance(answer, ProviderError):
                run.feed_error(answer)
            else:
                run.feed_response(answer)
        elif isinstance(action, RunTools):
            run_tools(run, action)
            seen.extend(run.events())


def test_each_stop_condition_ends_the_run() -> None:
    script: list[Response | ProviderError] = [
        call_response(("weather", '{"location": "Rome"}'), total=10),
        call_response(("final_answer", '{"text": "done"}'), total=10),
        call_response(("weather", '{"location": "Oslo"}'), total=10),
        text_response("end"),
    ]
    expectations: list[tuple[StopCondition, int]] = [
        (step_count_is(1), 1),
        (step_count_is(2), 2),
        (has_tool_call("final_answer"), 2),
        (finish_reason_is("tool_calls"), 1),
        (max_tokens_used(25), 3),
        (lambda steps: False, 4),
    ]
    for condition, steps_run in expectations:
        run = Run(config(stop_when=[condition]), streaming=False)
        drive_generate(run, list(script))
        assert run.result is not None and len(run.result.steps) == steps_run, condition


def test_max_steps_caps_a_run_that_keeps_calling_tools() -> None:
    run = Run(config(max_steps=3), streaming=False)
    script: list[Response | ProviderError] = [call_response(("weather", '{"location": "Rome"}'))] * 5
    seen = drive_generate(run, script)
    assert run.result is not None and len(run.result.steps) == 3
    assert sum(isinstance(item, CallModel) for item in seen) == 3
    assert run.result.finish_reason == "tool_calls"


def test_prepare_step_changes_model_messages_tools_and_choice_for_one_step() -> None:
    contexts: list[StepContext] = []

    def prepare(context: StepContext) -> StepOverrides | None:
        contexts.append(context)
        if context.step_number == 1:
            return StepOverrides(
                model=OTHER,
                messages=[Message.user("only this")],
                tools=[final_answer],
                tool_choice="required",
                provider_options={"other": {"x": 1}},
            )
        return None

    run = Run(config(prepare_step=prepare), streaming=False)
    first = run.next_action()
    assert isinstance(first, CallModel) and first.model is MODEL and first.call.tool_choice is None
    run.feed_response(call_response(("weather", '{"location": "Rome"}')))
    run_tools(run, run.next_action())
    second = run.next_action()
    assert isinstance(second, CallModel)
    assert second.model is OTHER and second.call.tool_choice == "required"
    assert [message.text for message in second.call.prompt] == ["only this"]
    assert [definition.name for definition in second.call.tools] == ["final_answer"]
    assert second.call.provider_options == {"other": {"x": 1}}
    assert [context.step_number for context in contexts] == [0, 1]
    assert len(contexts[1].steps) == 1 and contexts[1].model is MODEL
    # The overridden tools apply to validation too: weather is unknown in this step.
    run.feed_response(call_response(("weather", '{"location": "Oslo"}')))
    tools = run.next_action()
    assert isinstance(tools, RunTools)
    call, prepared = tools.batches[0][0]
    assert prepared is None and call.invalid and "unknown tool 'weather'" in (call.error or "")
    step = run.steps  # not finished yet
    assert len(step) == 1


def test_an_invalid_call_is_validated_once_and_its_error_goes_to_the_model() -> None:
    validations: list[str] = []

    class CountingTool:
        name = "weather"
        parallel = False

        def definition(self) -> Any:
            return weather.definition()

        def validate(self, input_json: str) -> Any:
            validations.append(input_json)
            return weather.validate(input_json)

        def call(self, arguments: Any) -> Any:
            return weather.call(arguments)

        async def call_async(self, arguments: Any) -> Any:
            return weather.call(arguments)

    calls: list[ToolCallPart] = []
    run = Run(
        config(tools=[CountingTool()], callbacks=Callbacks(on_tool_call=calls.append)),
        streaming=False,
    )
    run.next_action()
    run.feed_response(call_response(("weather", '{"city": "Rome"}'), ("weather", '{"location": "Oslo"}')))
    tools = run.next_action()
    assert isinstance(tools, RunTools)
    assert validations == ['{"city": "Rome"}', '{"location": "Oslo"}']  # once each
    assert [call.invalid for call in calls] == [True, False]  # on_tool_call sees validated calls
    jobs = [job for batch in tools.batches for job in batch]
    assert jobs[0][1] is None and "location: Field required" in (jobs[0][0].error or "")
    run.feed_tool_result(invalid_result(jobs[0][0]))
    assert jobs[1][1] is not None
    run.feed_tool_result(output_result(jobs[1][0], "40 C"))
    action = run.next_action()
    assert isinstance(action, CallModel)
    tool_message = action.call.prompt[-1]
    assert tool_message.role == "tool"
    first = tool_message.content[0]
    assert isinstance(first, ToolResultPart) and first.is_error and "invalid input" in first.output


def test_repair_gets_one_chance_to_fix_an_invalid_call() -> None:
    def repair(call: ToolCallPart, error: str) -> ToolCallPart | None:
        assert "location" in error
        return ToolCallPart(tool_call_id=call.tool_call_id, tool_name="weather", input='{"location": "Rome"}')

    run = Run(config(repair_tool_call=repair), streaming=False)
    run.next_action()
    run.feed_response(call_response(("weather", "{}")))
    tools = run.next_action()
    assert isinstance(tools, RunTools)
    call, prepared = tools.batches[0][0]
    assert not call.invalid and prepared is not None and prepared.arguments == {"location": "Rome"}


def test_a_retryable_error_waits_the_backoff_then_announces_the_retry_and_calls_again() -> None:
    retries: list[RetryPart] = []
    run = Run(config(callbacks=Callbacks(on_retry=retries.append)), streaming=True)
    first = run.next_action()
    assert isinstance(first, CallModel)
    run.events()
    assert run.feed_part(TextStartPart(id="t")) is not None
    assert run.feed_part(TextDeltaPart(id="t", delta="Hel")) is not None
    run.feed_error(ProviderError("overloaded", status_code=529))
    wait = run.next_action()
    assert wait == Wait(seconds=1.0, step_number=0, attempt=1)
    events = run.events()
    assert len(events) == 1 and isinstance(events[0], RetryPart)
    retry = events[0]
    assert retry.attempt == 1 and retry.delay == 1.0 and retries == [retry]
    assert retry.discarded == Discarded(parts=2, text="Hel")  # text_start, text_delta
    again = run.next_action()
    assert isinstance(again, CallModel) and again.attempt == 1 and again.step_number == 0
    assert run.events() == []
    # The new attempt starts afresh: nothing of the failed one is in the step.
    run.feed_part(TextDeltaPart(id="t", delta="Hello"))
    run.feed_part(FinishPart(finish_reason="stop", usage=Usage(total_tokens=3)))
    finish = run.next_action()
    assert isinstance(finish, Finish) and finish.result.text == "Hello"
    # A second failure in a later step waits the first backoff again (errors are per step).


def test_the_retry_part_reports_what_the_failed_attempt_streamed_not_its_parts() -> None:
    run = Run(config(), streaming=True)
    run.next_action()
    run.events()
    streamed: list[ModelStreamPart] = [
        StreamStartPart(),
        ReasoningStartPart(id="r"),
        ReasoningDeltaPart(id="r", delta="Think"),
        ReasoningDeltaPart(id="r", delta="ing."),
        ReasoningEndPart(id="r"),
        TextStartPart(id="t"),
        *(TextDeltaPart(id="t", delta=piece) for piece in ["It ", "is\r\n", "sunny"]),
        TextEndPart(id="t"),
        ToolInputStartPart(id="c", tool_name="weather"),
        ToolInputDeltaPart(id="c", delta='{"location": '),
        ToolInputDeltaPart(id="c", delta='"Rome"}'),
        ToolInputEndPart(id="c"),
        ToolCallPart(tool_call_id="c", tool_name="weather", input='{"location": "Rome"}'),
    ]
    for part in streamed:
        assert run.feed_part(part) is not None
    run.feed_error(ProviderError("overloaded", status_code=529))
    run.next_action()
    (retry,) = run.events()
    assert isinstance(retry, RetryPart)
    assert retry.discarded == Discarded(
        parts=len(streamed), text="It is\r\nsunny", reasoning="Thinking.", tool_calls=1
    )
    assert retry.discarded
    # The next attempt's retry counts only its own parts.
    run.next_action()
    run.feed_part(TextDeltaPart(id="t", delta="Hi"))
    run.feed_error(ProviderError("overloaded", status_code=529))
    run.next_action()
    (retry,) = run.events()
    assert isinstance(retry, RetryPart)
    assert retry.discarded == Discarded(parts=1, text="Hi")


def test_a_failure_before_any_part_discards_nothing() -> None:
    run = Run(config(), streaming=True)
    run.next_action()
    run.events()
    run.feed_error(ProviderError("overloaded", status_code=529))
    run.next_action()
    (retry,) = run.events()
    assert isinstance(retry, RetryPart)
    assert retry.discarded == Discarded(parts=0, text="", reasoning="", tool_calls=0)
    assert not retry.discarded


def test_a_server_delay_is_honoured_and_backoff_grows() -> None:
    run = Run(config(), streaming=False)
    run.next_action()
    run.feed_error(ProviderError("slow down", status_code=429, response_headers={"retry-after-ms": "250"}))
    assert run.next_action() == Wait(seconds=0.25, step_number=0, attempt=1)
    run.events()
    run.next_action()
    run.feed_error(ProviderError("down", status_code=503))
    assert run.next_action() == Wait(seconds=3.0, step_number=0, attempt=2)


def test_retries_exhausted_raise_a_retry_error_holding_every_attempt() -> None:
    run = Run(config(retry=RetryPolicy(max_retries=2, initial_delay=0.5)), streaming=False)
    errors = [ProviderError(f"down {index}", status_code=500) for index in range(3)]
    run.next_action()
    run.feed_error(errors[0])
    assert isinstance(run.next_action(), Wait)
    assert isinstance(run.next_action(), CallModel)
    run.feed_error(errors[1])
    assert isinstance(run.next_action(), Wait)
    assert isinstance(run.next_action(), CallModel)
    with pytest.raises(RetryError) as raised:
        run.feed_error(errors[2])
    assert raised.value.errors == errors
    assert raised.value.__cause__ is errors[2]


def test_an_error_that_cannot_be_retried_is_raised_as_is() -> None:
    run = Run(config(), streaming=False)
    run.next_action()
    error = ProviderError("bad request", status_code=400)
    with pytest.raises(ProviderError) as raised:
        run.feed_error(error)
    assert raised.value is error


def test_a_stream_broken_after_some_parts_keeps_them_on_the_error() -> None:
    run = Run(config(retry=RetryPolicy(max_retries=0)), streaming=True)
    run.next_action()
    for part in (
        TextStartPart(id="t"),
        TextDeltaPart(id="t", delta="Par"),
        TextDeltaPart(id="t", delta="tial"),
    ):
        run.feed_part(part)
    error = ProviderError("connection reset", retryable=True)
    with pytest.raises(ProviderError) as raised:
        run.feed_error(error)
    assert raised.value.partial_text == "Partial"
    assert raised.value.partial_step is not None and raised.value.partial_step.step_number == 0


def test_text_deltas_of_interleaved_blocks_each_reach_their_own_block() -> None:
    # A delta for the block the last one went to takes a short path; any other goes through
    # the step builder: the text of each block is the same either way, in the order opened.
    run = Run(config(), streaming=True)
    run.next_action()
    for key, delta in [("a", "x1"), ("a", "x2"), ("b", "y1"), ("a", "x3"), ("b", "y2"), ("b", "y3")]:
        assert run.feed_part(TextDeltaPart(id=key, delta=delta)) is not None
    run.feed_part(FinishPart(finish_reason="stop", usage=Usage()))
    assert isinstance(run.next_action(), Finish)
    step = run.steps[0]
    assert [part.text for part in step.content if isinstance(part, TextPart)] == ["x1x2x3", "y1y2y3"]


def test_a_stream_that_ends_without_its_finish_is_retried() -> None:
    run = Run(config(), streaming=True)
    run.next_action()
    run.events()
    run.feed_part(TextDeltaPart(id="t", delta="cut"))
    wait = run.next_action()  # the stream ended: no finish part came
    assert isinstance(wait, Wait) and wait.seconds == 1.0
    (retry,) = run.events()
    assert isinstance(retry, RetryPart) and "ended without a finish" in str(retry.error)
    assert retry.error.partial_text == "cut"


def test_streamed_tool_calls_are_validated_as_they_arrive_and_text_metadata_is_kept() -> None:
    calls: list[ToolCallPart] = []
    run = Run(config(callbacks=Callbacks(on_tool_call=calls.append)), streaming=True)
    run.next_action()
    signature = {"google": {"thought_signature": "sig"}}
    run.feed_part(TextStartPart(id="0"))
    run.feed_part(TextDeltaPart(id="0", delta="Checking."))
    run.feed_part(TextEndPart(id="0", provider_metadata=signature))
    forwarded = run.feed_part(ToolCallPart(tool_call_id="c", tool_name="weather", input="{}"))
    assert isinstance(forwarded, ToolCallPart) and forwarded.invalid and calls == [forwarded]
    assert run.feed_part(FinishPart(finish_reason="tool_calls", usage=Usage(), response_id="r-9")) is None
    tools = run.next_action()
    assert isinstance(tools, RunTools)
    run.feed_tool_result(invalid_result(tools.batches[0][0][0]))
    action = run.next_action()
    assert isinstance(action, CallModel)
    step = run.steps[0]
    assert step.response_id == "r-9"
    assistant = action.call.prompt[-2]
    assert assistant.role == "assistant"
    text = assistant.content[0]
    assert text.provider_metadata == signature  # sent back with the next request


def test_a_provider_executed_result_stays_in_the_assistant_turn() -> None:
    run = Run(config(), streaming=True)
    run.next_action()
    search = ToolCallPart(tool_call_id="s", tool_name="web_search", input="{}", provider_executed=True)
    found = ToolResultPart(tool_call_id="s", tool_name="web_search", output="[...]", provider_executed=True)
    for part in (search, found, TextDeltaPart(id="t", delta="Found it.")):
        assert run.feed_part(part) is part
    run.feed_part(FinishPart(finish_reason="stop", usage=Usage()))
    finish = run.next_action()  # nothing for the run to execute
    assert isinstance(finish, Finish)
    (step,) = finish.result.steps
    assert [message.role for message in step.messages] == ["assistant"]
    assert step.messages[0].content[:2] == [search, found]


def test_callbacks_fire_in_order() -> None:
    log: list[str] = []
    callbacks = Callbacks(
        on_step_start=lambda number: log.append(f"step_start {number}"),
        on_step_finish=lambda step: log.append(f"step_finish {step.step_number}"),
        on_tool_call=lambda call: log.append(f"tool_call {call.tool_name}"),
        on_tool_result=lambda result: log.append(f"tool_result {result.tool_name}"),
        on_finish=lambda result: log.append("finish"),
    )
    run = Run(config(callbacks=callbacks), streaming=False)
    drive_generate(run, [call_response(("weather", '{"location": "Rome"}')), text_response("done")])
    assert log == [
        "step_start 0",
        "tool_call weather",
        "tool_result weather",
        "step_finish 0",
        "step_start 1",
        "step_finish 1",
        "finish",
    ]


def test_parallel_tools_are_batched_and_others_run_alone_in_order() -> None:
    @tool(parallel=True)
    def fast(n: int) -> int:
        return n

    run = Run(config(tools=[weather, fast]), streaming=False)
    run.next_action()
    run.feed_response(
        call_response(
            ("fast", '{"n": 1}'),
            ("fast", '{"n": 2}'),
            ("weather", '{"location": "Rome"}'),
            ("fast", '{"n": 3}'),
        )
    )
    tools = run.next_action()
    assert isinstance(tools, RunTools)
    assert [[call.tool_name for call, _ in batch] for batch in tools.batches] == [
        ["fast", "fast"],
        ["weather"],
        ["fast"],
    ]


def test_step_events_are_agent_parts() -> None:
    run = Run(config(), streaming=False)
    run.next_action()
    (start,) = run.events()
    assert isinstance(start, StepStartPart)
    run.feed_response(text_response("hi"))
    run.next_action()
    finished = run.events()
    assert isinstance(finished[0], StepFinishPart) and finished[0].step.text == "hi"


def test_has_tool_call_ignores_an_invalid_call() -> None:
    run = Run(config(stop_when=[has_tool_call("final_answer")]), streaming=False)
    script: list[Response | ProviderError] = [
        call_response(("final_answer", '{"txt": "done"}')),
        call_response(("final_answer", '{"text": "done"}')),
        text_response("never asked"),
    ]
    drive_generate(run, script)
    assert run.result is not None and len(run.result.steps) == 2
    assert run.result.steps[0].tool_calls[0].invalid

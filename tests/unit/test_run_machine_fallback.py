"""The run machine with a ``FallbackModel``: one error policy for retrying and moving on.

Driven by hand as in ``test_run_machine``: the machine asks for each model of the chain in
turn (``CallModel.model``), waits only between attempts on the same model, announces every
new attempt with a ``retry`` part naming its model, and builds the step from the answering
model alone. The last test runs a real codec as the backup to show that reasoning another
provider signed is dropped with a warning.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    Discarded,
    FallbackModel,
    FinishPart,
    Message,
    ProviderError,
    RetryError,
    RetryPart,
    RetryPolicy,
    StepContext,
    StepOverrides,
    TextDeltaPart,
    TextPart,
    TextStartPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
    tool,
)
from reverie._model import Call, LanguageModel, Response
from reverie._run.actions import CallModel, Finish, RunTools, Wait
from reverie._run.config import Callbacks, RunConfig
from reverie._run.machine import Run
from reverie._tools.protocol import Tool
from reverie.providers import anthropic, google
from reverie.testing import MockModel
from reverie.testing.scenarios import SCENARIO_TOOLS
from tests.wire_answers import ANTHROPIC_TEXT_ANSWER, GEMINI_TOOL_ANSWER

PRIMARY = MockModel("unused", provider="primary", model_id="big-1")
BACKUP = MockModel("unused", provider="backup", model_id="small-2")
CHAIN = FallbackModel(PRIMARY, BACKUP)


@tool
def weather(location: str) -> str:
    """Get the weather."""
    return f"40 C in {location}"


def config(
    model: LanguageModel = CHAIN,
    *,
    retry: RetryPolicy | None = None,
    tools: Sequence[Tool] = (),
    **extra: Any,
) -> RunConfig:
    return RunConfig(
        model=model,
        messages=[Message.user("hi")],
        tools=tools,
        call_template=Call(prompt=[]),
        retry=retry or RetryPolicy(max_retries=1, initial_delay=1.0),
        max_steps=5,
        stop_when=[],
        **extra,
    )


def answer(text: str) -> Response:
    return Response(content=[TextPart(text=text)], finish_reason="stop", usage=Usage(total_tokens=4))


def call_of(run: Run) -> CallModel:
    action = run.next_action()
    assert isinstance(action, CallModel), action
    return action


def test_the_primary_is_retried_then_the_backup_is_called_at_once() -> None:
    retries: list[RetryPart] = []
    run = Run(config(callbacks=Callbacks(on_retry=retries.append)), streaming=False)
    first = call_of(run)
    assert first.model is PRIMARY and first.attempt == 0
    run.events()
    run.feed_error(ProviderError("overloaded", status_code=503))
    assert run.next_action() == Wait(seconds=1.0, step_number=0, attempt=1)
    (retry,) = run.events()
    assert isinstance(retry, RetryPart) and (retry.model, retry.provider) == ("big-1", "primary")
    again = call_of(run)
    assert again.model is PRIMARY and again.attempt == 1
    run.feed_error(ProviderError("overloaded", status_code=503))
    backup = call_of(run)  # no Wait between models
    assert backup.model is BACKUP and backup.attempt == 2
    (moved,) = run.events()
    assert isinstance(moved, RetryPart)
    assert (moved.attempt, moved.delay, moved.model, moved.provider) == (2, 0.0, "small-2", "backup")
    assert retries == [retry, moved]
    run.feed_response(answer("from the backup"))
    finish = run.next_action()
    assert isinstance(finish, Finish)
    (step,) = finish.result.steps
    assert (step.model_id, step.provider, step.text) == ("small-2", "backup", "from the backup")


def test_a_failure_mid_stream_discards_the_primarys_parts_and_the_step_is_the_backups() -> None:
    run = Run(config(retry=RetryPolicy(max_retries=0)), streaming=True)
    call_of(run)
    run.events()
    run.feed_part(TextStartPart(id="0"))
    run.feed_part(TextDeltaPart(id="0", delta="The primary sa"))
    run.feed_error(ProviderError("connection reset", retryable=True))
    backup = call_of(run)
    assert backup.model is BACKUP
    (retry,) = run.events()
    assert isinstance(retry, RetryPart)
    assert (retry.discarded.parts, retry.discarded.text) == (2, "The primary sa")
    assert retry.error.partial_step is not None and retry.error.partial_step.model_id == "big-1"
    assert retry.error.partial_text == "The primary sa"
    for part in (
        TextStartPart(id="0"),
        TextDeltaPart(id="0", delta="Backup here."),
        FinishPart(finish_reason="stop", usage=Usage(total_tokens=2)),
    ):
        run.feed_part(part)
    finish = run.next_action()
    assert isinstance(finish, Finish)
    step = finish.result.steps[0]
    assert step.text == "Backup here." and step.provider == "backup"


def test_every_attempt_of_every_model_is_in_the_retry_error_in_order() -> None:
    run = Run(config(), streaming=False)
    errors = [ProviderError(f"down {index}", status_code=500) for index in range(4)]
    models: list[LanguageModel] = []
    for error in errors:
        action = run.next_action()
        if isinstance(action, Wait):
            action = run.next_action()
        assert isinstance(action, CallModel)
        models.append(action.model)
        if error is errors[-1]:
            with pytest.raises(RetryError) as raised:
                run.feed_error(error)
        else:
            run.feed_error(error)
    assert models == [PRIMARY, PRIMARY, BACKUP, BACKUP]
    assert raised.value.errors == errors
    assert raised.value.__cause__ is errors[-1]
    partial_models = [error.partial_step.model_id for error in errors if error.partial_step is not None]
    assert partial_models == ["big-1", "big-1", "small-2", "small-2"]


def test_without_retries_two_failed_models_raise_a_retry_error() -> None:
    run = Run(config(retry=RetryPolicy(max_retries=0)), streaming=False)
    first, second = ProviderError("down", status_code=503), ProviderError("busy", status_code=429)
    call_of(run)
    run.feed_error(first)
    assert call_of(run).model is BACKUP
    with pytest.raises(RetryError) as raised:
        run.feed_error(second)
    assert raised.value.errors == [first, second]


def test_a_bad_request_is_raised_as_is_and_the_backup_is_never_called() -> None:
    run = Run(config(), streaming=False)
    call_of(run)
    error = ProviderError("invalid api key", status_code=401)
    with pytest.raises(ProviderError) as raised:
        run.feed_error(error)
    assert raised.value is error
    assert [event.type for event in run.events()] == ["step_start"]


def test_each_step_starts_again_on_the_primary() -> None:
    run = Run(config(retry=RetryPolicy(max_retries=0), tools=[weather]), streaming=False)
    call_of(run)
    run.feed_error(ProviderError("down", status_code=503))
    assert call_of(run).model is BACKUP
    call = ToolCallPart(tool_call_id="c", tool_name="weather", input='{"location": "Rome"}')
    run.feed_response(Response(content=[call], finish_reason="tool_calls", usage=Usage()))
    tools = run.next_action()
    assert isinstance(tools, RunTools)
    run.feed_tool_result(ToolResultPart(tool_call_id="c", tool_name="weather", output="40 C"))
    second = call_of(run)
    assert second.model is PRIMARY and second.step_number == 1 and second.attempt == 0
    run.feed_response(answer("It is 40 C."))
    finish = run.next_action()
    assert isinstance(finish, Finish)
    assert [step.provider for step in finish.result.steps] == ["backup", "primary"]


def test_prepare_step_may_switch_to_a_fallback_model() -> None:
    def prepare(context: StepContext) -> StepOverrides | None:
        return StepOverrides(model=CHAIN)

    run = Run(config(PRIMARY, retry=RetryPolicy(max_retries=0), prepare_step=prepare), streaming=False)
    call_of(run)
    run.feed_error(ProviderError("down", status_code=503))
    assert call_of(run).model is BACKUP


def test_a_model_that_starts_over_by_itself_restarts_the_attempt() -> None:
    run = Run(config(PRIMARY), streaming=True)
    call_of(run)
    run.events()
    run.feed_part(TextDeltaPart(id="0", delta="stale"))
    error = ProviderError("reset", retryable=True)
    inner = RetryPart(
        step_number=0,
        attempt=1,
        delay=0.0,
        error=error,
        discarded=Discarded(parts=1, text="stale"),
        model="m",
        provider="p",
    )
    assert run.feed_part(inner) is None
    (retry,) = run.events()
    assert isinstance(retry, RetryPart) and retry.error is error
    run.feed_part(TextDeltaPart(id="0", delta="fresh"))
    run.feed_part(FinishPart(finish_reason="stop", usage=Usage()))
    finish = run.next_action()
    assert isinstance(finish, Finish) and finish.result.text == "fresh"


# --- reasoning another provider signed ---------------------------------------------------------


def test_reasoning_the_backup_cannot_read_is_dropped_with_a_warning() -> None:
    gemini_answer = google.Codec("gemini-2.5-flash", tool_call_id=lambda: "weather").parse_response(
        GEMINI_TOOL_ANSWER
    )
    primary = MockModel(
        [gemini_answer, ProviderError("overloaded", status_code=503)],
        provider="google",
        model_id="gemini-2.5-flash",
    )
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        return httpx2.Response(200, json=ANTHROPIC_TEXT_ANSWER)

    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        claude = anthropic.Provider(api_key="k", http_client=client).language_model(
            "claude-sonnet-4-20250514"
        )
        agent = Agent(
            FallbackModel(primary, claude),
            tools=[SCENARIO_TOOLS["weather"]],
            retry=RetryPolicy(max_retries=0),
        )
        result = agent.generate("What's the weather in Florence?")
    assert result.text == "It is 40 C in Florence."
    assert [(step.provider, step.model_id) for step in result.steps] == [
        ("google", "gemini-2.5-flash"),
        ("anthropic", "claude-sonnet-4-20250514"),
    ]
    [body] = bodies
    sent = json.dumps(body)
    assert "Z3NpZw==" not in sent and "Weather lookup" not in sent
    assert [warning.setting for warning in result.steps[1].warnings] == ["reasoning"]

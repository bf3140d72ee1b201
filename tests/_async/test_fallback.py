"""``FallbackModel`` with scripted ``MockModel``s: in an agent, in direct calls and for objects.

This is the async source; ``tests/_sync/test_fallback.py`` is generated from it. Nothing
sleeps: the ``sleeps`` fixture records each delay, so the test sees exactly when the same
model is retried (a wait) and when the next one is tried (no wait).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from pydantic import BaseModel

from reverie import (
    Agent,
    FallbackModel,
    FinishPart,
    InvalidResponseError,
    ModelStreamPart,
    ObjectPart,
    ObjectStreamPart,
    ProviderError,
    RetryError,
    RetryPart,
    RetryPolicy,
    StreamStartPart,
    TextDeltaPart,
    TextStartPart,
)
from reverie._model import Call
from reverie.testing import MockModel

from .agent_runs import after_last_retry, run

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
POLICY = RetryPolicy(max_retries=1, initial_delay=2.0)
NO_RETRY = RetryPolicy(max_retries=0)
BACKUP_TEXT = "The backup answers."


def busy() -> ProviderError:
    return ProviderError("overloaded", status_code=503)


def half_answer(text: str = "The primary was say") -> tuple[Any, ...]:
    """A stream that breaks after some text (a connection reset mid-answer)."""
    return (
        StreamStartPart(),
        TextStartPart(id="0"),
        TextDeltaPart(id="0", delta=text),
        ProviderError("connection reset mid-stream", retryable=True),
    )


def primary(script: Any) -> MockModel:
    return MockModel(script, provider="primary", model_id="big-1")


def backup(script: Any = BACKUP_TEXT) -> MockModel:
    return MockModel(script, provider="backup", model_id="small-2")


def retries_of(parts: Sequence[object]) -> list[RetryPart]:
    return [part for part in parts if isinstance(part, RetryPart)]


# --- in an agent ------------------------------------------------------------------------------


@pytest.mark.anyio
@MODES
async def test_the_primary_is_retried_then_the_fallback_answers(streaming: bool, sleeps: list[float]) -> None:
    first, second = busy(), busy()
    model_a, model_b = primary([first, second]), backup()
    retries: list[RetryPart] = []
    agent = Agent(FallbackModel(model_a, model_b), retry=POLICY, on_retry=retries.append)
    result, parts = await run(agent, streaming=streaming)
    assert result.text == BACKUP_TEXT
    assert sleeps == [2.0]  # the primary's retry waits; moving on does not
    assert (len(model_a.calls), len(model_b.calls)) == (2, 1)
    (step,) = result.steps
    assert (step.model_id, step.provider) == ("small-2", "backup")
    assert [(retry.attempt, retry.model, retry.provider, retry.delay) for retry in retries] == [
        (1, "big-1", "primary", 2.0),
        (2, "small-2", "backup", 0.0),
    ]
    assert [retry.error for retry in retries] == [first, second]
    if streaming:
        assert retries_of(parts) == retries
        assert after_last_retry(parts) == BACKUP_TEXT


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize("status", [400, 401, 403])
async def test_a_bad_request_or_bad_credentials_do_not_fall_back(
    streaming: bool, status: int, sleeps: list[float]
) -> None:
    error = ProviderError("refused", status_code=status)
    model_b = backup()
    agent = Agent(FallbackModel(primary(error), model_b), retry=POLICY)
    with pytest.raises(ProviderError) as raised:
        await run(agent, streaming=streaming)
    assert raised.value is error
    assert model_b.calls == [] and sleeps == []


@pytest.mark.anyio
@MODES
async def test_a_failure_mid_stream_moves_on_without_mixing_the_models(
    streaming: bool, sleeps: list[float]
) -> None:
    agent = Agent(FallbackModel(primary(half_answer()), backup()), retry=NO_RETRY)
    result, parts = await run(agent, streaming=streaming)
    (step,) = result.steps
    assert step.text == BACKUP_TEXT and step.provider == "backup"
    assert sleeps == []
    if streaming:
        (retry,) = retries_of(parts)
        assert (retry.model, retry.provider, retry.attempt) == ("small-2", "backup", 1)
        assert retry.error.partial_text == "The primary was say"
        assert (retry.discarded.parts, retry.discarded.text) == (3, "The primary was say")
        types = [part.type for part in parts]
        assert types.index("retry") < types.index("text_start", types.index("retry"))
        assert after_last_retry(parts) == BACKUP_TEXT


@pytest.mark.anyio
@MODES
async def test_a_prompt_too_large_for_the_primary_goes_to_the_backup(
    streaming: bool, sleeps: list[float]
) -> None:
    too_large = ProviderError("maximum context length exceeded", status_code=400, is_context_too_large=True)
    model_a = primary(too_large)
    agent = Agent(FallbackModel(model_a, backup()), retry=POLICY)
    result, _ = await run(agent, streaming=streaming)
    assert result.text == BACKUP_TEXT
    assert len(model_a.calls) == 1 and sleeps == []  # not retried: it would not fit either


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize("retry", [POLICY, NO_RETRY], ids=["retries", "max_retries=0"])
async def test_when_every_model_fails_the_error_lists_every_attempt(
    streaming: bool, retry: RetryPolicy, sleeps: list[float]
) -> None:
    per_model = retry.max_retries + 1
    errors_a = [busy() for _ in range(per_model)]
    errors_b = [ProviderError("rate limited", status_code=429) for _ in range(per_model)]
    agent = Agent(FallbackModel(primary(errors_a), backup(errors_b)), retry=retry)
    with pytest.raises(RetryError) as raised:
        await run(agent, streaming=streaming)
    assert raised.value.errors == [*errors_a, *errors_b]
    assert raised.value.__cause__ is errors_b[-1]
    assert sleeps == [2.0, 2.0] if retry is POLICY else sleeps == []


@pytest.mark.anyio
@MODES
async def test_a_predicate_decides_what_falls_back(streaming: bool, sleeps: list[float]) -> None:
    quota = ProviderError("insufficient_quota", status_code=403)
    agent = Agent(
        FallbackModel(primary(quota), backup(), fallback_on=lambda error: "quota" in str(error)),
        retry=POLICY,
    )
    result, _ = await run(agent, streaming=streaming)
    assert result.text == BACKUP_TEXT
    # ... and replaces the default rule: a 503 no longer moves on (after its retry).
    stuck = Agent(
        FallbackModel(primary([busy(), busy()]), backup(), fallback_on=lambda error: "quota" in str(error)),
        retry=POLICY,
    )
    with pytest.raises(RetryError):
        await run(stuck, streaming=streaming)


@pytest.mark.anyio
@MODES
async def test_a_tuple_of_exception_types_decides_what_falls_back(streaming: bool) -> None:
    garbage = InvalidResponseError("not JSON")
    agent = Agent(FallbackModel(primary(garbage), backup(), fallback_on=(InvalidResponseError,)))
    result, _ = await run(agent, streaming=streaming)
    assert result.text == BACKUP_TEXT
    refused = ProviderError("overloaded", status_code=503)
    stuck = Agent(
        FallbackModel(primary(refused), backup(), fallback_on=(InvalidResponseError,)), retry=NO_RETRY
    )
    with pytest.raises(ProviderError) as raised:
        await run(stuck, streaming=streaming)
    assert raised.value is refused


@pytest.mark.anyio
@MODES
async def test_typed_output_through_a_fallback(streaming: bool) -> None:
    class City(BaseModel):
        name: str

    agent = Agent(
        FallbackModel(primary(busy()), backup(json.dumps({"name": "Florence"}))),
        output_type=City,
        retry=NO_RETRY,
    )
    result, _ = await run(agent, streaming=streaming)
    assert result.output == City(name="Florence")
    assert result.steps[-1].provider == "backup"


# --- direct calls -------------------------------------------------------------------------------


def call() -> Call:
    from reverie import Message

    return Call(prompt=[Message.user("hi")])


async def collect(model: FallbackModel) -> list[ModelStreamPart | RetryPart]:
    return [part async for part in model.stream_async(call())]


@pytest.mark.anyio
async def test_a_direct_generate_moves_on_at_once_by_default(sleeps: list[float]) -> None:
    model_a = primary(busy())
    response = await FallbackModel(model_a, backup()).generate_async(call())
    assert response.content[0].type == "text" and sleeps == []
    assert len(model_a.calls) == 1


@pytest.mark.anyio
async def test_a_direct_generate_retries_as_its_policy_says(sleeps: list[float]) -> None:
    model_a = primary([busy(), busy()])
    model = FallbackModel(model_a, backup(), retry=RetryPolicy(max_retries=1, initial_delay=3.0))
    response = await model.generate_async(call())
    assert response.finish_reason == "stop" and sleeps == [3.0]
    assert len(model_a.calls) == 2


@pytest.mark.anyio
async def test_a_direct_generate_raises_every_attempt_or_the_one_error(sleeps: list[float]) -> None:
    first, second = busy(), busy()
    with pytest.raises(RetryError) as raised:
        await FallbackModel(primary(first), backup(second)).generate_async(call())
    assert raised.value.errors == [first, second]
    unauthorized = ProviderError("bad key", status_code=401)
    model_b = backup()
    with pytest.raises(ProviderError) as single:
        await FallbackModel(primary(unauthorized), model_b).generate_async(call())
    assert single.value is unauthorized and model_b.calls == []


@pytest.mark.anyio
async def test_a_direct_stream_announces_the_backup_and_what_to_discard(sleeps: list[float]) -> None:
    parts = await collect(FallbackModel(primary(half_answer()), backup()))
    (retry,) = retries_of(parts)
    assert (retry.step_number, retry.attempt, retry.delay) == (0, 1, 0.0)
    assert (retry.model, retry.provider) == ("small-2", "backup")
    assert (retry.discarded.parts, retry.discarded.text) == (3, "The primary was say")
    assert after_last_retry(parts) == BACKUP_TEXT
    assert isinstance(parts[-1], FinishPart) and sleeps == []


@pytest.mark.anyio
async def test_a_direct_stream_retries_the_same_model_after_a_wait(sleeps: list[float]) -> None:
    model = FallbackModel(
        primary([half_answer(), "Second try."]), backup(), retry=RetryPolicy(initial_delay=1.5)
    )
    parts = await collect(model)
    (retry,) = retries_of(parts)
    assert (retry.model, retry.provider, retry.delay) == ("big-1", "primary", 1.5)
    assert after_last_retry(parts) == "Second try." and sleeps == [1.5]


@pytest.mark.anyio
async def test_a_direct_stream_raises_the_final_error_after_its_parts(sleeps: list[float]) -> None:
    seen: list[ModelStreamPart | RetryPart] = []
    with pytest.raises(RetryError) as raised:
        async for part in FallbackModel(primary(half_answer()), backup(half_answer("No"))).stream_async(
            call()
        ):
            seen.append(part)
    assert len(raised.value.errors) == 2
    assert [part.type for part in seen].count("retry") == 1
    assert after_last_retry(seen) == "No"


@pytest.mark.anyio
async def test_a_closed_direct_stream_closes_the_models_stream() -> None:
    closed: list[str] = []

    class Tracked(MockModel):
        def stream_async(self, call: Call) -> Any:
            inner = super().stream_async(call)

            async def parts() -> Any:
                try:
                    async for part in inner:
                        yield part
                finally:
                    closed.append(self.model_id)

            return parts()

    model = FallbackModel(Tracked("Hello there", model_id="a"), backup())
    stream = model.stream_async(call())
    async for part in stream:
        if part.type == "text_delta":
            break
    await stream.aclose()  # pyright: ignore[reportAttributeAccessIssue]
    assert closed == ["a"]


# --- objects ------------------------------------------------------------------------------------


class Person(BaseModel):
    name: str
    age: int


PERSON_TEXT = json.dumps({"name": "Alice", "age": 30})


@pytest.mark.anyio
async def test_generate_object_falls_back() -> None:
    model_a = primary(busy())
    model_b = backup(PERSON_TEXT)
    result = await FallbackModel(model_a, model_b).generate_object_async("Alice, 30", schema=Person)
    assert result.object == Person(name="Alice", age=30)
    # Both models were sent the same call, shaped once for the chain.
    assert model_a.calls[0].response_format == model_b.calls[0].response_format is not None


@pytest.mark.anyio
async def test_the_object_mode_suits_every_model_of_the_chain() -> None:
    model_b = MockModel(
        MockModel.tool_calls(("Person", {"name": "Alice", "age": 30})), provider="tools", object_mode="tool"
    )
    result = await FallbackModel(primary(busy()), model_b).generate_object_async("Alice", schema=Person)
    assert result.object == Person(name="Alice", age=30)
    (sent,) = model_b.calls
    assert sent.response_format is None and sent.tool_choice == "Person"


@pytest.mark.anyio
async def test_stream_object_starts_over_when_the_primary_breaks() -> None:
    broken = half_answer('{"name": "Bo')
    stream = FallbackModel(primary(broken), backup(PERSON_TEXT)).stream_object_async("Alice", schema=Person)
    parts: list[ObjectStreamPart] = [part async for part in stream]
    (retry,) = retries_of(parts)
    assert (retry.model, retry.provider) == ("small-2", "backup")
    at = parts.index(retry)
    before = [part.object for part in parts[:at] if isinstance(part, ObjectPart)]
    after = [part.object for part in parts[at:] if isinstance(part, ObjectPart)]
    assert before == [{"name": "Bo"}]  # the partial object the consumer must drop
    assert after == [{"name": "Alice", "age": 30}]  # parsed afresh, nothing of "Bo" left
    assert after_last_retry(parts) == PERSON_TEXT
    assert (await stream.result()).object == Person(name="Alice", age=30)


# --- what is not a model failure ---------------------------------------------------------------


@pytest.mark.anyio
async def test_an_exception_that_is_no_reverie_error_never_falls_back() -> None:
    # A ValueError is a bug in the code around the model, not a failure a backup can cure.
    model_b = backup()
    with pytest.raises(ValueError, match="bug"):
        await FallbackModel(primary(ValueError("bug")), model_b).generate_async(call())
    with pytest.raises(ValueError, match="bug"):
        await Agent(FallbackModel(primary(ValueError("bug")), model_b)).generate_async("hi")
    assert model_b.calls == []

"""``Budget``: its counters, the pure checks the run machine makes, and one budget shared by a batch.

The machine is driven by hand here (no event loop) to check what it decides and in which
order; the batch test runs 20 async runs and 4 threads of sync runs on one budget at once.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from reverie import (
    Agent,
    Budget,
    BudgetExceededError,
    Message,
    StepFinishPart,
    StepStartPart,
    Usage,
    UserError,
    tool,
)
from reverie._model import Call
from reverie._retry import RetryPolicy
from reverie._run.actions import CallModel, Finish, RunTools
from reverie._run.budget import no_room, overrun_message, past_limit
from reverie._run.config import RunConfig
from reverie._run.machine import Run
from reverie._run.spending import Spent
from reverie._run.tools import output_result
from reverie.testing import MockModel


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


# ---------------------------------------------------------------------------- the counters


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"max_cost": -0.01}, "must not be negative"),
        ({"max_cost": float("nan")}, "must not be negative"),
        ({"max_cost": "1"}, "must be a number"),
        ({"max_input_tokens": 10.5}, "must be an int"),
        ({"max_output_tokens": True}, "must be an int"),
        ({"max_requests": -1}, "must not be negative"),
    ],
)
def test_a_budget_refuses_limits_it_cannot_count(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(UserError, match=message):
        Budget(**arguments)


def test_a_budget_counts_and_shows_its_limits() -> None:
    budget = Budget(max_cost=2, max_requests=3)
    assert repr(budget) == "Budget(max_cost=2.0, max_requests=3)"
    assert budget.spent == Spent()
    assert budget.reserve_request(lambda spent: None) is None
    assert budget.record(input_tokens=10, output_tokens=2, cost=0.5) == Spent(
        cost=0.5, input_tokens=10, output_tokens=2, requests=1
    )
    assert budget.reserve_request(lambda spent: "no") == "no"  # an objection takes nothing
    assert budget.spent.requests == 1


def test_requests_are_reserved_atomically_across_threads() -> None:
    budget = Budget(max_requests=500)
    granted: list[bool] = []
    start = threading.Barrier(8)

    def ask() -> None:
        start.wait()
        for _ in range(200):
            granted.append(budget.reserve_request(lambda spent: no_room(budget, spent)) is None)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert granted.count(True) == 500
    assert budget.spent.requests == 500


# ---------------------------------------------------------------------------- the checks


def test_no_room_before_a_request_once_a_limit_is_used_up() -> None:
    budget = Budget(max_cost=1.0, max_input_tokens=100, max_output_tokens=10, max_requests=5)
    assert no_room(budget, Spent(cost=0.99, input_tokens=99, output_tokens=9, requests=4)) is None
    assert no_room(budget, Spent(requests=5)) == ("max_requests", 5, 5)
    assert no_room(budget, Spent(cost=1.0)) == ("max_cost", 1.0, 1.0)
    assert no_room(budget, Spent(input_tokens=100)) == ("max_input_tokens", 100, 100)
    assert no_room(budget, Spent(output_tokens=11)) == ("max_output_tokens", 10, 11)
    assert no_room(Budget(), Spent(cost=1e9, input_tokens=10**9, requests=10**9)) is None


def test_past_a_limit_only_when_it_is_exceeded() -> None:
    budget = Budget(max_cost=1.0, max_input_tokens=100, max_output_tokens=10, max_requests=1)
    assert past_limit(budget, Spent(cost=1.0, input_tokens=100, output_tokens=10, requests=7)) is None
    assert past_limit(budget, Spent(cost=1.5)) == ("max_cost", 1.0, 1.5)
    assert past_limit(budget, Spent(input_tokens=101)) == ("max_input_tokens", 100, 101)
    assert past_limit(budget, Spent(output_tokens=11)) == ("max_output_tokens", 10, 11)


def test_the_message_names_the_limit_and_the_amounts() -> None:
    assert overrun_message(("max_cost", 0.5, 0.5123), before_request=False) == (
        "budget exceeded: max_cost is $0.5; $0.5123 were spent"
    )
    assert overrun_message(("max_requests", 3, 3), before_request=True) == (
        "budget exceeded: max_requests is 3 requests and 3 requests were spent; no further request is sent"
    )
    assert overrun_message(("max_output_tokens", 10, 12), before_request=False) == (
        "budget exceeded: max_output_tokens is 10 output tokens; 12 output tokens were spent"
    )
    assert "$0.0000001" in overrun_message(("max_cost", 0.0000001, 0.0), before_request=True)


# ---------------------------------------------------------------------------- the machine


def run_config(model: MockModel, budget: Budget) -> RunConfig:
    return RunConfig(
        model=model,
        messages=[Message.user("hi")],
        tools=[lookup],
        call_template=Call(prompt=[]),
        retry=RetryPolicy(max_retries=0),
        max_steps=10,
        stop_when=(),
        budget=budget,
    )


def test_the_machine_yields_the_crossing_steps_events_before_the_error() -> None:
    model = MockModel("unused")
    run = Run(run_config(model, Budget(max_output_tokens=5)), streaming=False)
    action = run.next_action()
    assert isinstance(action, CallModel)
    assert [type(event) for event in run.events()] == [StepStartPart]
    run.feed_response(MockModel.tool_calls(("lookup", {"key": "a"}), usage=Usage(output_tokens=9)))
    action = run.next_action()
    assert isinstance(action, RunTools)
    for batch in action.batches:
        for call, _ in batch:
            run.feed_tool_result(output_result(call, "value"))
    action = run.next_action()
    assert isinstance(action, Finish)
    assert isinstance(action.error, BudgetExceededError)
    assert action.error.result is action.result
    assert [step.step_number for step in action.result.steps] == [0]
    events = run.events()
    assert [type(event) for event in events][-1] is StepFinishPart
    assert run.result is None
    assert run.next_action() is action  # the run stays stopped


def test_the_machine_refuses_a_step_before_it_starts() -> None:
    budget = Budget(max_requests=0)
    run = Run(run_config(MockModel("unused"), budget), streaming=True)
    action = run.next_action()
    assert isinstance(action, Finish) and isinstance(action.error, BudgetExceededError)
    assert run.events() == []  # no step_start for a step that is not sent
    assert action.result.steps == []


# ---------------------------------------------------------------------------- a shared budget


def test_a_shared_budget_stops_a_concurrent_batch_of_async_and_threaded_runs() -> None:
    """20 async runs and 4 threads of 5 sync runs, 3 requests each, on one budget of 30."""

    def answer(call: Any) -> Any:
        done = sum(1 for message in call.prompt if message.role == "tool")
        if done >= 2:
            return MockModel.text("done", usage=Usage(input_tokens=10, output_tokens=1))
        return MockModel.tool_calls(
            ("lookup", {"key": str(done)}), usage=Usage(input_tokens=10, output_tokens=1)
        )

    model = MockModel(answer)
    budget = Budget(max_requests=30)
    agent = Agent(model, tools=[lookup], budget=budget)
    outcomes: list[str] = []
    lock = threading.Lock()

    def note(outcome: str) -> None:
        with lock:
            outcomes.append(outcome)

    def sync_runs() -> None:
        for _ in range(5):
            try:
                agent.generate("Go.")
                note("finished")
            except BudgetExceededError as error:
                note(f"stopped by {error.limit}")

    async def one_async_run() -> None:
        try:
            stream = agent.stream_async("Go.")
            async for _ in stream:
                await anyio.sleep(0)  # let the other runs interleave
            await stream.result()
            note("finished")
        except BudgetExceededError as error:
            note(f"stopped by {error.limit}")

    async def async_runs() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(one_async_run)

    threads = [threading.Thread(target=sync_runs) for _ in range(4)]
    for thread in threads:
        thread.start()
    anyio.run(async_runs)
    for thread in threads:
        thread.join()
    assert len(outcomes) == 40
    assert len(model.calls) == 30  # never more requests than the budget allows
    assert budget.spent.requests == 30
    assert set(outcomes) <= {"finished", "stopped by max_requests"}
    assert outcomes.count("finished") <= 10

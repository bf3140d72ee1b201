"""The run machine's approval decisions, driven by hand: hold, run the rest, pause, resume.

As in ``test_run_machine.py``, each test plays the driver: ask ``next_action()``, collect
``events()``, feed back what the model and the tools did.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from reverie import AgentResult, Message, RetryPolicy, ToolCallPart, ToolResultPart, Usage, UserError, tool
from reverie._model import Call, Response
from reverie._run.actions import CallModel, Finish, RunTools
from reverie._run.config import RunConfig
from reverie._run.machine import Run
from reverie._run.resume import Resume
from reverie._run.tools import output_result
from reverie.testing import MockModel


@tool(requires_approval=True)
def delete(path: str) -> str:
    """Delete a file."""
    return f"deleted {path}"


@tool(requires_approval=lambda args: args["amount"] > 100)
def pay(amount: int) -> str:
    """Pay."""
    return f"paid {amount}"


@tool(parallel=True)
def look(path: str) -> str:
    """Look at a file."""
    return f"{path}: 3 bytes"


def config(**extra: Any) -> RunConfig:
    return RunConfig(
        model=MockModel("unused"),
        messages=[Message.user("hi")],
        tools=[delete, pay, look],
        call_template=Call(prompt=[]),
        retry=RetryPolicy(max_retries=0),
        max_steps=5,
        stop_when=(),
        **extra,
    )


def calls(*items: tuple[str, str]) -> Response:
    content: list[Any] = [
        ToolCallPart(tool_call_id=f"c{index}", tool_name=name, input=arguments)
        for index, (name, arguments) in enumerate(items)
    ]
    return Response(content=content, finish_reason="tool_calls", usage=Usage(total_tokens=4))


def run_tools(run: Run, action: object) -> list[str]:
    assert isinstance(action, RunTools)
    ran: list[str] = []
    for batch in action.batches:
        for call, prepared in batch:
            assert prepared is not None
            run.feed_tool_result(output_result(call, prepared.tool.call(prepared.arguments)))
            ran.append(call.tool_call_id)
    return ran


def paused_run() -> AgentResult:
    run = Run(config(), streaming=False)
    run.next_action()
    run.feed_response(
        calls(
            ("look", '{"path": "a"}'),
            ("delete", '{"path": "a"}'),
            ("pay", '{"amount": 5}'),
            ("look", '{"path": "b"}'),
        )
    )
    action = run.next_action()
    # The held call is left out; the others run (the two parallel looks are not batched
    # across the held call's place: each run of consecutive parallel calls is one batch).
    assert isinstance(action, RunTools)
    assert [[call.tool_call_id for call, _ in batch] for batch in action.batches] == [["c0"], ["c2"], ["c3"]]
    assert run_tools(run, action) == ["c0", "c2", "c3"]
    finish = run.next_action()
    assert isinstance(finish, Finish) and finish.error is None
    assert [event.type for event in run.events()][-1] == "finish"
    return finish.result


def test_held_calls_wait_while_the_others_run_then_the_run_pauses() -> None:
    result = paused_run()
    assert result.status == "paused"
    assert [call.tool_call_id for call in result.pending_approvals] == ["c1"]
    assert [part.tool_call_id for part in result.steps[0].tool_results] == ["c0", "c2", "c3"]


def test_a_step_of_held_calls_only_pauses_at_once() -> None:
    run = Run(config(), streaming=False)
    run.next_action()
    run.feed_response(calls(("delete", '{"path": "a"}'), ("pay", '{"amount": 500}')))
    finish = run.next_action()
    assert isinstance(finish, Finish)
    assert [call.tool_call_id for call in finish.result.pending_approvals] == ["c0", "c1"]
    assert run.next_action() == finish  # a paused run stays paused


def test_an_invalid_call_of_a_held_tool_is_not_held() -> None:
    run = Run(config(), streaming=False)
    run.next_action()
    run.feed_response(calls(("delete", '{"nope": 1}')))
    action = run.next_action()
    assert isinstance(action, RunTools)
    ((call, prepared),) = action.batches[0]
    assert call.invalid and prepared is None


def test_a_resumed_run_answers_the_held_calls_and_finishes_the_step_in_call_order() -> None:
    paused = paused_run()
    run = Run(config(resume=Resume(paused=paused, approvals={"c1": True}, tool_results={})), streaming=False)
    assert run.steps == []
    action = run.next_action()
    assert run_tools(run, action) == ["c1"]
    assert [event.type for event in run.events()] == ["tool_result"]
    following = run.next_action()
    assert [event.type for event in run.events()] == ["step_finish", "step_start"]
    step = run.steps[0]
    assert [part.tool_call_id for part in step.tool_results] == ["c0", "c1", "c2", "c3"]
    assert step.messages[-1] == Message(role="tool", content=step.tool_results)
    assert isinstance(following, CallModel)
    assert run.messages == [Message.user("hi"), *step.messages]


def test_a_resume_with_only_refusals_finishes_the_step_at_once() -> None:
    paused = paused_run()
    run = Run(config(resume=Resume(paused=paused, approvals={"c1": False}, tool_results={})), streaming=False)
    action = run.next_action()
    assert isinstance(action, CallModel)
    assert [event.type for event in run.events()] == ["tool_result", "step_finish", "step_start"]
    refused = run.steps[0].tool_results[1]
    assert refused == ToolResultPart(tool_call_id="c1", tool_name="delete", output="refused", is_error=True)


def test_a_resume_checks_its_answers_when_it_is_made() -> None:
    paused = paused_run()
    with pytest.raises(UserError, match="missing: c1"):
        Run(config(resume=Resume(paused=paused, approvals={}, tool_results={})), streaming=False)
    with pytest.raises(UserError, match="only a paused result"):
        Run(
            config(resume=Resume(paused=replace(paused, status="completed"), approvals={}, tool_results={})),
            streaming=False,
        )


def test_a_resumed_run_does_not_touch_the_paused_result() -> None:
    paused = paused_run()
    before = replace(paused, steps=list(paused.steps))
    for _ in range(2):
        run = Run(
            config(resume=Resume(paused=paused, approvals={"c1": "no"}, tool_results={})), streaming=False
        )
        run.next_action()
    assert paused == before

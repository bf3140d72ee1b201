"""Human approval: a run pauses before calls that need it and goes on with ``Agent.resume``.

This is the async source; ``tests/_sync/test_approval.py`` is generated from it by
``scripts/unasync.py``. Resuming in a new process is in ``tests/unit/test_approval_process.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from reverie import (
    Agent,
    AgentResult,
    AgentStreamPart,
    Budget,
    Message,
    ToolCallPart,
    ToolResultPart,
    Usage,
    UserError,
    from_json,
    to_json,
    tool,
)
from reverie.testing import MockModel

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])


class Ledger:
    """Tools that write down each call they run."""

    def __init__(self) -> None:
        self.calls: list[str] = []

        @tool(requires_approval=True)
        def delete(path: str) -> str:
            """Delete a file."""
            self.calls.append(f"delete {path}")
            return f"deleted {path}"

        @tool(requires_approval=lambda args: args["amount"] > 100)
        def pay(amount: int) -> str:
            """Pay an amount."""
            self.calls.append(f"pay {amount}")
            return f"paid {amount}"

        @tool
        def look(path: str) -> str:
            """Look at a file."""
            self.calls.append(f"look {path}")
            return f"{path} is 3 bytes"

        self.tools = [delete, pay, look]


async def run(agent: Agent, *, streaming: bool, **settings: Any) -> tuple[AgentResult, list[AgentStreamPart]]:
    if not streaming:
        return await agent.generate_async("Tidy up", **settings), []
    stream = agent.stream_async("Tidy up", **settings)
    parts = [part async for part in stream]
    return await stream.result(), parts


async def resume(
    agent: Agent, paused: AgentResult, *, streaming: bool, **answers: Any
) -> tuple[AgentResult, list[AgentStreamPart]]:
    if not streaming:
        return await agent.resume_async(paused, **answers), []
    stream = agent.resume_stream_async(paused, **answers)
    parts = [part async for part in stream]
    return await stream.result(), parts


def tool_outputs(result: AgentResult, step: int = 0) -> list[tuple[str, str, bool]]:
    return [(part.tool_call_id, part.output, part.is_error) for part in result.steps[step].tool_results]


# --------------------------------------------------------------------------- pausing


@pytest.mark.anyio
@MODES
async def test_a_call_that_needs_approval_pauses_the_run_before_it_runs(streaming: bool) -> None:
    ledger = Ledger()
    finished: list[AgentResult] = []
    step_finished: list[int] = []
    model = MockModel([MockModel.tool_calls(("delete", {"path": "a.txt"}), usage=Usage(total_tokens=7))])
    agent = Agent(
        model,
        tools=ledger.tools,
        on_finish=finished.append,
        on_step_finish=lambda step: step_finished.append(step.step_number),
    )
    result, parts = await run(agent, streaming=streaming)

    assert result.status == "paused"
    call = ToolCallPart(tool_call_id="call_0", tool_name="delete", input='{"path": "a.txt"}')
    assert result.pending_approvals == [call]
    assert ledger.calls == []
    assert len(model.calls) == 1
    # The paused step is the result's last: the model's answer, no result for the held call.
    assert len(result.steps) == 1
    assert result.steps[0].tool_calls == [call] and result.steps[0].tool_results == []
    assert result.finish_reason == "tool_calls"
    assert result.total_usage == Usage(total_tokens=7)
    assert finished == [result]
    assert step_finished == []  # the step finishes when the run resumes
    if streaming:
        assert parts[-1].type == "finish"
        assert "step_finish" not in [part.type for part in parts]
        assert "tool_result" not in [part.type for part in parts]


@pytest.mark.anyio
@MODES
async def test_approving_runs_the_call_and_the_run_goes_on(streaming: bool) -> None:
    ledger = Ledger()
    model = MockModel([MockModel.tool_calls(("delete", {"path": "a.txt"})), "Deleted."])
    step_finished: list[int] = []
    agent = Agent(
        model, tools=ledger.tools, on_step_finish=lambda step: step_finished.append(step.step_number)
    )
    paused, _ = await run(agent, streaming=streaming)
    result, parts = await resume(agent, paused, streaming=streaming, approvals={"call_0": True})

    assert result.status == "completed" and result.pending_approvals == []
    assert ledger.calls == ["delete a.txt"]
    assert result.text == "Deleted."
    assert tool_outputs(result) == [("call_0", "deleted a.txt", False)]
    assert step_finished == [0, 1]
    assert result.input_messages == [Message.user("Tidy up")]
    assert model.calls[1].prompt == [Message.user("Tidy up"), *result.steps[0].messages]
    if streaming:
        assert [part.type for part in parts][:3] == ["tool_result", "step_finish", "step_start"]
        assert parts[-1].type == "finish"


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize(
    ("answer", "output"),
    [(False, "refused"), ("not that file", "refused: not that file"), ("  ", "refused")],
    ids=["false", "reason", "blank"],
)
async def test_a_refusal_reaches_the_model_as_an_error_result(
    streaming: bool, answer: bool | str, output: str
) -> None:
    ledger = Ledger()
    model = MockModel([MockModel.tool_calls(("delete", {"path": "a.txt"})), "Kept it."])
    agent = Agent(model, tools=ledger.tools)
    paused, _ = await run(agent, streaming=streaming)
    result, _ = await resume(agent, paused, streaming=streaming, approvals={"call_0": answer})

    assert ledger.calls == []
    assert tool_outputs(result) == [("call_0", output, True)]
    sent = model.calls[1].prompt[-1]
    assert sent == Message(
        role="tool",
        content=[ToolResultPart(tool_call_id="call_0", tool_name="delete", output=output, is_error=True)],
    )
    assert result.text == "Kept it."


@pytest.mark.anyio
async def test_a_result_given_instead_of_an_approval_stands_for_the_call() -> None:
    ledger = Ledger()
    model = MockModel(
        [MockModel.tool_calls(("delete", {"path": "a.txt"}), ("delete", {"path": "b.txt"})), "Done."]
    )
    agent = Agent(model, tools=ledger.tools)
    paused, _ = await run(agent, streaming=False)
    assert [call.tool_call_id for call in paused.pending_approvals] == ["call_0", "call_1"]
    given = ToolResultPart(tool_call_id="", tool_name="", output="already gone", is_error=True)
    result, _ = await resume(
        agent, paused, streaming=False, tool_results={"call_0": {"deleted": False}, "call_1": given}
    )

    assert ledger.calls == []
    assert tool_outputs(result) == [("call_0", '{"deleted":false}', False), ("call_1", "already gone", True)]


@pytest.mark.anyio
@MODES
async def test_a_predicate_decides_for_each_call(streaming: bool) -> None:
    ledger = Ledger()
    model = MockModel(
        [MockModel.tool_calls(("pay", {"amount": 50})), MockModel.tool_calls(("pay", {"amount": 500}))]
    )
    agent = Agent(model, tools=ledger.tools)
    paused, _ = await run(agent, streaming=streaming)

    assert ledger.calls == ["pay 50"]  # small enough: it ran without asking
    assert paused.status == "paused"
    assert [(call.tool_call_id, call.input) for call in paused.pending_approvals] == [
        ("call_0", '{"amount": 500}')
    ]
    assert len(paused.steps) == 2


# --------------------------------------------------------------------------- mixed steps


@pytest.mark.anyio
@MODES
async def test_calls_that_need_no_approval_run_before_the_pause_and_never_again(streaming: bool) -> None:
    ledger = Ledger()
    model = MockModel(
        [
            MockModel.tool_calls(
                ("delete", {"path": "a.txt"}),
                ("look", {"path": "b.txt"}),
                ("pay", {"amount": 500}),
                ("pay", {"amount": 5}),
            ),
            "All done.",
        ]
    )
    agent = Agent(model, tools=ledger.tools)
    paused, parts = await run(agent, streaming=streaming)

    assert ledger.calls == ["look b.txt", "pay 5"]
    assert [call.tool_call_id for call in paused.pending_approvals] == ["call_0", "call_2"]
    assert tool_outputs(paused) == [("call_1", "b.txt is 3 bytes", False), ("call_3", "paid 5", False)]
    if streaming:
        assert [part.type for part in parts][-3:] == ["tool_result", "tool_result", "finish"]

    result, _ = await resume(
        agent, paused, streaming=streaming, approvals={"call_0": "keep it", "call_2": True}
    )
    assert ledger.calls == ["look b.txt", "pay 5", "pay 500"]
    # Every result, in the order of the calls, as the model reads them.
    expected = [
        ("call_0", "refused: keep it", True),
        ("call_1", "b.txt is 3 bytes", False),
        ("call_2", "paid 500", False),
        ("call_3", "paid 5", False),
    ]
    assert tool_outputs(result) == expected
    sent = model.calls[1].prompt[-1]
    assert [(part.tool_call_id, part.output, part.is_error) for part in sent.content] == expected  # pyright: ignore[reportAttributeAccessIssue]
    assert result.steps[0].content[:4] == result.steps[0].tool_calls


@pytest.mark.anyio
async def test_a_resumed_run_may_pause_again() -> None:
    ledger = Ledger()
    model = MockModel(
        [
            MockModel.tool_calls(("delete", {"path": "a.txt"})),
            MockModel.tool_calls(("delete", {"path": "b.txt"})),
            "Both gone.",
        ]
    )
    agent = Agent(model, tools=ledger.tools)
    first, _ = await run(agent, streaming=False)
    second, _ = await resume(agent, first, streaming=False, approvals={"call_0": True})
    assert second.status == "paused"
    assert len(second.steps) == 2
    assert second.pending_approvals[0].input == '{"path": "b.txt"}'
    third, _ = await resume(agent, second, streaming=False, approvals={"call_0": True})
    assert third.status == "completed" and third.text == "Both gone."
    assert ledger.calls == ["delete a.txt", "delete b.txt"]
    assert [step.step_number for step in third.steps] == [0, 1, 2]


@pytest.mark.anyio
async def test_max_steps_counts_the_steps_before_the_pause() -> None:
    ledger = Ledger()
    model = MockModel([MockModel.tool_calls(("delete", {"path": "a.txt"})), "never asked"])
    agent = Agent(model, tools=ledger.tools, max_steps=1)
    paused, _ = await run(agent, streaming=False)
    result, _ = await resume(agent, paused, streaming=False, approvals={"call_0": True})
    assert len(result.steps) == 1 and len(model.calls) == 1
    assert ledger.calls == ["delete a.txt"]


# --------------------------------------------------------------------------- saved as JSON


@pytest.mark.anyio
@MODES
async def test_a_paused_result_read_back_from_json_resumes(streaming: bool) -> None:
    ledger = Ledger()
    model = MockModel([MockModel.tool_calls(("delete", {"path": "a.txt"}), ("look", {"path": "b"})), "Done."])
    agent = Agent(model, system_prompt="Be careful.", tools=ledger.tools)
    paused, _ = await run(agent, streaming=streaming)
    restored = from_json(to_json(paused), AgentResult)
    assert restored == paused

    result, _ = await resume(agent, restored, streaming=streaming, approvals={"call_0": True})
    assert result.status == "completed"
    assert ledger.calls == ["look b", "delete a.txt"]
    assert model.calls[1].prompt[0] == Message.system("Be careful.")
    assert model.calls[1].prompt[1:] == [Message.user("Tidy up"), *result.steps[0].messages]


class Plan(BaseModel):
    steps: list[str]


@pytest.mark.anyio
async def test_typed_output_given_with_the_held_call_is_kept_through_json() -> None:
    ledger = Ledger()
    model = MockModel(
        [MockModel.tool_calls(("delete", {"path": "a.txt"}), ("Plan", {"steps": ["delete a.txt"]}))]
    )
    agent = Agent(model, tools=ledger.tools, output_type=Plan, output_mode="tool")
    paused, _ = await run(agent, streaming=False)
    assert paused.status == "paused" and paused.output == Plan(steps=["delete a.txt"])

    restored = from_json(to_json(paused), AgentResult[Plan])
    result, _ = await resume(agent, restored, streaming=False, approvals={"call_0": True})
    assert result.status == "completed"
    assert result.output == Plan(steps=["delete a.txt"])
    assert ledger.calls == ["delete a.txt"]
    assert [part.tool_name for part in result.steps[0].tool_results] == ["delete", "Plan"]
    assert len(model.calls) == 1


@pytest.mark.anyio
async def test_typed_output_after_the_resume() -> None:
    ledger = Ledger()
    model = MockModel(
        [
            MockModel.tool_calls(("delete", {"path": "a.txt"})),
            MockModel.tool_calls(("Plan", {"steps": ["done"]})),
        ]
    )
    agent = Agent(model, tools=ledger.tools, output_type=Plan, output_mode="tool")
    paused, _ = await run(agent, streaming=False)
    result, _ = await resume(
        agent, from_json(to_json(paused), AgentResult), streaming=False, approvals={"call_0": False}
    )
    assert result.output == Plan(steps=["done"])


@pytest.mark.anyio
async def test_a_shared_budget_counts_the_paused_step_once() -> None:
    ledger = Ledger()
    usage = Usage(input_tokens=10, output_tokens=2, total_tokens=12)
    model = MockModel(
        [MockModel.tool_calls(("delete", {"path": "a.txt"}), usage=usage), MockModel.text("ok", usage=usage)]
    )
    budget = Budget(max_input_tokens=1000)
    agent = Agent(model, tools=ledger.tools, budget=budget)
    paused, _ = await run(agent, streaming=False)
    assert budget.spent.input_tokens == 10
    await resume(agent, paused, streaming=False, approvals={"call_0": True})
    assert budget.spent.input_tokens == 20
    assert budget.spent.requests == 2


# --------------------------------------------------------------------------- misuse


@pytest.mark.anyio
async def test_a_pending_call_without_an_answer_is_named() -> None:
    ledger = Ledger()
    model = MockModel([MockModel.tool_calls(("delete", {"path": "a"}), ("delete", {"path": "b"}))])
    agent = Agent(model, tools=ledger.tools)
    paused, _ = await run(agent, streaming=False)

    with pytest.raises(UserError, match="missing: call_0, call_1"):
        await agent.resume_async(paused)
    with pytest.raises(UserError, match="missing: call_1"):
        agent.resume_stream_async(paused, approvals={"call_0": True})
    with pytest.raises(UserError, match=r"no call with the id.* call_9 waits for approval"):
        await agent.resume_async(paused, approvals={"call_0": True, "call_1": True, "call_9": True})
    with pytest.raises(UserError, match="not both: call_0"):
        await agent.resume_async(
            paused, approvals={"call_0": True, "call_1": True}, tool_results={"call_0": "x"}
        )
    with pytest.raises(UserError, match="must be True, False or a reason"):
        await agent.resume_async(paused, approvals={"call_0": 1, "call_1": True})  # pyright: ignore[reportArgumentType]
    assert ledger.calls == []
    assert len(model.calls) == 1


@pytest.mark.anyio
async def test_only_a_paused_result_resumes() -> None:
    agent = Agent(MockModel("hello"))
    result, _ = await run(agent, streaming=False)
    with pytest.raises(UserError, match="only a paused result"):
        await agent.resume_async(result, approvals={})


@pytest.mark.anyio
async def test_an_approved_call_of_a_tool_the_agent_lacks_is_a_user_error() -> None:
    ledger = Ledger()
    paused, _ = await run(
        Agent(MockModel([MockModel.tool_calls(("delete", {"path": "a"}))]), tools=ledger.tools),
        streaming=False,
    )
    other = Agent(MockModel("never"), tools=ledger.tools[2:])
    with pytest.raises(UserError, match="no tool 'delete'"):
        await other.resume_async(paused, approvals={"call_0": True})
    result = await other.resume_async(paused, tool_results={"call_0": "done by hand"})
    assert tool_outputs(result) == [("call_0", "done by hand", False)]


def test_requires_approval_must_be_a_bool_or_a_function() -> None:
    with pytest.raises(UserError, match="requires_approval must be"):

        @tool(requires_approval="yes")  # pyright: ignore[reportArgumentType]
        def nothing() -> None:
            """Nothing."""

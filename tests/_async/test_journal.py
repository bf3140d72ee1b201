"""Durable runs: a journal records a run's answers and tool results; a rerun replays them.

This is the async source; ``tests/_sync/test_journal.py`` is generated from it by
``scripts/unasync.py``. Runs killed in other processes are in ``tests/journal``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reverie import (
    Agent,
    AgentResult,
    AgentStreamPart,
    Budget,
    Call,
    InterruptedToolError,
    Message,
    Response,
    SQLiteJournal,
    TextPart,
    ToolResultPart,
    Usage,
    UserError,
    tool,
)
from reverie.testing import MockModel

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])


class Crash(BaseException):
    """Stands for the process dying while a tool runs (no ``Exception``: the run does not catch it)."""


class Tools:
    """A tool of each kind, counting their runs; ``crash`` makes the next run of each die."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.crash = False

        @tool
        def charge(amount: int) -> str:
            """Charge a card."""
            self.runs.append(f"charge {amount}")
            if self.crash:
                raise Crash
            return f"charged {amount}"

        @tool(idempotent=True)
        def lookup(key: str) -> str:
            """Look a key up."""
            self.runs.append(f"lookup {key}")
            if self.crash:
                raise Crash
            return f"{key}=1"

        @tool(requires_approval=True)
        def delete(path: str) -> str:
            """Delete a file."""
            self.runs.append(f"delete {path}")
            return f"deleted {path}"

        self.tools = [charge, lookup, delete]


def scripted(*calls: tuple[str, dict[str, Any]]) -> MockModel:
    """A model that makes ``calls`` one per step, then says what the tools returned."""

    def answer(call: Call) -> Response | str:
        results = [message for message in call.prompt if message.role == "tool"]
        if len(results) < len(calls):
            name, arguments = calls[len(results)]
            return MockModel.tool_calls((name, arguments))
        return "; ".join(
            str(part.output)
            for message in results
            for part in message.content
            if isinstance(part, ToolResultPart)
        )

    return MockModel(answer)


async def run(agent: Agent, *, streaming: bool, **settings: Any) -> tuple[AgentResult, list[AgentStreamPart]]:
    if not streaming:
        return await agent.generate_async("Go", **settings), []
    stream = agent.stream_async("Go", **settings)
    parts = [part async for part in stream]
    return await stream.result(), parts


@pytest.fixture
def journal(tmp_path: Path) -> SQLiteJournal:
    return SQLiteJournal(tmp_path / "runs.db")


@pytest.mark.anyio
@MODES
async def test_a_rerun_replays_every_recorded_step_without_requests_or_tool_runs(
    journal: SQLiteJournal, streaming: bool
) -> None:
    tools = Tools()
    model = scripted(("lookup", {"key": "a"}), ("charge", {"amount": 5}))
    agent = Agent(model, tools=tools.tools)
    first, _ = await run(agent, streaming=streaming, journal=journal, run_id="r")
    assert first.text == "a=1; charged 5"
    assert (len(model.calls), tools.runs) == (3, ["lookup a", "charge 5"])

    again, parts = await run(agent, streaming=streaming, journal=journal, run_id="r")

    assert (len(model.calls), tools.runs) == (3, ["lookup a", "charge 5"])  # nothing sent, nothing run
    assert again.text == first.text
    assert again.steps == first.steps
    if streaming:  # a replayed stream still yields its steps' parts
        types = [part.type for part in parts]
        assert types.count("step_start") == 3
        assert "tool_call" in types and "tool_result" in types
        assert "".join(part.delta for part in parts if part.type == "text_delta") == first.text


@pytest.mark.anyio
async def test_a_journal_and_a_run_id_go_together(journal: SQLiteJournal) -> None:
    agent = Agent(MockModel(["hi"]))
    with pytest.raises(UserError, match="no run_id"):
        await agent.generate_async("Go", journal=journal)
    with pytest.raises(UserError, match="no journal"):
        await agent.generate_async("Go", run_id="r")


@pytest.mark.anyio
async def test_a_run_id_names_one_run(journal: SQLiteJournal) -> None:
    agent = Agent(MockModel(["hi", "hi"]))
    await agent.generate_async("Go", journal=journal, run_id="r")
    with pytest.raises(UserError, match="other messages"):
        await agent.generate_async("Something else", journal=journal, run_id="r")


@pytest.mark.anyio
@MODES
async def test_an_interrupted_call_of_a_tool_that_is_not_idempotent_stops_the_rerun(
    journal: SQLiteJournal, streaming: bool
) -> None:
    tools = Tools()
    model = scripted(("lookup", {"key": "a"}), ("charge", {"amount": 5}))
    agent = Agent(model, tools=tools.tools)
    tools.crash = False
    real_charge = tools.tools[0]

    @tool(name="charge")
    def charge(amount: int) -> str:
        """Charge a card."""
        tools.runs.append(f"charge {amount}")
        raise Crash

    agent.tools = (charge, *agent.tools[1:])
    with pytest.raises(Crash):
        await run(agent, streaming=streaming, journal=journal, run_id="r")
    agent.tools = (real_charge, *agent.tools[1:])
    requests = len(model.calls)

    with pytest.raises(InterruptedToolError) as caught:
        await run(agent, streaming=streaming, journal=journal, run_id="r")

    error = caught.value
    assert (error.tool_name, error.run_id) == ("charge", "r")
    assert error.tool_call_id in str(error) and "charge" in str(error)
    assert tools.runs == ["lookup a", "charge 5"]  # not run again
    assert len(model.calls) == requests

    if streaming:
        stream = agent.resume_stream_async(
            "r", journal=journal, tool_results={error.tool_call_id: "charged by hand"}
        )
        [part async for part in stream]
        result = await stream.result()
    else:
        result = await agent.resume_async(
            "r", journal=journal, tool_results={error.tool_call_id: "charged by hand"}
        )

    assert result.text == "a=1; charged by hand"
    assert tools.runs == ["lookup a", "charge 5"]
    assert len(model.calls) == requests + 1  # only the final answer was asked for


@pytest.mark.anyio
async def test_an_interrupted_call_of_an_idempotent_tool_runs_again(journal: SQLiteJournal) -> None:
    tools = Tools()
    model = scripted(("lookup", {"key": "a"}))
    agent = Agent(model, tools=tools.tools)
    tools.crash = True
    with pytest.raises(Crash):
        await agent.generate_async("Go", journal=journal, run_id="r")
    tools.crash = False

    result = await agent.generate_async("Go", journal=journal, run_id="r")

    assert result.text == "a=1"
    assert tools.runs == ["lookup a", "lookup a"]
    assert len(model.calls) == 2  # the recorded first answer was not asked for again


@pytest.mark.anyio
@MODES
async def test_a_run_paused_for_approval_resumes_by_its_id(journal: SQLiteJournal, streaming: bool) -> None:
    tools = Tools()
    model = scripted(("lookup", {"key": "a"}), ("delete", {"path": "x"}))
    agent = Agent(model, tools=tools.tools)
    paused, _ = await run(agent, streaming=streaming, journal=journal, run_id="r")
    assert paused.status == "paused"
    record = journal.load("r")
    assert record is not None and record.paused is not None
    (held,) = paused.pending_approvals

    if streaming:
        stream = agent.resume_stream_async("r", journal=journal, approvals={held.tool_call_id: True})
        [part async for part in stream]
        result = await stream.result()
    else:
        result = await agent.resume_async("r", journal=journal, approvals={held.tool_call_id: True})

    assert result.text == "a=1; deleted x"
    assert tools.runs == ["lookup a", "delete x"]
    # Run again by id: the recorded answers are replayed, nothing is sent or run.
    requests = len(model.calls)
    again, _ = await run(agent, streaming=streaming, journal=journal, run_id="r")
    assert again.text == result.text
    assert (len(model.calls), tools.runs) == (requests, ["lookup a", "delete x"])


@pytest.mark.anyio
@MODES
async def test_a_replayed_step_spends_nothing_from_the_budget_and_is_not_refused(
    journal: SQLiteJournal, streaming: bool
) -> None:
    budget = Budget(max_requests=2, max_input_tokens=15)
    answer = Response(
        content=[TextPart(text="hi")], finish_reason="stop", usage=Usage(input_tokens=10, output_tokens=2)
    )
    model = MockModel([answer])
    agent = Agent(model, budget=budget)
    first, _ = await run(agent, streaming=streaming, journal=journal, run_id="r")
    spent = budget.spent
    assert (spent.requests, spent.input_tokens, spent.output_tokens) == (1, 10, 2)

    for _ in range(3):  # more replays than the budget has requests: none is sent, none refused
        again, _ = await run(agent, streaming=streaming, journal=journal, run_id="r")
        assert again.text == first.text
        assert again.steps == first.steps
        assert again.total_usage == first.total_usage

    assert budget.spent == spent
    assert len(model.calls) == 1


@pytest.mark.anyio
@MODES
async def test_a_rerun_charges_only_the_steps_it_sends(journal: SQLiteJournal, streaming: bool) -> None:
    tools = Tools()
    model = scripted(("lookup", {"key": "a"}), ("delete", {"path": "x"}))
    # Two requests: the paused run's; a replay up to the pause and the resumed step need one more.
    budget = Budget(max_requests=3)
    agent = Agent(model, tools=tools.tools, budget=budget)
    paused, _ = await run(agent, streaming=streaming, journal=journal, run_id="r")
    assert paused.status == "paused"
    spent = budget.spent
    assert spent.requests == 2

    replayed, _ = await run(agent, streaming=streaming, journal=journal, run_id="r")
    assert replayed.status == "paused"
    assert replayed.steps == paused.steps
    assert budget.spent == spent  # the paused step was counted once, by the run that paused
    (held,) = paused.pending_approvals
    result = await agent.resume_async("r", journal=journal, approvals={held.tool_call_id: True})

    assert result.text == "a=1; deleted x"
    assert budget.spent.requests == 3  # only the step after the pause was sent


@pytest.mark.anyio
async def test_resuming_a_paused_result_with_a_journal_points_to_resuming_by_run_id(
    journal: SQLiteJournal,
) -> None:
    tools = Tools()
    agent = Agent(scripted(("delete", {"path": "x"})), tools=tools.tools)
    paused, _ = await run(agent, streaming=False, journal=journal, run_id="r")
    (held,) = paused.pending_approvals

    settings_tried: list[dict[str, Any]] = [
        {"journal": journal},
        {"journal": journal, "run_id": "r"},
        {"run_id": "r"},
    ]
    for settings in settings_tried:
        with pytest.raises(UserError, match=r'agent\.resume\("RUN_ID", journal=') as caught:
            await agent.resume_async(paused, approvals={held.tool_call_id: True}, **settings)
        assert "no run_id= was given" not in str(caught.value)
    assert tools.runs == []


@pytest.mark.anyio
async def test_resume_by_id_needs_a_journal_that_holds_the_run(journal: SQLiteJournal) -> None:
    agent = Agent(MockModel(["hi"]))
    with pytest.raises(UserError, match="journal"):
        await agent.resume_async("r")
    with pytest.raises(UserError, match="holds no run 'r'"):
        await agent.resume_async("r", journal=journal)
    await agent.generate_async("Go", journal=journal, run_id="r")
    with pytest.raises(UserError, match="no interrupted or held call"):
        await agent.resume_async("r", journal=journal, tool_results={"nope": 1})


@pytest.mark.anyio
async def test_the_journal_holds_the_run_input_and_no_secrets(journal: SQLiteJournal) -> None:
    agent = Agent(MockModel(["hi"]), system_prompt="Be brief.", headers={"authorization": "Bearer sk-secret"})
    await agent.generate_async([Message.user("Go")], journal=journal, run_id="r")
    record = journal.load("r")
    assert record is not None
    assert [message.role for message in record.messages] == ["system", "user"]
    assert [message.role for message in record.input_messages] == ["user"]
    assert record.result is not None and record.result.text == "hi"
    assert b"sk-secret" not in journal.path.read_bytes()
    assert repr(journal) == f"SQLiteJournal(path={str(journal.path)!r})"

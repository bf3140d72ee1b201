"""A run paused for approval is saved as JSON and resumed in a new process, sync and async.

The paused result is the whole state: the new process builds the same agent, reads the
document and resumes it; the approved call runs there, a refused one reaches the model as
an error result, and the call that needed no approval ran once, before the pause.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from reverie import AgentResult, from_json, to_json
from tests.approval_helpers import make_agent
from tests.conftest import ROOT


def resume_elsewhere(paused: AgentResult, colour: str, approvals: dict[str, bool | str]) -> AgentResult:
    completed = subprocess.run(
        [sys.executable, "-m", "tests.approval_helpers", colour, json.dumps(approvals)],
        input=to_json(paused),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    return from_json(completed.stdout, AgentResult)


def pause_here() -> AgentResult:
    paused = make_agent().generate("Send Ada 500")
    assert paused.status == "paused"
    assert [call.tool_name for call in paused.pending_approvals] == ["transfer"]
    # The balance call needed no approval: it ran before the pause, in this process.
    assert [(part.tool_name, part.output) for part in paused.steps[-1].tool_results] == [("balance", "1000")]
    return paused


@pytest.mark.parametrize("colour", ["sync", "async"])
def test_an_approved_call_runs_in_the_new_process(colour: str) -> None:
    paused = pause_here()
    result = resume_elsewhere(paused, colour, {paused.pending_approvals[0].tool_call_id: True})

    assert result.status == "completed"
    child = result.steps[0].tool_results[0].output
    assert child.startswith("sent 500 to Ada from process ")
    assert child != f"sent 500 to Ada from process {os.getpid()}"
    assert result.text == f"transfer: {child} | balance: 1000"
    assert result.input_messages == paused.input_messages
    assert [step.step_number for step in result.steps] == [0, 1]


@pytest.mark.parametrize("colour", ["sync", "async"])
def test_a_refused_call_reaches_the_model_with_its_reason(colour: str) -> None:
    paused = pause_here()
    result = resume_elsewhere(paused, colour, {paused.pending_approvals[0].tool_call_id: "over the limit"})

    assert result.status == "completed"
    assert result.text == "transfer: refused: over the limit (error) | balance: 1000"
    refused = result.steps[0].tool_results[0]
    assert refused.is_error and refused.tool_name == "transfer"

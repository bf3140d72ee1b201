"""``reverie.temporal`` against a real Temporal dev server and a loopback model server.

A run as a workflow gives the in-process result; a run survives the worker that was running
it (SIGKILL mid tool call, or mid model stream: the stream moves to the other worker within the
heartbeat timeout) without sending a finished step's request again; a model that thinks longer
than the heartbeat timeout before its first token is not taken for dead; a cancelled or
terminated run raises ``reverie.temporal.RunStoppedError``; two worker processes share a batch
of runs. Each test is bounded by timeouts.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from reverie import AgentResult, to_json
from tests.temporal.model_server import ModelServer, Pace, final_text
from tests.temporal.worker_app import (
    ACTIVITY_TIMEOUT,
    AGENT_NAME,
    HEARTBEAT_TIMEOUT,
    build_agent,
    calls,
    lookup_worker,
)

if TYPE_CHECKING:
    from temporalio.client import Client

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


def _name() -> str:
    return f"reverie-test-{uuid.uuid4().hex[:8]}"


def _expected_text(prompt: str) -> str:
    return final_text([f"found {prompt}#0", f"slowly found {prompt}#1", f"found {prompt}#2"])


def _same_run(first: AgentResult, second: AgentResult) -> None:
    """The two results are the same run: text, steps (content, usage, finish) and usage."""
    assert first.text == second.text
    assert first.total_usage == second.total_usage
    assert [to_json(step) for step in first.steps] == [to_json(step) for step in second.steps]
    assert to_json(first) == to_json(second)


async def _client(address: str) -> Client:
    from temporalio.client import Client

    return await Client.connect(address)


async def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.05)
    assert condition(), what


class WorkerProcesses:
    """Worker processes (``worker_app``) of one task queue, started by a test and killed at its end."""

    def __init__(self, address: str, model_url: str, record_dir: Path) -> None:
        self.queue = _name()
        self.record_dir = record_dir
        self._arguments = [address, self.queue, model_url, str(record_dir)]
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, *, slow_seconds: float) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "tests.temporal.worker_app", *self._arguments, str(slow_seconds)]
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def ready(self, process: subprocess.Popen[bytes]) -> bool:
        if process.poll() is not None:
            raise AssertionError(f"worker process {process.pid} exited with {process.returncode}")
        return (self.record_dir / f"{process.pid}.ready").exists()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(10)


@pytest.fixture
def workers(temporal_address: str, model_server: ModelServer, tmp_path: Path) -> Iterator[WorkerProcesses]:
    (tmp_path / "workers").mkdir()
    processes = WorkerProcesses(temporal_address, model_server.url, tmp_path / "workers")
    try:
        yield processes
    finally:
        processes.stop()


async def test_a_run_as_a_workflow_gives_the_in_process_result(
    temporal_address: str, model_server: ModelServer, tmp_path: Path
) -> None:
    import reverie.temporal

    agent = build_agent(model_server.url, tmp_path, slow_seconds=0.0)
    expected = await agent.generate_async("in-process")
    assert expected.text == _expected_text("in-process")
    assert len(expected.steps) == 4

    client = await _client(temporal_address)
    queue = _name()
    worker = lookup_worker(client, queue, agent)
    async with worker:
        handle = await reverie.temporal.start_run(client, queue, AGENT_NAME, "in-process", run_id=_name())
        with anyio.fail_after(30):
            result = await handle.result()
        again = await reverie.temporal.get_run(client, handle.run_id).result()
        with pytest.raises(reverie.temporal.TemporalError, match="is running or has finished"):
            await reverie.temporal.start_run(client, queue, AGENT_NAME, "in-process", run_id=handle.run_id)
    _same_run(result, expected)
    _same_run(again, expected)
    # Each step's request went once per run: the in-process run's and the workflow's (a second
    # start of a finished run's id started nothing).
    assert [model_server.count("in-process", step) for step in range(4)] == [2, 2, 2, 2]


async def test_a_run_survives_its_worker_killed_mid_tool_call(
    temporal_address: str, model_server: ModelServer, workers: WorkerProcesses, tmp_path: Path
) -> None:
    import reverie.temporal

    client = await _client(temporal_address)
    first = workers.start(slow_seconds=60)  # its slow tool is still running when it is killed
    handle = await reverie.temporal.start_run(client, workers.queue, AGENT_NAME, "survivor", run_id=_name())
    await _wait_for(
        lambda: "slow_lookup survivor#1" in calls(workers.record_dir).get(first.pid, []),
        30,
        "the first worker started the slow tool",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    second = workers.start(slow_seconds=0.1)
    with anyio.fail_after(45):
        result = await handle.result()

    assert result.text == _expected_text("survivor")
    # The steps finished before the kill were not asked for again; each later one once.
    assert [model_server.count("survivor", step) for step in range(4)] == [1, 1, 1, 1]
    recorded = calls(workers.record_dir)
    assert recorded[first.pid] == ["lookup survivor#0", "slow_lookup survivor#1"]
    assert recorded[second.pid] == ["slow_lookup survivor#1", "lookup survivor#2"]
    expected = await build_agent(model_server.url, tmp_path, slow_seconds=0.0).generate_async("survivor")
    _same_run(result, expected)


async def test_two_workers_share_a_batch_of_runs(
    temporal_address: str, model_server: ModelServer, workers: WorkerProcesses
) -> None:
    import reverie.temporal

    client = await _client(temporal_address)
    started = [workers.start(slow_seconds=0.2) for _ in range(2)]
    await _wait_for(lambda: all(workers.ready(item) for item in started), 30, "both workers poll")
    prompts = [f"batch-{number}" for number in range(20)]
    handles = [
        await reverie.temporal.start_run(client, workers.queue, AGENT_NAME, prompt, run_id=_name())
        for prompt in prompts
    ]
    results: dict[str, str] = {}

    async def wait(prompt: str, handle: reverie.temporal.RunHandle) -> None:
        results[prompt] = (await handle.result()).text

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for prompt, handle in zip(prompts, handles, strict=True):
                group.start_soon(wait, prompt, handle)

    assert results == {prompt: _expected_text(prompt) for prompt in prompts}
    recorded = calls(workers.record_dir)
    assert {item.pid for item in started} <= {pid for pid, lines in recorded.items() if lines}
    # Every tool call of every run ran (at least once: a call may be repeated only after a crash).
    done = {line for lines in recorded.values() for line in lines}
    assert done == {f"{tool} {prompt}#{step}" for prompt in prompts for step, tool in _STEP_TOOLS}


_STEP_TOOLS = ((0, "lookup"), (1, "slow_lookup"), (2, "lookup"))


async def test_a_model_error_goes_back_to_the_run_which_retries_or_ends_with_it(
    temporal_address: str,
) -> None:
    import reverie.temporal
    from reverie import Agent, ProviderError, RetryPolicy
    from reverie.testing import MockModel

    flaky = MockModel([ProviderError("busy", status_code=503), "recovered"], model_id="flaky")
    refusing = MockModel(ProviderError("bad request", status_code=400), model_id="refusing")
    retry = RetryPolicy(max_retries=2, initial_delay=0.2)
    agents = {"flaky": Agent(flaky, retry=retry), "refusing": Agent(refusing, retry=retry)}
    client = await _client(temporal_address)
    queue = _name()
    async with reverie.temporal.worker(client, queue, agents, heartbeat_timeout=HEARTBEAT_TIMEOUT):
        with anyio.fail_after(30):
            handle = await reverie.temporal.start_run(client, queue, "flaky", "Hi", run_id=_name())
            result = await handle.result()
            assert result.text == "recovered"
            assert len(flaky.calls) == 2  # the machine's retry, after its wait (a workflow timer)
            handle = await reverie.temporal.start_run(client, queue, "refusing", "Hi", run_id=_name())
            with pytest.raises(ProviderError, match="bad request") as caught:
                await handle.result()
    assert caught.value.status_code == 400
    assert len(refusing.calls) == 1  # not retried: not by the machine, not by Temporal


async def test_typed_output_callbacks_and_settings_work_in_a_workflow(temporal_address: str) -> None:
    from pydantic import BaseModel

    import reverie.temporal
    from reverie import Agent, from_json
    from reverie.testing import MockModel

    class City(BaseModel):
        name: str
        population: int

    finished: list[int] = []

    async def on_step_finish(step: Any) -> None:  # awaited on the workflow's loop
        finished.append(step.step_number)

    model = MockModel('{"name": "Florence", "population": 360000}')
    agent = Agent(model, output_type=City, on_step_finish=on_step_finish)
    client = await _client(temporal_address)
    queue = _name()
    async with reverie.temporal.worker(client, queue, {"city": agent}, heartbeat_timeout=HEARTBEAT_TIMEOUT):
        with anyio.fail_after(30):
            handle = await reverie.temporal.start_run(
                client, queue, "city", "Which city?", run_id=_name(), temperature=0.3, deadline=60.0
            )
            result = await handle.result()
    assert result.typed_output == {"name": "Florence", "population": 360000}
    typed = from_json(to_json(result), AgentResult[City])
    assert typed.output == City(name="Florence", population=360000)
    assert finished == [0]
    (call,) = model.calls
    assert call.temperature == 0.3
    assert call.response_format is not None and call.response_format.name == "City"
    assert call.deadline_at is not None  # the deadline crossed as what was left of it


async def test_a_run_that_pauses_for_approval_ends_its_workflow_with_the_paused_result(
    temporal_address: str,
) -> None:
    import reverie.temporal
    from reverie import Agent, ToolCallPart, tool
    from reverie.testing import MockModel

    @tool(requires_approval=True)
    def delete(path: str) -> str:
        """Delete a file."""
        return "deleted"

    call = ToolCallPart(tool_call_id="c1", tool_name="delete", input='{"path": "a.txt"}')
    agent = Agent(MockModel((call,)), tools=[delete])
    client = await _client(temporal_address)
    queue = _name()
    async with reverie.temporal.worker(client, queue, {"files": agent}, heartbeat_timeout=HEARTBEAT_TIMEOUT):
        with anyio.fail_after(30):
            handle = await reverie.temporal.start_run(client, queue, "files", "Clean up", run_id=_name())
            result = await handle.result()
    assert result.status == "paused"
    assert [item.tool_call_id for item in result.pending_approvals] == ["c1"]


_LAST_STEP = 3
"""The step that answers with text (after the three tool steps)."""


async def test_a_streaming_model_request_moves_to_another_worker_within_the_heartbeat_timeout(
    temporal_address: str, model_server: ModelServer, workers: WorkerProcesses, tmp_path: Path
) -> None:
    import reverie.temporal

    prompt = "streamer"
    # The last step's text comes two characters at a time, 0.1 s apart: about 3.5 s in all.
    model_server.pace(prompt, _LAST_STEP, Pace(between_chunks=0.1, chunk_size=2))
    started = [workers.start(slow_seconds=0.0) for _ in range(2)]
    await _wait_for(lambda: all(workers.ready(item) for item in started), 30, "both workers poll")
    client = await _client(temporal_address)
    handle = await reverie.temporal.start_run(client, workers.queue, AGENT_NAME, prompt, run_id=_name())

    def streaming() -> bool:
        requests = model_server.requests(prompt, _LAST_STEP)
        return bool(requests) and requests[0].chunks_sent >= 3

    await _wait_for(streaming, 30, "the server streams the last step's answer")
    (first,) = model_server.requests(prompt, _LAST_STEP)
    (victim,) = [item for item in started if item.pid == first.worker]
    (survivor,) = [item for item in started if item is not victim]
    killed_at = time.monotonic()
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    assert not first.finished  # killed mid-stream
    with anyio.fail_after(45):
        result = await handle.result()

    assert result.text == _expected_text(prompt)
    repeated = model_server.requests(prompt, _LAST_STEP)[1]
    assert repeated.worker == survivor.pid
    # Taken over for the missed heartbeats (2 s, then Temporal's 1 s retry interval), long before
    # the attempt's 10 minutes ran out.
    waited = repeated.at - killed_at
    assert ACTIVITY_TIMEOUT.total_seconds() >= 600
    assert 0 < waited < HEARTBEAT_TIMEOUT.total_seconds() + 5, waited
    # Only the interrupted request was sent again; the steps before it were not.
    assert [model_server.count(prompt, step) for step in range(4)] == [1, 1, 1, 2]
    expected = await build_agent(model_server.url, tmp_path, slow_seconds=0.0).generate_async(prompt)
    _same_run(result, expected)


async def test_a_model_that_thinks_longer_than_the_heartbeat_timeout_is_not_taken_for_dead(
    temporal_address: str, model_server: ModelServer, tmp_path: Path
) -> None:
    import reverie.temporal

    prompt = "thinker"
    thinking = HEARTBEAT_TIMEOUT.total_seconds() * 2.5  # no byte for 5 s, then the answer
    model_server.pace(prompt, 0, Pace(first_byte=thinking))
    agent = build_agent(model_server.url, tmp_path, slow_seconds=0.0)
    client = await _client(temporal_address)
    queue = _name()
    worker = lookup_worker(client, queue, agent)
    async with worker:
        handle = await reverie.temporal.start_run(client, queue, AGENT_NAME, prompt, run_id=_name())
        with anyio.fail_after(30):
            result = await handle.result()
    assert result.text == _expected_text(prompt)
    # The activity heartbeat while it waited for the first byte: Temporal did not send it again.
    assert [model_server.count(prompt, step) for step in range(4)] == [1, 1, 1, 1]
    assert model_server.requests(prompt, 0)[0].finished


async def test_a_cancelled_or_terminated_run_raises_run_stopped_error(
    temporal_address: str, model_server: ModelServer, tmp_path: Path
) -> None:
    from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
    from temporalio.exceptions import CancelledError, TerminatedError

    import reverie.temporal
    from reverie.temporal import RunStoppedError, TemporalError

    cancelled, terminated = "cancelled", "terminated"
    # Each run's last answer streams for about 13 s: long enough to stop the run in the middle.
    for prompt in (cancelled, terminated):
        model_server.pace(prompt, _LAST_STEP, Pace(between_chunks=0.2, chunk_size=1))
    agent = build_agent(model_server.url, tmp_path, slow_seconds=0.0)
    client = await _client(temporal_address)
    queue = _name()
    worker = lookup_worker(client, queue, agent)
    async with worker:
        with anyio.fail_after(40):
            handles = {
                prompt: await reverie.temporal.start_run(client, queue, AGENT_NAME, prompt, run_id=_name())
                for prompt in (cancelled, terminated)
            }
            await _wait_for(
                lambda: all(model_server.requests(prompt, _LAST_STEP) for prompt in (cancelled, terminated)),
                20,
                "both runs stream their last answer",
            )
            running_id = handles[cancelled].run_id
            with pytest.raises(
                TemporalError, match=f"a run with the id '{running_id}' is running or has finished"
            ):
                await reverie.temporal.start_run(client, queue, AGENT_NAME, cancelled, run_id=running_id)
            await handles[cancelled].workflow_handle.cancel()
            await handles[terminated].workflow_handle.terminate("no longer needed")
            with pytest.raises(RunStoppedError, match="its workflow was cancelled") as was_cancelled:
                await handles[cancelled].result()
            with pytest.raises(RunStoppedError, match="its workflow was terminated") as was_terminated:
                await handles[terminated].result()
            # The model requests in progress were stopped too (an activity learns it from its
            # heartbeat): their streams ended before the end of the answer.
            stopped, gone = (
                model_server.requests(prompt, _LAST_STEP)[0] for prompt in (cancelled, terminated)
            )
            await _wait_for(lambda: stopped.dropped and gone.dropped, 10, "both streams were dropped")
    assert (was_cancelled.value.reason, was_terminated.value.reason) == ("cancelled", "terminated")
    assert was_cancelled.value.run_id == handles[cancelled].run_id
    for stopped_error, cause in (
        (was_cancelled.value, CancelledError),
        (was_terminated.value, TerminatedError),
    ):
        failure = stopped_error.__cause__
        assert isinstance(failure, WorkflowFailureError) and isinstance(failure.cause, cause)
    assert not stopped.finished and not gone.finished
    description = await handles[cancelled].workflow_handle.describe()
    assert description.status == WorkflowExecutionStatus.CANCELED

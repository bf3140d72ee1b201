"""``run_batch_async``: order, per-item failures, the shared budget, resume and typed output.

``MockModel`` answers by prompt. This is the async source; ``tests/_sync/test_batch.py``
(``run_batch``, worker threads) is generated from it. The loopback acceptance test with
injected 429s and 5xx is ``tests/batch/test_acceptance.py``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reverie import (
    Agent,
    BatchItem,
    BatchResult,
    Budget,
    Call,
    JournalError,
    Message,
    ProviderError,
    Response,
    SQLiteJournal,
    TextPart,
    Usage,
    UserError,
    run_batch_async,
    tool,
)
from reverie._batch.store import BatchStore
from reverie.testing import MockModel
from tests.batch.old_store import write_store_before_digests


def text_of(message: Message) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))


def said(call: Call) -> str:
    return text_of(call.prompt[-1])


class Answers:
    """A script: echoes the prompt, or fails for prompts in ``failing``."""

    def __init__(self, failing: set[str] | None = None) -> None:
        self.failing = failing or set()
        self.sent: list[str] = []

    def __call__(self, call: Call) -> Response:
        prompt = said(call)
        self.sent.append(prompt)
        if prompt in self.failing:
            raise ProviderError(f"refused {prompt}", status_code=400)
        usage = Usage(input_tokens=3, output_tokens=2, total_tokens=5)
        return MockModel.text(f"re: {prompt}", usage=usage)


def items(count: int) -> list[dict[str, Any]]:
    return [{"id": number, "prompt": f"p{number}"} for number in range(count)]


@pytest.mark.anyio
async def test_results_come_in_input_order_with_failures_recorded() -> None:
    answers = Answers(failing={"p3", "p7"})
    agent = Agent(MockModel(answers))
    results = await run_batch_async(agent, items(20), concurrency=4, progress=False)
    assert [result.id for result in results] == list(range(20))
    assert results[3] == BatchResult(id=3, status="failed", error="HTTP 400: refused p3")
    assert results[0].status == "answered" and results[0].text == "re: p0"
    assert results[0].usage == Usage(input_tokens=3, output_tokens=2, total_tokens=5)
    assert results[0].result is not None and results[0].result.text == "re: p0"
    assert sorted(answers.sent) == sorted(f"p{number}" for number in range(20))


@pytest.mark.anyio
async def test_items_may_carry_a_system_prompt_and_messages() -> None:
    model = MockModel(lambda call: MockModel.text(" | ".join(text_of(message) for message in call.prompt)))
    batch = [BatchItem(id="a", prompt="hi", system="Be brief.")]
    (result,) = await run_batch_async(Agent(model), batch, progress=False)
    assert result.text == "Be brief. | hi"


@pytest.mark.anyio
async def test_bad_items_are_refused_before_anything_is_sent() -> None:
    model = MockModel(Answers())
    with pytest.raises(UserError, match="item 3: duplicate id 1"):
        await run_batch_async(Agent(model), [*items(2), {"id": 1, "prompt": "x"}], progress=False)
    with pytest.raises(UserError, match="concurrency must be a positive integer"):
        await run_batch_async(Agent(model), items(2), concurrency=0, progress=False)
    assert model.calls == []


@pytest.mark.anyio
async def test_a_spent_budget_fails_the_items_left_without_sending_them(tmp_path: Path) -> None:
    answers = Answers()
    agent = Agent(MockModel(answers))
    journal = tmp_path / "runs.db"
    results = await run_batch_async(
        agent, items(10), concurrency=1, budget=Budget(max_requests=4), journal=journal, progress=False
    )
    assert [result.status for result in results] == ["answered"] * 4 + ["failed"] * 6
    assert all(
        "budget exceeded" in str(result.error) and "max_requests" in str(result.error)
        for result in results[4:]
    )
    assert answers.sent == ["p0", "p1", "p2", "p3"]
    # Stopped by the budget, not failed for good: a resumed batch sends them.
    results = await run_batch_async(agent, items(10), concurrency=2, journal=journal, progress=False)
    assert [result.status for result in results] == ["answered"] * 10
    assert sorted(answers.sent) == sorted(f"p{number}" for number in range(10))


@pytest.mark.anyio
async def test_a_resumed_batch_sends_only_what_is_left_and_retry_failed_sends_failures(
    tmp_path: Path,
) -> None:
    answers = Answers(failing={"p1"})
    agent = Agent(MockModel(answers))
    journal = tmp_path / "runs.db"
    first = await run_batch_async(agent, items(3), journal=journal, progress=False)
    assert [result.status for result in first] == ["answered", "failed", "answered"]
    again = await run_batch_async(agent, items(5), journal=journal, batch_key=None, progress=False)
    # Other ids make another batch (the default key is derived from the ids): all are sent.
    assert len(answers.sent) == 3 + 5
    keyed = await run_batch_async(agent, items(3), journal=journal, batch_key="k", progress=False)
    assert [result.status for result in keyed] == ["answered", "failed", "answered"]
    sent = len(answers.sent)
    resumed = await run_batch_async(agent, items(3), journal=journal, batch_key="k", progress=False)
    assert len(answers.sent) == sent  # nothing sent: answered and failed for good
    assert resumed == keyed  # compared without the AgentResult
    assert resumed[0].result is None and resumed[1].error == "HTTP 400: refused p1"
    answers.failing.clear()
    retried = await run_batch_async(
        agent, items(3), journal=journal, batch_key="k", retry_failed=True, progress=False
    )
    assert answers.sent[sent:] == ["p1"]
    assert [result.status for result in retried] == ["answered"] * 3
    assert [result.status for result in again] == ["answered", "failed", "answered", "answered", "answered"]
    with sqlite3.connect(journal) as connection:
        lines = dict(
            connection.execute("SELECT item, line FROM reverie_batch_items WHERE batch = 'k'").fetchall()
        )
    assert json.loads(lines["1"])["text"] == "re: p1"


@dataclass
class Person:
    name: str
    age: int


@pytest.mark.anyio
async def test_typed_output_is_kept_and_read_back_as_json(tmp_path: Path) -> None:
    model = MockModel(lambda call: MockModel.text(json.dumps({"name": said(call), "age": 30})))
    agent = Agent(model, output_type=Person)
    journal = tmp_path / "runs.db"
    (result,) = await run_batch_async(agent, [{"id": "x", "prompt": "Ada"}], journal=journal, progress=False)
    assert result.output == Person(name="Ada", age=30)
    (resumed,) = await run_batch_async(agent, [{"id": "x", "prompt": "Ada"}], journal=journal, progress=False)
    assert resumed.output == {"name": "Ada", "age": 30}
    assert len(model.calls) == 1


class Crash(BaseException):
    """Stands for the process dying while a tool runs (not an error a run records)."""


@pytest.mark.anyio
async def test_with_a_journal_each_item_run_is_durable_and_resumes_from_its_last_step(tmp_path: Path) -> None:
    requests: dict[tuple[str, int], int] = {}
    crash = {"p1"}

    def answer(call: Call) -> Response:
        prompt = next(text_of(message) for message in call.prompt if message.role == "user")
        step = sum(1 for message in call.prompt if message.role == "assistant")
        requests[prompt, step] = requests.get((prompt, step), 0) + 1
        if step == 0:
            return MockModel.tool_calls(("lookup", {"prompt": prompt}))
        return MockModel.text(f"found {prompt}")

    @tool(idempotent=True)
    async def lookup(prompt: str) -> str:
        """Look a prompt up."""
        if prompt in crash:
            crash.discard(prompt)
            raise Crash
        return prompt.upper()

    agent = Agent(MockModel(answer), tools=[lookup])
    journal = SQLiteJournal(tmp_path / "runs.db")
    with pytest.raises(BaseException) as raised:  # the crash, maybe in a group
        await run_batch_async(agent, items(3), concurrency=1, journal=journal, batch_key="k", progress=False)
    assert (
        raised.group_contains(Crash) if isinstance(raised.value, BaseExceptionGroup) else raised.type is Crash
    )
    assert requests == {("p0", 0): 1, ("p0", 1): 1, ("p1", 0): 1}
    results = await run_batch_async(
        agent, items(3), concurrency=1, journal=journal, batch_key="k", progress=False
    )
    assert [result.text for result in results] == ["found p0", "found p1", "found p2"]
    # p0 was done; p1 resumed after its recorded first answer: no request was sent twice.
    assert requests == {(f"p{n}", step): 1 for n in range(3) for step in (0, 1)}
    assert journal.run_ids() == ["batch:k:0", "batch:k:1", "batch:k:2"]
    with sqlite3.connect(journal.path) as connection:
        states = connection.execute("SELECT state FROM reverie_batch_items WHERE batch = 'k'").fetchall()
    assert states == [("answered",)] * 3
    journal.close()


@pytest.mark.anyio
async def test_a_journal_that_is_not_a_database_raises_journal_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"not a database, " * 200)
    answers = Answers()
    with pytest.raises(JournalError, match=r"corrupt\.db") as raised:
        await run_batch_async(Agent(MockModel(answers)), items(2), journal=path, progress=False)
    assert isinstance(raised.value.__cause__, sqlite3.DatabaseError)
    assert answers.sent == []


@pytest.mark.anyio
async def test_a_store_that_cannot_be_written_fails_the_items_it_did_not_keep_and_sends_no_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = Answers()
    agent = Agent(MockModel(answers))
    journal = tmp_path / "runs.db"
    record = BatchStore.record

    def locked(self: BatchStore, batch: str, item: str, *arguments: Any, **settings: Any) -> None:
        if item == "1":
            raise JournalError(
                f"cannot write to the batch store {self.path}: database is locked", path=self.path
            )
        record(self, batch, item, *arguments, **settings)

    monkeypatch.setattr(BatchStore, "record", locked)
    results = await run_batch_async(agent, items(4), concurrency=1, journal=journal, progress=False)
    assert results[0].status == "answered"
    assert [result.status for result in results[1:]] == ["failed"] * 3
    assert "database is locked" in str(results[1].error) and "sent again on resume" in str(results[1].error)
    monkeypatch.setattr(BatchStore, "record", record)
    sent = len(answers.sent)
    resumed = await run_batch_async(agent, items(4), concurrency=1, journal=journal, progress=False)
    assert [result.status for result in resumed] == ["answered"] * 4
    assert answers.sent[sent:] == ["p1", "p2", "p3"]  # nothing of them was recorded: sent again


@pytest.mark.anyio
async def test_an_item_whose_run_journal_fails_is_stopped_and_sent_again(tmp_path: Path) -> None:
    broken = {"p1"}

    def answer(call: Call) -> Response:
        if said(call) in broken:
            broken.clear()
            raise JournalError("cannot write to the journal runs.db: database is locked", path="runs.db")
        return MockModel.text(f"re: {said(call)}")

    agent = Agent(MockModel(answer))
    journal = tmp_path / "runs.db"
    first = await run_batch_async(agent, items(3), journal=journal, batch_key="k", progress=False)
    assert [result.status for result in first] == ["answered", "failed", "answered"]
    assert "database is locked" in str(first[1].error)
    again = await run_batch_async(agent, items(3), journal=journal, batch_key="k", progress=False)
    assert [result.text for result in again] == ["re: p0", "re: p1", "re: p2"]  # not failed for good


@pytest.mark.anyio
async def test_an_item_paused_for_approval_fails_naming_its_calls_and_resumes_by_its_run_id(
    tmp_path: Path,
) -> None:
    def answer(call: Call) -> Response:
        if any(message.role == "tool" for message in call.prompt):
            return MockModel.text("refunded")
        return MockModel.tool_calls(("refund", {"order": said(call)}))

    @tool(requires_approval=True)
    async def refund(order: str) -> str:
        """Refund an order."""
        return f"refunded {order}"

    agent = Agent(MockModel(answer), tools=[refund])
    journal = SQLiteJournal(tmp_path / "runs.db")
    (result,) = await run_batch_async(
        agent, [{"id": "a1", "prompt": "o1"}], journal=journal, batch_key="orders", progress=False
    )
    assert result.status == "failed"
    assert result.error == "paused for approval: call_0 (refund)"
    # As docs/batch.md says: answer the pause by the item's run id, then retry the failed items.
    resumed = await agent.resume_async('batch:orders:"a1"', journal=journal, approvals={"call_0": True})
    assert resumed.text == "refunded"
    (retried,) = await run_batch_async(
        agent,
        [{"id": "a1", "prompt": "o1"}],
        journal=journal,
        batch_key="orders",
        retry_failed=True,
        progress=False,
    )
    assert (retried.status, retried.text) == ("answered", "refunded")
    journal.close()


@pytest.mark.anyio
async def test_an_item_changed_under_its_id_fails_and_keeps_its_record(tmp_path: Path) -> None:
    answers = Answers()
    agent = Agent(MockModel(answers))
    journal = tmp_path / "runs.db"
    await run_batch_async(agent, items(3), journal=journal, batch_key="k", progress=False)
    changed = [*items(3)]
    changed[1] = {"id": 1, "prompt": "p1", "system": "be brief"}
    changed[2] = {"id": 2, "prompt": "another"}
    results = await run_batch_async(agent, changed, journal=journal, batch_key="k", progress=False)
    assert [result.status for result in results] == ["answered", "failed", "failed"]
    assert results[2].error == (
        "item 2 changed since it was recorded in batch 'k': "
        "use another batch key (--batch-key) or a new journal"
    )
    assert len(answers.sent) == 3  # nothing sent again, the old answers not handed back
    unchanged = await run_batch_async(agent, items(3), journal=journal, batch_key="k", progress=False)
    assert [result.text for result in unchanged] == ["re: p0", "re: p1", "re: p2"]  # the records stayed


@pytest.mark.anyio
async def test_a_record_without_a_digest_matches_its_item(tmp_path: Path) -> None:
    journal = tmp_path / "runs.db"
    line = json.dumps({"id": 0, "text": "recorded", "usage": None, "cost": None})
    write_store_before_digests(journal, [("k", "0", "answered", line)])
    answers = Answers()
    results = await run_batch_async(
        Agent(MockModel(answers)), items(2), journal=journal, batch_key="k", progress=False
    )
    assert [result.text for result in results] == ["recorded", "re: p1"]
    assert answers.sent == ["p1"]


@pytest.mark.anyio
async def test_a_money_budget_without_a_price_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    agent = Agent(MockModel(Answers()))
    with caplog.at_level(logging.WARNING, logger="reverie"):
        results = await run_batch_async(agent, items(3), budget=Budget(max_cost=1.0), progress=False)
    assert [result.cost for result in results] == [None] * 3
    warnings = [record.getMessage() for record in caplog.records if "budget in USD" in record.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].startswith("the budget in USD cannot be enforced: no price is known for ")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="reverie"):
        await run_batch_async(agent, items(2), budget=Budget(max_requests=10), progress=False)
    assert not [record for record in caplog.records if "budget in USD" in record.getMessage()]

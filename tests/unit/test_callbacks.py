"""A sync run refuses async callbacks before any request instead of never running them."""

from __future__ import annotations

from typing import Any

import pytest

from reverie import Agent, AgentResult, UserError
from reverie.testing import MockModel


async def on_finish(result: AgentResult) -> None:
    del result


class AsyncCallable:
    async def __call__(self, delta: str) -> None:
        del delta


def test_an_async_def_callback_is_refused_by_sync_runs_before_any_request() -> None:
    model = MockModel(["Done."])
    agent = Agent(model, on_finish=on_finish)
    with pytest.raises(UserError, match="on_finish is an async callback"):
        agent.generate("Go.")
    with pytest.raises(UserError, match="on_finish is an async callback"):
        agent.stream("Go.").result()
    with pytest.raises(UserError, match="on_text_delta is an async callback"):
        Agent(model, on_text_delta=AsyncCallable()).generate("Go.")
    assert model.calls == []


def test_a_callback_returning_an_awaitable_is_refused_when_called() -> None:
    def on_step_start(step_number: int) -> Any:
        return on_finish(None)  # pyright: ignore[reportArgumentType]

    with pytest.raises(UserError, match="on_step_start is an async callback"):
        Agent(MockModel(["Done."]), on_step_start=on_step_start).generate("Go.")


@pytest.mark.anyio
async def test_a_callback_returning_an_awaitable_is_awaited_by_async_runs() -> None:
    seen: list[int] = []

    async def record(step_number: int) -> None:
        seen.append(step_number)

    def on_step_start(step_number: int) -> Any:
        return record(step_number)

    await Agent(MockModel(["Done."]), on_step_start=on_step_start).generate_async("Go.")
    assert seen == [0]


async def async_prepare_step(context: Any) -> None:
    del context


@pytest.mark.parametrize("colour", ["sync", "async"])
def test_an_async_prepare_step_is_refused_before_any_request(colour: str) -> None:
    import asyncio

    model = MockModel(["Done."])
    agent = Agent(model, prepare_step=async_prepare_step)
    with pytest.raises(UserError, match="prepare_step must be a plain def"):
        if colour == "sync":
            agent.generate("Go.")
        else:
            asyncio.run(agent.generate_async("Go."))
    assert model.calls == []

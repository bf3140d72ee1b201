"""Budgets stop runs at the right step, and failed attempts' usage is counted, through the public API.

A ``Budget`` is checked before each request (``max_requests``) and after each step (tokens,
cost); the ``BudgetExceededError`` holds the partial result, the step that went past the limit
included. Usage reported by failed attempts is summed in ``result.attempts_usage`` (and counted
by the budget). ``MockModel`` scripts, and Anthropic, Gemini and OpenAI Responses providers on
scripted ``httpx2.MockTransport`` servers for the usage of broken streams and failed responses.

This is the async source; ``tests/_sync/test_budgets.py`` is generated from it.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from reverie import (
    Agent,
    AgentResult,
    AgentStreamPart,
    Budget,
    BudgetExceededError,
    ProviderError,
    RetryPart,
    RetryPolicy,
    StepFinishPart,
    Usage,
    UserError,
    tool,
)
from reverie.providers import anthropic, google, openai
from reverie.testing import MockModel
from tests.wire_answers import responses_answer

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])
M = 1_000_000


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


def looping(steps: int, usage: Usage, *, provider: str = "mock", model_id: str = "mock-model") -> MockModel:
    """A model that calls ``lookup`` ``steps - 1`` times, then answers; every step uses ``usage``."""

    def answer(call: Any) -> Any:
        done = sum(1 for message in call.prompt if message.role == "tool")
        if done + 1 >= steps:
            return MockModel.text("done", usage=usage)
        return MockModel.tool_calls(("lookup", {"key": str(done)}), usage=usage)

    return MockModel(answer, provider=provider, model_id=model_id)


async def run(
    agent: Agent, *, streaming: bool, **settings: Any
) -> tuple[AgentResult | BudgetExceededError, list[AgentStreamPart]]:
    """Run once; the result, or the budget error the run ended with, and the streamed parts."""
    parts: list[AgentStreamPart] = []
    try:
        if not streaming:
            return await agent.generate_async("Go.", **settings), parts
        stream = agent.stream_async("Go.", **settings)
        async for part in stream:
            parts.append(part)
        return await stream.result(), parts
    except BudgetExceededError as error:
        return error, parts


@pytest.mark.anyio
@MODES
async def test_max_requests_refuses_the_request_past_the_limit(streaming: bool) -> None:
    model = looping(5, Usage(input_tokens=10, output_tokens=1))
    budget = Budget(max_requests=2)
    outcome, parts = await run(Agent(model, tools=[lookup], budget=budget), streaming=streaming)
    assert isinstance(outcome, BudgetExceededError)
    assert (outcome.limit, outcome.maximum, outcome.spent) == ("max_requests", 2, 2)
    assert "max_requests is 2 requests" in str(outcome) and "no further request is sent" in str(outcome)
    assert len(model.calls) == 2
    assert [step.step_number for step in outcome.result.steps] == [0, 1]
    assert outcome.result.tool_calls and outcome.result.steps[1].tool_results
    assert budget.spent.requests == 2
    if streaming:
        # The refused step never started: the last part is the finish of the step before it.
        assert isinstance(parts[-1], StepFinishPart) and parts[-1].step_number == 1


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize(
    ("limit", "maximum", "spent"),
    [("max_input_tokens", 250, 300), ("max_output_tokens", 25, 30)],
)
async def test_token_limits_stop_the_run_after_the_step_that_went_past_them(
    streaming: bool, limit: str, maximum: int, spent: int
) -> None:
    model = looping(5, Usage(input_tokens=100, output_tokens=10, total_tokens=110))
    outcome, parts = await run(
        Agent(model, tools=[lookup]), streaming=streaming, budget=Budget(**{limit: maximum})
    )
    assert isinstance(outcome, BudgetExceededError)
    assert (outcome.limit, outcome.maximum, outcome.spent) == (limit, maximum, spent)
    assert len(outcome.result.steps) == 3  # the third step went past the limit and is kept
    assert len(model.calls) == 3
    assert f"{limit} is {maximum}" in str(outcome) and f"{spent}" in str(outcome)
    if streaming:
        assert isinstance(parts[-1], StepFinishPart) and parts[-1].step_number == 2


@pytest.mark.anyio
@MODES
async def test_max_cost_counts_each_steps_price(streaming: bool) -> None:
    # gpt-4o: $2.50 per million input tokens, $10 per million output tokens.
    usage = Usage(input_tokens=1000, output_tokens=100, total_tokens=1100)
    step_price = (1000 * 2.5 + 100 * 10) / M  # $0.0035
    model = looping(5, usage, provider="openai", model_id="gpt-4o")
    budget = Budget(max_cost=0.008)
    outcome, _ = await run(Agent(model, tools=[lookup], budget=budget), streaming=streaming)
    assert isinstance(outcome, BudgetExceededError)
    assert outcome.limit == "max_cost" and outcome.maximum == 0.008
    assert outcome.spent == pytest.approx(3 * step_price)
    assert len(outcome.result.steps) == 3
    assert outcome.result.total_cost == pytest.approx(3 * step_price)
    assert "max_cost is $0.008" in str(outcome) and "$0.0105" in str(outcome)
    assert budget.spent.cost == pytest.approx(3 * step_price)


@pytest.mark.anyio
@MODES
async def test_the_final_answer_that_went_past_the_limit_is_in_the_partial_result(streaming: bool) -> None:
    model = MockModel([MockModel.text("The answer is 42.", usage=Usage(input_tokens=5, output_tokens=50))])
    outcome, parts = await run(Agent(model, budget=Budget(max_output_tokens=10)), streaming=streaming)
    assert isinstance(outcome, BudgetExceededError)
    assert outcome.result.text == "The answer is 42."
    assert outcome.result.output == "The answer is 42."
    assert outcome.result.total_usage.output_tokens == 50
    if streaming:
        assert [part.type for part in parts][-2:] == ["text_end", "step_finish"]


@pytest.mark.anyio
@MODES
async def test_a_run_within_its_budget_finishes(streaming: bool) -> None:
    model = looping(3, Usage(input_tokens=10, output_tokens=1, total_tokens=11))
    budget = Budget(max_requests=3, max_input_tokens=30, max_output_tokens=3, max_cost=1.0)
    outcome, _ = await run(Agent(model, tools=[lookup]), streaming=streaming, budget=budget)
    assert isinstance(outcome, AgentResult)
    assert outcome.text == "done"
    assert budget.spent.requests == 3
    assert (budget.spent.input_tokens, budget.spent.output_tokens) == (30, 3)
    # Used up exactly, not exceeded: the next run has no room for its first request.
    again, _ = await run(Agent(model, tools=[lookup]), streaming=streaming, budget=budget)
    assert isinstance(again, BudgetExceededError)
    assert again.limit == "max_requests" and again.result.steps == []


@pytest.mark.anyio
async def test_a_call_budget_replaces_the_agents() -> None:
    model = looping(2, Usage(input_tokens=10, output_tokens=1))
    agent = Agent(model, tools=[lookup], budget=Budget(max_requests=0))
    result = await agent.generate_async("Go.", budget=Budget(max_requests=2))
    assert result.text == "done"
    with pytest.raises(BudgetExceededError, match="max_requests is 0 requests"):
        await agent.generate_async("Go.")
    with pytest.raises(UserError, match=r"budget must be a reverie\.Budget"):
        await agent.generate_async("Go.", budget=5)  # type: ignore[typeddict-item]


@pytest.mark.anyio
@MODES
async def test_retries_take_requests_and_failed_attempts_usage_is_counted(streaming: bool) -> None:
    failure = ProviderError("overloaded", status_code=529)
    failure.reported_usage = Usage(input_tokens=40, output_tokens=3, total_tokens=43)
    model = MockModel([failure, MockModel.text("fine", usage=Usage(input_tokens=40, output_tokens=2))])
    budget = Budget(max_requests=5, max_input_tokens=1000)
    outcome, parts = await run(
        Agent(model, retry=RetryPolicy(max_retries=2), budget=budget), streaming=streaming
    )
    assert isinstance(outcome, AgentResult)
    assert outcome.attempts_usage == Usage(input_tokens=40, output_tokens=3, total_tokens=43)
    assert outcome.total_usage.input_tokens == 40  # the steps' usage only
    assert budget.spent.requests == 2
    assert (budget.spent.input_tokens, budget.spent.output_tokens) == (80, 5)
    if streaming:
        assert any(isinstance(part, RetryPart) for part in parts)

    refused = MockModel([failure, "never"])
    outcome, _ = await run(
        Agent(refused, retry=RetryPolicy(max_retries=2), budget=Budget(max_requests=1)), streaming=streaming
    )
    assert isinstance(outcome, BudgetExceededError)
    assert outcome.limit == "max_requests" and outcome.result.steps == []
    assert outcome.result.attempts_usage.input_tokens == 40
    assert len(refused.calls) == 1


# ------------------------------------------------------------ usage of broken streams and failures


def sse(*events: dict[str, Any]) -> bytes:
    return b"".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode() for event in events)


class Server:
    """Answers each request with the next scripted ``(status, content type, body)``."""

    def __init__(self, *answers: tuple[int, str, bytes]) -> None:
        self.answers = list(answers)
        self.count = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.count += 1
        assert self.count <= len(self.answers), f"unexpected request #{self.count}"
        status, content_type, body = self.answers[self.count - 1]
        return httpx2.Response(status, headers={"content-type": content_type}, content=body)


ANTHROPIC_BROKEN = sse(
    {
        "type": "message_start",
        "message": {"id": "msg_1", "model": "claude", "content": [], "usage": {"input_tokens": 25}},
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}},
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
)
ANTHROPIC_WHOLE = sse(
    {
        "type": "message_start",
        "message": {"id": "msg_2", "model": "claude", "content": [], "usage": {"input_tokens": 25}},
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}},
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 4}},
    {"type": "message_stop"},
)


@pytest.mark.anyio
async def test_an_anthropic_stream_broken_after_its_usage_counts_in_attempts_usage() -> None:
    server = Server((200, "text/event-stream", ANTHROPIC_BROKEN), (200, "text/event-stream", ANTHROPIC_WHOLE))
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    model = anthropic.Provider(api_key="test-key", async_http_client=client).language_model(
        "claude-sonnet-4-0"
    )
    stream = Agent(model, retry=RetryPolicy(max_retries=1)).stream_async("hi")
    parts = [part async for part in stream]
    result = await stream.result()
    assert result.text == "Hello"
    assert result.attempts_usage == Usage(input_tokens=25, total_tokens=25)
    assert result.total_usage.input_tokens == 25 and result.total_usage.output_tokens == 4
    retry = next(part for part in parts if isinstance(part, RetryPart))
    assert retry.error.reported_usage == Usage(input_tokens=25, total_tokens=25)


def gemini_chunk(text: str, *, finish: bool, prompt: int, candidates: int) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = "STOP"
    usage = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates,
    }
    payload = {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"}
    return f"data: {json.dumps(payload)}\n\n".encode()


@pytest.mark.anyio
async def test_a_gemini_stream_cut_short_counts_its_last_usage() -> None:
    server = Server(
        (200, "text/event-stream", gemini_chunk("Hel", finish=False, prompt=12, candidates=1)),
        (200, "text/event-stream", gemini_chunk("Hello", finish=True, prompt=12, candidates=2)),
    )
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    provider = google.Provider(api_key="test-key", async_http_client=client)
    stream = Agent(
        provider.language_model("gemini-2.5-flash"), retry=RetryPolicy(max_retries=1)
    ).stream_async("hi")
    result = await stream.result()
    assert result.text == "Hello"
    assert result.attempts_usage == Usage(input_tokens=12, output_tokens=1, total_tokens=13)
    # Both attempts at Gemini 2.5 Flash's prices ($0.30 / $2.50 per million): the step's is the cost.
    cost = result.steps[0].cost
    assert cost is not None and cost.total == pytest.approx((12 * 0.3 + 2 * 2.5) / M)


@pytest.mark.anyio
async def test_a_failed_openai_response_counts_the_usage_it_reports() -> None:
    failed = {
        "id": "resp_1",
        "object": "response",
        "status": "failed",
        "model": "gpt-4o-mini",
        "error": {"code": "server_error", "message": "The server had an error"},
        "output": [],
        "usage": {"input_tokens": 30, "output_tokens": 7, "total_tokens": 37},
    }
    answered = responses_answer("Hi", response_id="resp_2", model="gpt-4o-mini", usage=(30, 1))
    server = Server(
        (200, "application/json", json.dumps(failed).encode()),
        (200, "application/json", json.dumps(answered).encode()),
    )
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server))
    model = openai.Provider(api_key="test-key", api="responses", async_http_client=client).language_model(
        "gpt-4o-mini"
    )
    budget = Budget(max_output_tokens=100)
    result = await Agent(model, retry=RetryPolicy(max_retries=1), budget=budget).generate_async("hi")
    assert result.text == "Hi"
    assert result.attempts_usage == Usage(input_tokens=30, output_tokens=7, total_tokens=37)
    assert (budget.spent.input_tokens, budget.spent.output_tokens) == (60, 8)

"""First-hour surprises, through the public API in both modes: each was a raw error or a silent no-op.

This is the async source; ``tests/_sync/test_hardening.py`` is generated from it.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from reverie import Agent, AgentResult, AgentStreamPart, Message, RetryPolicy, StepResult, UserError, tool
from reverie.providers import openaicompat
from reverie.testing import MockModel

MODES = pytest.mark.parametrize("streaming", [False, True], ids=["generate", "stream"])


async def run(
    agent: Agent, prompt: str | None = "Go.", *, streaming: bool, **settings: Any
) -> tuple[AgentResult, list[AgentStreamPart]]:
    """Run ``agent`` once, whole or streamed; the parts are empty when not streaming."""
    if not streaming:
        return await agent.generate_async(prompt, **settings), []
    stream = agent.stream_async(prompt, **settings)
    parts = [part async for part in stream]
    return await stream.result(), parts


class Abort(BaseException):
    """Not an ``Exception``: a tool's way to stop everything."""


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize("parallel", [False, True], ids=["sequential", "parallel"])
async def test_a_base_exception_from_a_tool_propagates_unwrapped(streaming: bool, parallel: bool) -> None:
    @tool(parallel=parallel)
    async def stop() -> str:
        """Stop."""
        raise Abort("enough")

    @tool(parallel=parallel)
    def other() -> str:
        """Another."""
        return "fine"

    model = MockModel([MockModel.tool_calls(("other", {}), ("stop", {})), "never"])
    with pytest.raises(Abort, match="enough"):
        await run(Agent(model, tools=[stop, other]), streaming=streaming)


@pytest.mark.anyio
@MODES
@pytest.mark.parametrize("layer", ["provider", "agent", "call", "key"])
@pytest.mark.parametrize("value", ["blue\r\nx-injected: 1", "blue\n", "caf\u00e9", "bell\x07"])
async def test_a_header_value_that_cannot_be_sent_is_a_user_error_before_any_request(
    streaming: bool, layer: str, value: str
) -> None:
    requests: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return httpx2.Response(500)

    bad = {"x-team": value}
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        with pytest.raises(UserError, match=r"x-team|authorization") as caught:
            provider = openaicompat.Provider(
                base_url="http://test/v1",
                api_key=f"sk-secret{value}" if layer == "key" else "sk-secret",
                headers=bad if layer == "provider" else None,
                async_http_client=client,
            )
            settings: dict[str, Any] = {"headers": bad} if layer == "agent" else {}
            agent = Agent(provider.language_model("m"), retry=RetryPolicy(max_retries=3), **settings)
            await run(agent, streaming=streaming, **({"headers": bad} if layer == "call" else {}))
    assert requests == []
    assert "sk-secret" not in str(caught.value)


@pytest.mark.anyio
@MODES
async def test_headers_merge_call_over_agent_over_provider(streaming: bool) -> None:
    seen: list[httpx2.Headers] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers)
        if streaming:
            body = (
                'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n'
                "data: [DONE]\n\n"
            )
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())
        return httpx2.Response(200, json=_completion("ok"))

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(handler)) as client:
        provider = openaicompat.Provider(
            base_url="http://test/v1",
            headers={"X-Provider": "p", "X-Shared": "provider", "X-Both": "provider"},
            async_http_client=client,
        )
        agent = Agent(provider.language_model("m"), headers={"X-Agent": "a", "x-shared": "agent"})
        await run(agent, streaming=streaming, headers={"X-Call": "c", "X-SHARED": "call", "x-both": "call"})
    headers = seen[0]
    assert (headers["x-provider"], headers["x-agent"], headers["x-call"]) == ("p", "a", "c")
    assert (headers["x-shared"], headers["x-both"]) == ("call", "call")


def _completion(content: str) -> dict[str, object]:
    message = {"role": "assistant", "content": content}
    return {"id": "c", "model": "m", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}


def test_a_string_without_a_provider_is_a_user_error_that_says_how_to_write_one() -> None:
    with pytest.raises(UserError, match=r"PROVIDER:MODEL_ID, e.g. 'openai:gpt-4o'"):
        Agent("gpt-4o")


@pytest.mark.anyio
@MODES
async def test_result_messages_are_the_whole_conversation_to_continue_from(streaming: bool) -> None:
    @tool
    def weather(city: str) -> str:
        """Weather."""
        return f"hot in {city}"

    model = MockModel(
        [MockModel.tool_calls(("weather", {"city": "Florence"})), "Hot.", "You asked about Florence."]
    )
    agent = Agent(model, tools=[weather], system_prompt="Be brief.")
    history = [Message.user("Hello."), Message.assistant("Hi.")]
    first, _ = await run(agent, "Weather in Florence?", streaming=streaming, messages=history)
    assert first.messages == [*history, Message.user("Weather in Florence?"), *first.response_messages]
    second, _ = await run(agent, "What did I ask?", streaming=streaming, messages=first.messages)
    assert model.calls[-1].prompt == [
        Message.system("Be brief."),
        *first.messages,
        Message.user("What did I ask?"),
    ]
    assert second.messages == [*first.messages, Message.user("What did I ask?"), *second.response_messages]


@pytest.mark.anyio
@MODES
async def test_total_cost_is_none_when_no_step_reported_a_cost(streaming: bool) -> None:
    result, _ = await run(Agent(MockModel(["Free?"])), streaming=streaming)
    assert result.total_cost is None
    assert result.steps[0].cost is None  # no price known for the mock model: unknown, not free


@pytest.mark.anyio
@MODES
async def test_async_callbacks_are_awaited_in_async_runs(streaming: bool) -> None:
    seen: list[str] = []

    async def on_text_delta(delta: str) -> None:
        seen.append(f"delta:{delta}")

    async def on_step_finish(step: StepResult) -> None:
        seen.append(f"step:{step.text}")

    async def on_finish(result: AgentResult) -> None:
        seen.append(f"finish:{result.text}")

    agent = Agent(
        MockModel(["Done."]), on_text_delta=on_text_delta, on_step_finish=on_step_finish, on_finish=on_finish
    )
    await run(agent, streaming=streaming)
    deltas = ["delta:Done."] if streaming else []  # text deltas are reported while streaming
    assert seen == [*deltas, "step:Done.", "finish:Done."]


@pytest.mark.anyio
@MODES
async def test_a_misspelt_provider_in_provider_options_is_a_user_error(streaming: bool) -> None:
    model = MockModel(["never"])
    with pytest.raises(UserError, match=r"'opneai'.*did you mean 'openai'"):
        await run(Agent(model), streaming=streaming, provider_options={"opneai": {"user": "x"}})
    assert model.calls == []


@pytest.mark.anyio
@MODES
async def test_known_and_custom_provider_names_are_accepted(streaming: bool) -> None:
    class CustomProvider(openaicompat.Provider):
        name = "acme-llm"

    del CustomProvider
    options = {"anthropic": {}, "acme-llm": {"x": 1}, "custom": {"y": 2}}
    model = MockModel(["fine"], provider="custom")
    result, _ = await run(Agent(model), streaming=streaming, provider_options=options)
    assert result.text == "fine"
    assert model.calls[0].provider_options == options


@pytest.mark.anyio
@MODES
async def test_a_tool_choice_naming_no_tool_of_the_step_is_a_user_error(streaming: bool) -> None:
    @tool
    def weather(city: str) -> str:
        """Weather."""
        return city

    model = MockModel(["never"])
    with pytest.raises(UserError, match=r"tool_choice 'wheather' names no tool.*'weather'"):
        await run(Agent(model, tools=[weather]), streaming=streaming, tool_choice="wheather")
    assert model.calls == []


@pytest.mark.anyio
async def test_a_misspelt_provider_in_object_generation_is_a_user_error() -> None:
    model = MockModel(['{"a": 1}'])
    with pytest.raises(UserError, match="'opneai'"):
        await model.generate_object_async("hi", schema={"type": "object"}, provider_options={"opneai": {}})
    assert model.calls == []


def test_a_provider_or_another_object_as_the_model_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"not the provider Provider.*language_model"):
        Agent(openaicompat.Provider(base_url="http://test/v1"))  # pyright: ignore[reportArgumentType]
    with pytest.raises(UserError, match="needs a language model"):
        Agent(None)  # pyright: ignore[reportArgumentType]

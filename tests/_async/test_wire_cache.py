"""The encode caches through real requests: what changes between steps is sent changed,
and what does not is encoded once per run.

A chat-completions server (OpenRouter's codec: it reads messages' cache markers) answers
with calls of the first tool it is offered until the run has made ``TOOL_STEPS`` requests.
Each request's body is captured; spies on the codec's per-message and per-tool encoders
count how often each item is encoded.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from reverie import Agent, Message, StepContext, StepOverrides, TextPart, tool
from reverie.providers import openrouter
from reverie.providers._openai_chat import encode as chat_encode

MODES = ["generate", "stream"]
TOOL_STEPS = 4
"""Requests answered with a tool call; the next one gets the final text (a five-step run)."""
MARKER = {"cache_control": {"type": "ephemeral"}}


@tool
def ping() -> str:
    """Answer pong."""
    return "pong"


@tool
def pong() -> str:
    """Answer ping."""
    return "ping"


def events(chunks: list[dict[str, Any]]) -> bytes:
    return (
        b"".join(b"data: " + json.dumps(chunk).encode() + b"\n\n" for chunk in chunks) + b"data: [DONE]\n\n"
    )


class Server:
    """A chat-completions API that calls the first tool offered, ``TOOL_STEPS`` times."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        number = len(self.bodies)
        tools = body.get("tools") or []
        usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
        if number <= TOOL_STEPS and tools:
            call = {
                "id": f"call_{number}",
                "type": "function",
                "function": {"name": tools[0]["function"]["name"], "arguments": "{}"},
            }
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": [call]}
            delta: dict[str, Any] = {"role": "assistant", "tool_calls": [{"index": 0, **call}]}
            finish = "tool_calls"
        else:
            message = delta = {"role": "assistant", "content": "done"}
            finish = "stop"
        if not body.get("stream"):
            choice = {"index": 0, "message": message, "finish_reason": finish}
            return httpx2.Response(200, json={"id": "1", "model": "m", "choices": [choice], "usage": usage})
        chunks = [
            {"id": "1", "choices": [{"index": 0, "delta": delta, "finish_reason": None}]},
            {"id": "1", "choices": [{"index": 0, "delta": {}, "finish_reason": finish}], "usage": usage},
        ]
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=events(chunks))

    def tool_names(self) -> list[list[str]]:
        return [[entry["function"]["name"] for entry in body.get("tools", [])] for body in self.bodies]


async def run(agent: Agent, mode: str, prompt: str = "hi") -> str:
    if mode == "generate":
        return (await agent.generate_async(prompt)).text
    return (await agent.stream_async(prompt).result()).text


def serve() -> tuple[Server, httpx2.AsyncClient]:
    server = Server()
    return server, httpx2.AsyncClient(transport=httpx2.MockTransport(server))


def model(client: httpx2.AsyncClient) -> Any:
    return openrouter.Provider(api_key="k", async_http_client=client).language_model("m")


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_tools_changed_by_prepare_step_are_sent_changed(mode: str) -> None:
    step_tools: dict[int, list[Any]] = {1: [ping, pong], 2: [pong], 3: [pong, ping]}

    def prepare_step(context: StepContext) -> StepOverrides | None:
        tools = step_tools.get(context.step_number)
        return None if tools is None else StepOverrides(tools=list(tools))

    server, client = serve()
    async with client:
        agent = Agent(model(client), tools=[ping], prepare_step=prepare_step)
        assert await run(agent, mode) == "done"
    # Added, removed, reordered, then the agent's own again.
    assert server.tool_names() == [["ping"], ["ping", "pong"], ["pong"], ["pong", "ping"], ["ping"]]
    # The result of each step's call: the tool called was the first one offered.
    results = [body["messages"][-1]["content"] for body in server.bodies[1:]]
    assert results == ["pong", "pong", "ping", "ping"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
async def test_messages_edited_or_replaced_by_prepare_step_are_sent_changed(mode: str) -> None:
    def prepare_step(context: StepContext) -> StepOverrides | None:
        first = context.messages[0]
        if context.step_number == 1:  # edited in place, not returned: the run's history changes
            first.content[0] = TextPart(text="edited")
            first.provider_options["anthropic"] = dict(MARKER)
        elif context.step_number == 2:  # a dict inside the message edited in place
            first.provider_options["anthropic"]["cache_control"] = {"type": "ephemeral", "ttl": "1h"}
        elif context.step_number == 3:  # replaced by a new message for this step only
            return StepOverrides(messages=[Message.user("replaced"), *context.messages[1:]])
        elif context.step_number == 4:  # an earlier step's call edited in place
            call = context.messages[1].content[0]
            assert call.type == "tool_call"
            call.input = '{"edited": true}'
        return None

    server, client = serve()
    async with client:
        agent = Agent(model(client), tools=[ping], prepare_step=prepare_step)
        assert await run(agent, mode) == "done"
    firsts = [body["messages"][0] for body in server.bodies]
    assert firsts == [
        {"role": "user", "content": "hi"},
        {"role": "user", "content": "edited", **MARKER},
        {"role": "user", "content": "edited", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        {"role": "user", "content": "replaced"},
        {"role": "user", "content": "edited", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ]
    arguments = [body["messages"][1]["tool_calls"][0]["function"]["arguments"] for body in server.bodies[1:]]
    assert arguments == ["{}", "{}", "{}", '{"edited": true}']


class Spy:
    """Counts the calls of one of the codec's encoders, by the identity of what it encodes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.counts: Counter[int] = Counter()
        original: Callable[..., Any] = getattr(chat_encode, name)

        def counted(item: Any, *args: Any) -> Any:
            self.counts[id(item)] += 1
            return original(item, *args)

        monkeypatch.setattr(chat_encode, name, counted)

    def total(self) -> int:
        return sum(self.counts.values())


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Spy, Spy]]:
    yield Spy(monkeypatch, "_encode_message"), Spy(monkeypatch, "_encode_tool")


@pytest.mark.anyio
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hook", [False, True], ids=["no-hook", "hook"])
async def test_each_unchanged_message_and_tool_is_encoded_once_per_run(
    mode: str, hook: bool, spies: tuple[Spy, Spy]
) -> None:
    messages, tools = spies
    seen: list[int] = []

    def prepare_step(context: StepContext) -> StepOverrides | None:
        seen.append(context.step_number)  # sees the messages, edits none of them
        return None

    server, client = serve()
    async with client:
        agent = Agent(
            model(client),
            system_prompt="Be brief.",
            tools=[ping, pong],
            prepare_step=prepare_step if hook else None,
        )
        assert await run(agent, mode) == "done"
        assert len(server.bodies) == TOOL_STEPS + 1
        assert seen == (list(range(TOOL_STEPS + 1)) if hook else [])
        # system + user, then an assistant call and its tool result per tool step
        assert len(server.bodies[-1]["messages"]) == 2 + 2 * TOOL_STEPS
        assert messages.total() == 2 + 2 * TOOL_STEPS  # each message once, not once per step
        assert set(messages.counts.values()) == {1}
        assert tools.total() == 2
        assert set(tools.counts.values()) == {1}

        # Another run of the agent: its messages are new, its tools' wire forms are not.
        assert await run(agent, mode, "again") == "done"
        assert tools.total() == 2
    assert len(server.bodies) == TOOL_STEPS + 2  # the second run's first answer is text

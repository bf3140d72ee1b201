"""Chat-completions requests: Anthropic cache markers (OpenRouter, Vercel) and user files."""

from __future__ import annotations

import base64
from types import ModuleType
from typing import Any

import pytest

from reverie import Call, FilePart, Message, ReasoningPart, TextPart, ToolCallPart, ToolResultPart, UserError
from reverie._model import ToolDefinition
from reverie.providers import openai, openaicompat, openrouter, vercel

EPHEMERAL = {"type": "ephemeral"}
MARK = {"anthropic": {"cache_control": EPHEMERAL}}
PNG = b"\x89PNG\r\n\x1a\nfake"


def _messages(module: ModuleType, prompt: list[Message], **fields: Any) -> list[dict[str, Any]]:
    codec = module.Codec("anthropic/claude-haiku-4.5")
    return codec.build_request(Call(prompt=prompt, **fields), stream=False).body["messages"]


def _conversation(mark_all: bool) -> list[Message]:
    options = MARK if mark_all else {}
    return [
        Message(role="system", content=[TextPart(text="Be brief.")], provider_options=options),
        Message(role="user", content=[TextPart(text="Add and multiply 2 and 3")], provider_options=options),
        Message(
            role="assistant",
            content=[
                TextPart(text="Both at once."),
                ToolCallPart(tool_call_id="a", tool_name="add", input="{}"),
                ToolCallPart(tool_call_id="m", tool_name="multiply", input="{}"),
            ],
            provider_options=options,
        ),
        Message(
            role="tool",
            content=[
                ToolResultPart(tool_call_id="a", tool_name="add", output="5"),
                ToolResultPart(tool_call_id="m", tool_name="multiply", output="6"),
            ],
            provider_options=options,
        ),
    ]


@pytest.mark.parametrize("module", [openrouter, vercel])
def test_markers_land_where_the_recordings_put_them(module: ModuleType) -> None:
    system, user, assistant, *tools = _messages(module, _conversation(mark_all=True))
    assert system == {"role": "system", "content": "Be brief.", "cache_control": EPHEMERAL}
    assert user == {"role": "user", "content": "Add and multiply 2 and 3", "cache_control": EPHEMERAL}
    assert "cache_control" not in assistant
    assert [call.get("cache_control") for call in assistant["tool_calls"]] == [None, EPHEMERAL]
    assert [message["role"] for message in tools] == ["tool", "tool"]
    assert all("cache_control" not in message for message in tools)


@pytest.mark.parametrize("module", [openrouter, vercel])
def test_unmarked_messages_carry_no_marker(module: ModuleType) -> None:
    assert "cache_control" not in str(_messages(module, _conversation(mark_all=False)))


@pytest.mark.parametrize("module", [openai, openaicompat])
def test_other_chat_providers_ignore_markers(module: ModuleType) -> None:
    assert "cache_control" not in str(_messages(module, _conversation(mark_all=True)))


def test_marked_parts_and_tools() -> None:
    prompt = [
        Message.user("Look:", FilePart(data=PNG, media_type="image/png", provider_options=MARK)),
        Message(role="assistant", content=[TextPart(text="A cat.")], provider_options=MARK),
    ]
    tool = ToolDefinition(name="add", description="Add", parameters={"type": "object"}, provider_options=MARK)
    body = openrouter.Codec("anthropic/claude-haiku-4.5").build_request(
        Call(prompt=prompt, tools=[tool]), stream=False
    )
    user, assistant = body.body["messages"]
    assert [block.get("cache_control") for block in user["content"]] == [None, EPHEMERAL]
    assert assistant == {"role": "assistant", "content": "A cat.", "cache_control": EPHEMERAL}
    assert body.body["tools"][0]["cache_control"] == EPHEMERAL


@pytest.mark.parametrize("module", [openai, openaicompat, openrouter, vercel])
def test_user_image_is_a_data_url(module: ModuleType) -> None:
    prompt = [Message.user("Describe.", FilePart(data=PNG, media_type="image/png", filename="wish.png"))]
    (user,) = _messages(module, prompt)
    data = base64.b64encode(PNG).decode("ascii")
    assert user == {
        "role": "user",
        "content": [
            {"type": "text", "text": "Describe."},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}},
        ],
    }


@pytest.mark.parametrize("module", [openai, openaicompat, openrouter, vercel])
def test_an_unsupported_user_part_is_a_user_error_naming_it(module: ModuleType) -> None:
    prompt = [Message(role="user", content=[TextPart(text="hi"), ReasoningPart(text="hmm")])]
    with pytest.raises(UserError, match="reasoning"):
        _messages(module, prompt)


def test_assistant_content_is_its_last_text_part() -> None:
    call = ToolCallPart(tool_call_id="a", tool_name="add", input="{}")
    content = [TextPart(text="Both."), TextPart(text=" "), call]
    (assistant,) = _messages(openaicompat, [Message(role="assistant", content=content)])
    assert assistant["content"] == " "

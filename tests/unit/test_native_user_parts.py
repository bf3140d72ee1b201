"""What Anthropic and Gemini requests do with parts they cannot carry: a ``UserError`` naming them.

A user (or tool, or system) turn that holds a part the API has no place for is the caller's
mistake, and dropping it silently would send a different question than the one asked. An
assistant turn is history the model wrote: there, parts only another provider understands
(reasoning, sources) are still left out, as before.
"""

from __future__ import annotations

import pytest

from reverie import (
    Call,
    FilePart,
    Message,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UserError,
)
from reverie.providers import anthropic, google

PNG = b"\x89PNG\r\n\x1a\n"


def anthropic_body(*messages: Message) -> dict[str, object]:
    return (
        anthropic.Codec("claude-sonnet-4-20250514")
        .build_request(Call(prompt=list(messages)), stream=False)
        .body
    )


def google_body(*messages: Message) -> dict[str, object]:
    return google.Codec("gemini-2.5-flash").build_request(Call(prompt=list(messages)), stream=False).body


UNCARRIABLE_USER_PARTS = [
    pytest.param(ReasoningPart(text="I think"), "reasoning", id="reasoning"),
    pytest.param(ToolCallPart(tool_call_id="c1", tool_name="add", input="{}"), "tool_call", id="tool_call"),
    pytest.param(SourcePart(id="s1", url="https://example.com"), "source", id="source"),
]


@pytest.mark.parametrize(("part", "name"), UNCARRIABLE_USER_PARTS)
def test_anthropic_user_turn_rejects_a_part_it_cannot_carry(part: object, name: str) -> None:
    message = Message(role="user", content=[TextPart(text="look"), part])  # type: ignore[list-item]
    with pytest.raises(UserError, match=f"a {name} part"):
        anthropic_body(message)


@pytest.mark.parametrize(("part", "name"), UNCARRIABLE_USER_PARTS)
def test_gemini_user_turn_rejects_a_part_it_cannot_carry(part: object, name: str) -> None:
    message = Message(role="user", content=[TextPart(text="look"), part])  # type: ignore[list-item]
    with pytest.raises(UserError, match=f"a {name} part"):
        google_body(message)


def test_system_message_rejects_a_file() -> None:
    system = Message(
        role="system", content=[TextPart(text="Be brief."), FilePart(data=PNG, media_type="image/png")]
    )
    with pytest.raises(UserError, match="a system message cannot carry a file part on google"):
        google_body(system, Message.user("hi"))
    with pytest.raises(UserError, match="a system message cannot carry a file part on anthropic"):
        anthropic_body(system, Message.user("hi"))


def test_anthropic_file_error_names_the_part_and_its_media_type() -> None:
    wav = FilePart(data=b"RIFF", media_type="audio/wav", filename="hello.wav")
    with pytest.raises(UserError, match=r"'hello\.wav'.*'audio/wav'"):
        anthropic_body(Message.user("listen", wav))
    unnamed = FilePart(data=b"PK", media_type="application/zip")
    with pytest.raises(UserError, match=r"a file part of type 'application/zip'"):
        anthropic_body(Message.user("open", unnamed))


def test_images_and_tool_results_still_go_through() -> None:
    image = FilePart(data=PNG, media_type="image/png", filename="wish.png")
    result = ToolResultPart(tool_call_id="c1", tool_name="add", output="5")
    call = ToolCallPart(tool_call_id="c1", tool_name="add", input='{"a":2,"b":3}')
    prompt = [
        Message.user("What is in this image?", image),
        Message(role="assistant", content=[ReasoningPart(text="other provider's thought"), call]),
        Message(role="tool", content=[result]),
    ]
    google_contents = google_body(*prompt)["contents"]
    assert google_contents == [
        {
            "role": "user",
            "parts": [
                {"text": "What is in this image?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            ],
        },
        {"role": "model", "parts": [{"functionCall": {"id": "c1", "name": "add", "args": {"a": 2, "b": 3}}}]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"id": "c1", "name": "add", "response": {"result": "5"}}}],
        },
    ]
    anthropic_messages = anthropic_body(*prompt)["messages"]
    assert [[block["type"] for block in turn["content"]] for turn in anthropic_messages] == [  # type: ignore[union-attr]
        ["text", "image"],
        ["tool_use"],
        ["tool_result"],
    ]


def test_assistant_history_still_leaves_out_sources() -> None:
    # A source the model cited is output, not something either API takes back.
    assistant = Message(
        role="assistant", content=[TextPart(text="See this."), SourcePart(id="s1", url="https://x.y")]
    )
    assert google_body(Message.user("hi"), assistant)["contents"][1] == {  # type: ignore[index]
        "role": "model",
        "parts": [{"text": "See this."}],
    }
    assert anthropic_body(Message.user("hi"), assistant)["messages"][1] == {  # type: ignore[index]
        "role": "assistant",
        "content": [{"type": "text", "text": "See this."}],
    }


def test_gemini_leaves_out_a_provider_executed_call_and_its_result() -> None:
    # Another provider's server-side tool (Anthropic web search) ran there; Gemini knows neither
    # the call nor the result, and a functionResponse without its call would be rejected.
    assistant = Message(
        role="assistant",
        content=[
            ToolCallPart(tool_call_id="s1", tool_name="web_search", input="{}", provider_executed=True),
            ToolResultPart(tool_call_id="s1", tool_name="web_search", output="[]", provider_executed=True),
            TextPart(text="Found it."),
        ],
    )
    assert google_body(Message.user("hi"), assistant)["contents"][1] == {  # type: ignore[index]
        "role": "model",
        "parts": [{"text": "Found it."}],
    }

"""Provider-defined tools and media tool results at the codec level, without I/O.

``ProviderTool`` in ``Call.tools``: encoded by Anthropic (web search, computer use on the
beta endpoint), refused by name elsewhere; Anthropic's server-side blocks (known and unknown)
decoded, whole and streamed, into provider-executed calls, results and sources, and sent back
as they came; a tool result's ``media`` sent by Anthropic, replaced by a placeholder and a
warning by the others.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reverie import (
    Agent,
    Call,
    FilePart,
    Message,
    ModelStreamPart,
    ProviderTool,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    UserError,
)
from reverie._http.sse import SSEDecoder
from reverie.providers import anthropic, google, openai
from reverie.providers.anthropic.stream import AnthropicStreamDecoder
from reverie.testing import MockModel

PNG = b"\x89PNG\r\n\x1a\nfake"
SCREENSHOT = FilePart(data=PNG, media_type="image/png")


def claude() -> Any:
    return anthropic.Provider(api_key="k").language_model("claude-sonnet-4-20250514")


def body_of(model: Any, call: Call, *, stream: bool = False) -> dict[str, Any]:
    return json.loads(model.prepare(call, stream=stream).content)


def test_web_search_is_encoded_with_its_settings() -> None:
    tool = anthropic.web_search(
        max_uses=3, allowed_domains=["example.com"], user_location={"city": "Rome", "country": "IT"}
    )
    assert tool == ProviderTool(
        id="anthropic.web_search_20250305",
        name="web_search",
        args={
            "max_uses": 3,
            "allowed_domains": ["example.com"],
            "user_location": {"type": "approximate", "city": "Rome", "country": "IT"},
        },
    )
    request = claude().prepare(Call(prompt=[Message.user("hi")], tools=[tool]), stream=False)
    body = json.loads(request.content)
    assert body["tools"] == [
        {
            "type": "web_search_20250305",
            "name": "web_search",
            "max_uses": 3,
            "allowed_domains": ["example.com"],
            "user_location": {"type": "approximate", "city": "Rome", "country": "IT"},
        }
    ]
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": False}
    assert request.url == "https://api.anthropic.com/v1/messages"
    assert "anthropic-beta" not in request.headers


def test_web_search_refuses_both_domain_lists() -> None:
    with pytest.raises(UserError, match="not both"):
        anthropic.web_search(allowed_domains=["a.com"], blocked_domains=["b.com"])


@pytest.mark.parametrize(
    ("version", "beta"), [("20250124", "computer-use-2025-01-24"), ("20251124", "computer-use-2025-11-24")]
)
def test_computer_use_goes_to_the_beta_endpoint(version: Any, beta: str) -> None:
    tool = anthropic.computer_use(
        display_width_px=1024, display_height_px=768, version=version, display_number=1
    )
    assert tool.name == "computer"
    request = claude().prepare(Call(prompt=[Message.user("hi")], tools=[tool]), stream=True)
    assert request.url == "https://api.anthropic.com/v1/messages?beta=true"
    assert request.headers["anthropic-beta"] == beta
    body = json.loads(request.content)
    assert body["tools"] == [
        {
            "type": f"computer_{version}",
            "name": "computer",
            "display_width_px": 1024,
            "display_height_px": 768,
            "display_number": 1,
        }
    ]
    assert "tool_choice" not in body  # as recorded
    asked = Call(prompt=[Message.user("hi")], tools=[tool], tool_choice="required")
    assert body_of(claude(), asked)["tool_choice"] == {"type": "any", "disable_parallel_tool_use": False}


def test_another_providers_tool_is_refused_by_name() -> None:
    foreign = ProviderTool(id="openai.web_search", name="web_search")
    with pytest.raises(UserError, match=r"'web_search' \(openai.web_search\) cannot be sent to anthropic"):
        claude().prepare(Call(prompt=[Message.user("hi")], tools=[foreign]), stream=False)
    search = anthropic.web_search()
    chat = openai.Provider(api_key="k").language_model("gpt-4o")
    with pytest.raises(
        UserError, match=r"'web_search' \(anthropic.web_search_20250305\) cannot be sent to openai"
    ):
        chat.prepare(Call(prompt=[Message.user("hi")], tools=[search]), stream=False)
    gemini = google.Provider(api_key="k").language_model("gemini-2.5-flash")
    with pytest.raises(UserError, match="cannot be sent to google"):
        gemini.prepare(Call(prompt=[Message.user("hi")], tools=[search]), stream=False)


SEARCH_RESULT = {
    "type": "web_search_tool_result",
    "tool_use_id": "srvtoolu_1",
    "content": [
        {
            "type": "web_search_result",
            "title": "A",
            "url": "https://a.example",
            "encrypted_content": "E1",
            "page_age": None,
        },
        {"type": "web_search_result", "title": "B", "url": "https://b.example", "encrypted_content": "E2"},
    ],
    "caller": {"type": "direct"},
}
SEARCH_CALL = {
    "type": "server_tool_use",
    "id": "srvtoolu_1",
    "name": "web_search",
    "input": {"query": "tokyo"},
    "caller": {"type": "direct"},
}
CITED_TEXT = {
    "type": "text",
    "text": "Tokyo is big.",
    "citations": [
        {"type": "web_search_result_location", "url": "https://a.example", "title": "A", "cited_text": "x"},
        {"type": "web_search_result_location", "url": "https://c.example", "title": "C", "cited_text": "y"},
    ],
}
UNKNOWN_CALL = {
    "type": "server_tool_use",
    "id": "srvtoolu_2",
    "name": "code_execution",
    "input": {"code": "1+1"},
}
UNKNOWN_RESULT = {
    "type": "code_execution_tool_result",
    "tool_use_id": "srvtoolu_2",
    "content": {"type": "code_execution_result", "stdout": "2", "return_code": 0},
}


def message(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": list(blocks),
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def test_server_blocks_become_provider_executed_parts_and_sources() -> None:
    response = anthropic.Codec("claude").parse_response(
        message(SEARCH_CALL, SEARCH_RESULT, CITED_TEXT, UNKNOWN_CALL, UNKNOWN_RESULT)
    )
    call, result, first, second, text, cited, code_call, code_result = response.content
    assert call == ToolCallPart(
        tool_call_id="srvtoolu_1",
        tool_name="web_search",
        input='{"query":"tokyo"}',
        provider_executed=True,
        provider_metadata={"anthropic": {"type": "server_tool_use"}},
    )
    assert isinstance(result, ToolResultPart) and result.provider_executed
    assert result.tool_name == "web_search" and not result.is_error
    assert json.loads(result.output) == [
        {"title": "A", "url": "https://a.example"},
        {"title": "B", "url": "https://b.example"},
    ]
    assert [first, second] == [
        SourcePart(id="srvtoolu_1_0", url="https://a.example", title="A"),
        SourcePart(id="srvtoolu_1_1", url="https://b.example", title="B"),
    ]
    assert text == TextPart(text="Tokyo is big.")
    assert cited == SourcePart(
        id="citation_0", url="https://c.example", title="C"
    )  # a.example was found already
    assert isinstance(code_call, ToolCallPart) and code_call.provider_executed
    assert isinstance(code_result, ToolResultPart) and code_result.provider_executed
    assert code_result.tool_name == "code_execution"
    assert json.loads(code_result.output)["stdout"] == "2"


def test_server_blocks_go_back_as_they_came() -> None:
    response = anthropic.Codec("claude").parse_response(
        message(SEARCH_CALL, SEARCH_RESULT, CITED_TEXT, UNKNOWN_CALL, UNKNOWN_RESULT)
    )
    prompt = [Message.user("q"), Message(role="assistant", content=response.content), Message.user("more")]
    body = body_of(claude(), Call(prompt=prompt))
    assert body["messages"][1]["content"] == [
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "tokyo"}},
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srvtoolu_1",
            "content": [
                {
                    "type": "web_search_result",
                    "title": "A",
                    "url": "https://a.example",
                    "encrypted_content": "E1",
                },
                {
                    "type": "web_search_result",
                    "title": "B",
                    "url": "https://b.example",
                    "encrypted_content": "E2",
                },
            ],
        },
        {"type": "text", "text": "Tokyo is big."},
        {"type": "server_tool_use", "id": "srvtoolu_2", "name": "code_execution", "input": {"code": "1+1"}},
        UNKNOWN_RESULT,
    ]


def test_another_providers_executed_tool_is_not_sent_to_anthropic() -> None:
    foreign = [
        ToolCallPart(tool_call_id="ws_1", tool_name="web_search", input="{}", provider_executed=True),
        ToolResultPart(tool_call_id="ws_1", tool_name="web_search", output="[]", provider_executed=True),
        TextPart(text="answer"),
    ]
    prompt = [Message.user("q"), Message(role="assistant", content=foreign), Message.user("more")]
    request = claude().prepare(Call(prompt=prompt), stream=False)
    assert json.loads(request.content)["messages"][1]["content"] == [{"type": "text", "text": "answer"}]
    assert [warning.setting for warning in request.warnings] == ["tool_call", "tool_result"]


def sse(*events: dict[str, Any]) -> list[ModelStreamPart]:
    raw = "".join(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n" for event in events)
    decoder = AnthropicStreamDecoder()
    parts: list[ModelStreamPart] = []
    for event in SSEDecoder().feed(raw.encode()):
        parts.extend(decoder.feed(event))
    return [*parts, *decoder.end()]


def test_streamed_server_blocks_become_provider_executed_parts_and_sources() -> None:
    started = {**SEARCH_CALL, "input": {}}
    parts = sse(
        {
            "type": "message_start",
            "message": {"id": "msg_1", "model": "claude", "usage": {"input_tokens": 1}},
        },
        {"type": "content_block_start", "index": 0, "content_block": started},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": ""},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"query":'},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '"tokyo"}'},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": SEARCH_RESULT},
        {"type": "content_block_stop", "index": 1},
        {"type": "content_block_start", "index": 2, "content_block": {"type": "text", "text": ""}},
        {
            "type": "content_block_delta",
            "index": 2,
            "delta": {"type": "citations_delta", "citation": CITED_TEXT["citations"][1]},
        },
        {"type": "content_block_delta", "index": 2, "delta": {"type": "text_delta", "text": "Big."}},
        {"type": "content_block_stop", "index": 2},
        {"type": "content_block_start", "index": 3, "content_block": UNKNOWN_RESULT},
        {"type": "content_block_stop", "index": 3},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 5}},
        {"type": "message_stop"},
    )
    calls = [part for part in parts if isinstance(part, ToolCallPart)]
    assert calls == [
        ToolCallPart(
            tool_call_id="srvtoolu_1",
            tool_name="web_search",
            input='{"query":"tokyo"}',
            provider_executed=True,
            provider_metadata={"anthropic": {"type": "server_tool_use"}},
        )
    ]
    results = [part for part in parts if isinstance(part, ToolResultPart)]
    assert [(result.tool_name, result.provider_executed) for result in results] == [
        ("web_search", True),
        ("code_execution", True),
    ]
    assert results[0].provider_metadata["anthropic"]["content"][0] == {
        "type": "web_search_result",
        "title": "A",
        "url": "https://a.example",
        "encrypted_content": "E1",
    }
    sources = [part.url for part in parts if isinstance(part, SourcePart)]
    assert sources == ["https://a.example", "https://b.example", "https://c.example"]


def test_a_media_result_goes_to_anthropic_after_its_text() -> None:
    result = ToolResultPart(tool_call_id="t1", tool_name="shot", output="here", media=SCREENSHOT)
    prompt = [
        Message.user("q"),
        Message(role="assistant", content=[ToolCallPart(tool_call_id="t1", tool_name="shot", input="{}")]),
        Message(role="tool", content=[result]),
    ]
    block = body_of(claude(), Call(prompt=prompt))["messages"][2]["content"][0]
    assert block["content"] == [
        {"type": "text", "text": "here"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgpmYWtl"},
        },
    ]


@pytest.mark.parametrize("kind", ["openai", "google"])
def test_a_media_result_is_a_placeholder_and_a_warning_elsewhere(kind: str) -> None:
    model = (
        openai.Provider(api_key="k").language_model("gpt-4o")
        if kind == "openai"
        else google.Provider(api_key="k").language_model("gemini-2.5-flash")
    )
    result = ToolResultPart(tool_call_id="t1", tool_name="shot", output="", media=SCREENSHOT)
    prompt = [
        Message.user("q"),
        Message(role="assistant", content=[ToolCallPart(tool_call_id="t1", tool_name="shot", input="{}")]),
        Message(role="tool", content=[result]),
    ]
    request = model.prepare(Call(prompt=prompt), stream=False)
    assert [warning.setting for warning in request.warnings] == ["tool_result.media"]
    assert "image/png" in request.warnings[0].message
    assert "[the tool returned a file (image/png) that cannot be sent here]" in request.content.decode()


def test_an_agent_takes_provider_tools_beside_functions() -> None:
    model = MockModel([MockModel.text("done")])
    search = anthropic.web_search()
    agent = Agent(model, tools=[search])
    agent.generate("hi")
    assert model.calls[0].tools == [search]


def test_a_client_run_provider_tool_without_run_is_an_error_result() -> None:
    model = MockModel([MockModel.tool_calls(("computer", {"action": "screenshot"})), MockModel.text("ok")])
    tool = anthropic.computer_use(display_width_px=10, display_height_px=10, version="20250124")
    result = Agent(model, tools=[tool]).generate("hi")
    outcome = result.steps[0].tool_results[0]
    assert outcome.is_error and "has no run=" in outcome.output

"""The OpenAI Responses API codec: request bodies, whole responses and every stream event it reads.

The recordings themselves replay in the v0.41.2 conformance tests; these tests pin each rule
with small hand-made payloads, so a failure names the rule it breaks.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from reverie import (
    Call,
    FilePart,
    FinishPart,
    Message,
    ProviderError,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningPart,
    ReasoningStartPart,
    SourcePart,
    TextDeltaPart,
    TextEndPart,
    TextPart,
    TextStartPart,
    ToolCallPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
    ToolResultPart,
    Usage,
    UserError,
)
from reverie._http.sse import SSEEvent
from reverie._model import ResponseFormat, ToolDefinition
from reverie._parts import ModelStreamPart
from reverie.providers import openai

WEATHER = ToolDefinition(
    name="weather",
    description="Get weather information for a location",
    parameters={"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
)


def codec(model: str = "gpt-4o-mini") -> openai.ResponsesCodec:
    provider = openai.Provider(api="responses", api_key="test-key")
    built = provider.codec(model)
    assert isinstance(built, openai.ResponsesCodec)
    return built


def body(call: Call, model: str = "gpt-4o-mini", *, stream: bool = False) -> dict[str, Any]:
    return codec(model).build_request(call, stream=stream).body


# --- requests -------------------------------------------------------------------------


def test_the_provider_speaks_chat_completions_unless_told() -> None:
    assert isinstance(openai.Provider(api_key="k").codec("gpt-4o"), openai.Codec)
    request = codec().build_request(Call(prompt=[Message.user("hi")]), stream=False)
    assert request.path == "/responses"
    with pytest.raises(UserError):
        openai.Provider(api="completions", api_key="k")  # pyright: ignore[reportArgumentType]


def test_a_minimal_body_stores_nothing() -> None:
    assert body(Call(prompt=[Message.user("hi")])) == {
        "model": "gpt-4o-mini",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
        "store": False,
    }
    assert body(Call(prompt=[Message.user("hi")]), stream=True)["stream"] is True


@pytest.mark.parametrize(
    ("model", "role"), [("gpt-5", "developer"), ("o4-mini", "developer"), ("gpt-4o", "system")]
)
def test_the_system_prompt_role_follows_the_model(model: str, role: str) -> None:
    sent = body(Call(prompt=[Message.system("be brief"), Message.user("hi")]), model)
    assert sent["input"][0] == {"role": role, "content": "be brief"}


def test_options_map_to_their_fields() -> None:
    options = openai.ResponsesOptions(
        include=["reasoning.encrypted_content"],
        reasoning_effort="high",
        reasoning_summary="auto",
        text_verbosity="low",
        store=True,
        user="u-1",
        max_tool_calls=3,
        previous_response_id="resp_1",
    )
    sent = body(Call(prompt=[Message.user("hi")], provider_options={"openai": options}), "gpt-5")
    assert sent["include"] == ["reasoning.encrypted_content"]
    assert sent["reasoning"] == {"effort": "high", "summary": "auto"}
    assert sent["text"] == {"verbosity": "low"}
    assert sent["store"] is True
    assert (sent["user"], sent["max_tool_calls"], sent["previous_response_id"]) == ("u-1", 3, "resp_1")


def test_options_are_validated() -> None:
    with pytest.raises(UserError, match="reasoning_effort"):
        body(Call(prompt=[Message.user("hi")], provider_options={"openai": {"reasoning_effort": "max"}}))
    with pytest.raises(UserError, match="logit_bias"):
        body(Call(prompt=[Message.user("hi")], provider_options={"openai": {"logit_bias": {}}}))


def test_structured_output_is_text_format() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    call = Call(
        prompt=[Message.user("hi")],
        response_format=ResponseFormat(schema=schema, name="Person", description="d"),
    )
    assert body(call)["text"] == {
        "format": {
            "type": "json_schema",
            "name": "Person",
            "schema": {**schema, "additionalProperties": False},
        }
    }
    strict = Call(
        prompt=[Message.user("hi")],
        response_format=ResponseFormat(schema=schema, name="Person"),
        provider_options={"openai": {"strict_json_schema": True}},
    )
    assert body(strict)["text"]["format"]["strict"] is True


def test_tools_are_flat_functions_and_a_named_choice_is_a_function_choice() -> None:
    sent = body(Call(prompt=[Message.user("hi")], tools=[WEATHER], tool_choice="weather"))
    assert sent["tools"] == [
        {
            "type": "function",
            "name": "weather",
            "description": WEATHER.description,
            "parameters": WEATHER.parameters,
            "strict": False,
        }
    ]
    assert sent["tool_choice"] == {"type": "function", "name": "weather"}
    assert body(Call(prompt=[Message.user("hi")], tools=[WEATHER]))["tool_choice"] == "auto"


def test_unsupported_settings_are_warnings() -> None:
    call = Call(prompt=[Message.user("hi")], temperature=0.5, top_k=3, seed=1, stop_sequences=["x"])
    request = codec("gpt-5").build_request(call, stream=False)
    assert "temperature" not in request.body and "seed" not in request.body
    assert {warning.setting for warning in request.warnings} == {
        "temperature",
        "top_k",
        "seed",
        "stop_sequences",
    }
    assert body(Call(prompt=[Message.user("hi")], temperature=0.5))["temperature"] == 0.5


def test_history_becomes_items_without_reasoning() -> None:
    assistant = Message(
        role="assistant",
        content=[
            ReasoningPart(
                text="thinking", provider_metadata={"openai": {"item_id": "rs_1", "encrypted_content": "e"}}
            ),
            TextPart(text="Let me look."),
            ToolCallPart(tool_call_id="call_1", tool_name="weather", input='{"location":"Rome"}'),
        ],
    )
    tool = Message(
        role="tool", content=[ToolResultPart(tool_call_id="call_1", tool_name="weather", output="40 C")]
    )
    sent = body(Call(prompt=[Message.user("weather?"), assistant, tool]))
    assert sent["input"][1:] == [
        {"role": "assistant", "content": "Let me look."},
        {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": '{"location":"Rome"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "40 C"},
    ]


def test_user_files_are_input_images_and_files() -> None:
    image = FilePart(data=b"\x89PNG", media_type="image/png")
    pdf = FilePart(data=b"%PDF", media_type="application/pdf", filename="a.pdf")
    content = body(Call(prompt=[Message.user("look", image, pdf)]))["input"][0]["content"]
    assert content[1] == {"type": "input_image", "image_url": "data:image/png;base64,iVBORw=="}
    assert content[2] == {
        "type": "input_file",
        "filename": "a.pdf",
        "file_data": "data:application/pdf;base64,JVBERg==",
    }


# --- whole responses ------------------------------------------------------------------

USAGE = {
    "input_tokens": 100,
    "input_tokens_details": {"cached_tokens": 40},
    "output_tokens": 30,
    "output_tokens_details": {"reasoning_tokens": 20},
    "total_tokens": 130,
}


def response(*output: dict[str, Any], status: str = "completed", **fields: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "model": "gpt-5-2025",
        "status": status,
        "output": list(output),
        "usage": USAGE,
        **fields,
    }


REASONING_ITEM = {
    "id": "rs_1",
    "type": "reasoning",
    "encrypted_content": "secret",
    "summary": [{"type": "summary_text", "text": "First."}, {"type": "summary_text", "text": "Second."}],
}
CALL_ITEM = {
    "id": "fc_1",
    "type": "function_call",
    "call_id": "call_1",
    "name": "weather",
    "arguments": '{"a":1}',
}


def test_a_response_reads_reasoning_text_and_calls_in_order() -> None:
    message = {
        "id": "msg_1",
        "type": "message",
        "content": [
            {
                "type": "output_text",
                "text": "Hi",
                "annotations": [{"type": "url_citation", "url": "https://a.example", "title": "A"}],
            }
        ],
    }
    read = codec().parse_response(
        response(REASONING_ITEM, message, CALL_ITEM, {"id": "x_1", "type": "new_item_type"})
    )
    assert read.content == [
        ReasoningPart(
            text="First.\n\nSecond.",
            provider_metadata={"openai": {"item_id": "rs_1", "encrypted_content": "secret"}},
        ),
        TextPart(text="Hi"),
        SourcePart(id="https://a.example", url="https://a.example", title="A"),
        ToolCallPart(tool_call_id="call_1", tool_name="weather", input='{"a":1}'),
    ]
    assert read.finish_reason == "tool_calls"
    assert read.usage == Usage(
        input_tokens=60, output_tokens=30, total_tokens=130, reasoning_tokens=20, cache_read_tokens=40
    )
    assert (read.response_id, read.model_id) == ("resp_1", "gpt-5-2025")


def test_reasoning_without_encrypted_content_keeps_its_item_id_only() -> None:
    read = codec().parse_response(response({"id": "rs_2", "type": "reasoning", "summary": []}))
    assert read.content == [ReasoningPart(text="", provider_metadata={"openai": {"item_id": "rs_2"}})]
    assert read.finish_reason == "stop"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("max_output_tokens", "length"), ("content_filter", "content_filter"), ("other", "other")],
)
def test_an_incomplete_response_says_why(reason: str, expected: str) -> None:
    read = codec().parse_response(response(status="incomplete", incomplete_details={"reason": reason}))
    assert read.finish_reason == expected


def test_a_refusal_is_marked_text() -> None:
    message = {"id": "m", "type": "message", "content": [{"type": "refusal", "refusal": "No."}]}
    assert codec().parse_response(response(message)).content == [
        TextPart(text="No.", provider_metadata={"openai": {"refusal": True}})
    ]


@pytest.mark.parametrize(
    ("code", "retryable"), [("server_error", True), ("rate_limit_exceeded", True), ("invalid_prompt", False)]
)
def test_a_failed_response_raises_by_its_code(code: str, retryable: bool) -> None:
    failed = response(status="failed", error={"code": code, "message": "boom"})
    with pytest.raises(ProviderError, match="boom") as caught:
        codec().parse_response(failed)
    assert caught.value.is_retryable is retryable


def test_a_non_2xx_answer_carries_the_message() -> None:
    error = codec().parse_error(
        400, {}, json.dumps({"error": {"message": "bad model", "type": "invalid_request_error"}}), "u"
    )
    assert error.status_code == 400 and "bad model" in str(error)


# --- streams --------------------------------------------------------------------------


def event(kind: str, **data: Any) -> SSEEvent:
    return SSEEvent(event=kind, data=json.dumps({"type": kind, **data}))


def feed(*events: SSEEvent) -> list[ModelStreamPart]:
    decoder = codec().stream_decoder()
    parts: list[ModelStreamPart] = []
    for item in events:
        parts.extend(decoder.feed(item))
    return [*parts, *decoder.end()]


CREATED = event("response.created", response={"id": "resp_9", "model": "gpt-5-2025", "status": "in_progress"})
COMPLETED = event("response.completed", response={"id": "resp_9", "status": "completed", "usage": USAGE})


def test_a_reasoning_item_streams_its_summaries_and_ends_with_its_metadata() -> None:
    added = {"id": "rs_1", "type": "reasoning", "encrypted_content": "early", "summary": []}
    parts = feed(
        CREATED,
        event("response.in_progress", response={"id": "resp_9"}),
        event("response.output_item.added", item=added, output_index=0),
        event("response.reasoning_summary_part.added", item_id="rs_1", summary_index=0),
        event("response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0, delta="First."),
        event("response.reasoning_summary_text.done", item_id="rs_1", summary_index=0, text="First."),
        event("response.reasoning_summary_part.done", item_id="rs_1", summary_index=0),
        event("response.reasoning_summary_part.added", item_id="rs_1", summary_index=1),
        event("response.reasoning_summary_text.delta", item_id="rs_1", summary_index=1, delta="Second."),
        event("response.output_item.done", item={**REASONING_ITEM, "encrypted_content": "final"}),
        COMPLETED,
    )
    assert parts == [
        ReasoningStartPart(id="rs_1"),
        ReasoningDeltaPart(id="rs_1", delta="First."),
        ReasoningDeltaPart(id="rs_1", delta="\n\n"),
        ReasoningDeltaPart(id="rs_1", delta="Second."),
        ReasoningEndPart(
            id="rs_1", provider_metadata={"openai": {"item_id": "rs_1", "encrypted_content": "final"}}
        ),
        FinishPart(
            finish_reason="stop",
            usage=Usage(
                input_tokens=60, output_tokens=30, total_tokens=130, reasoning_tokens=20, cache_read_tokens=40
            ),
            response_id="resp_9",
            model_id="gpt-5-2025",
        ),
    ]


def test_text_streams_with_its_citations() -> None:
    citation = {
        "type": "url_citation",
        "url": "https://a.example",
        "title": "A",
        "start_index": 0,
        "end_index": 2,
    }
    parts = feed(
        CREATED,
        event("response.output_item.added", item={"id": "msg_1", "type": "message", "content": []}),
        event("response.content_part.added", item_id="msg_1", part={"type": "output_text", "text": ""}),
        event("response.output_text.delta", item_id="msg_1", delta="Hi"),
        event("response.output_text.delta", item_id="msg_1", delta=""),
        event("response.output_text.annotation.added", item_id="msg_1", annotation=citation),
        event("response.output_text.annotation.added", item_id="msg_1", annotation={"type": "file_citation"}),
        event("response.output_text.done", item_id="msg_1", text="Hi"),
        event("response.content_part.done", item_id="msg_1"),
        event("response.output_item.done", item={"id": "msg_1", "type": "message", "content": []}),
        COMPLETED,
    )
    assert parts[:4] == [
        TextStartPart(id="msg_1"),
        TextDeltaPart(id="msg_1", delta="Hi"),
        SourcePart(id="https://a.example", url="https://a.example", title="A"),
        TextEndPart(id="msg_1"),
    ]


def test_a_refusal_streams_as_marked_text() -> None:
    parts = feed(
        event("response.output_item.added", item={"id": "msg_1", "type": "message"}),
        event("response.refusal.delta", item_id="msg_1", delta="No."),
        event("response.output_item.done", item={"id": "msg_1", "type": "message"}),
        COMPLETED,
    )
    assert parts[1:4] == [
        TextStartPart(id="msg_1-refusal", provider_metadata={"openai": {"refusal": True}}),
        TextDeltaPart(id="msg_1-refusal", delta="No."),
        TextEndPart(id="msg_1"),
    ]


def test_a_function_call_streams_under_its_call_id() -> None:
    parts = feed(
        event("response.output_item.added", item={**CALL_ITEM, "arguments": ""}),
        event("response.function_call_arguments.delta", item_id="fc_1", delta='{"a"'),
        event("response.function_call_arguments.delta", item_id="fc_1", delta=":1}"),
        event("response.function_call_arguments.done", item_id="fc_1", arguments='{"a":1}'),
        event("response.output_item.done", item=CALL_ITEM),
        COMPLETED,
    )
    assert parts[:5] == [
        ToolInputStartPart(id="call_1", tool_name="weather"),
        ToolInputDeltaPart(id="call_1", delta='{"a"'),
        ToolInputDeltaPart(id="call_1", delta=":1}"),
        ToolInputEndPart(id="call_1"),
        ToolCallPart(tool_call_id="call_1", tool_name="weather", input='{"a":1}'),
    ]
    finish = parts[-1]
    assert isinstance(finish, FinishPart) and finish.finish_reason == "tool_calls"


def test_unknown_event_types_are_ignored() -> None:
    parts = feed(
        event("response.web_search_call.searching", item_id="ws_1"),
        event("response.something_new", payload={"x": 1}),
        event("response.output_item.added", item={"id": "x_1", "type": "new_item_type"}),
        event("response.output_item.done", item={"id": "x_1", "type": "new_item_type"}),
        COMPLETED,
    )
    assert [part.type for part in parts] == ["finish"]


def test_an_incomplete_response_finishes_with_length() -> None:
    incomplete = event(
        "response.incomplete",
        response={"id": "r", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}},
    )
    finish = feed(incomplete)[-1]
    assert isinstance(finish, FinishPart) and finish.finish_reason == "length" and finish.usage == Usage()


@pytest.mark.parametrize(
    ("code", "retryable"),
    [("server_error", True), ("rate_limit_exceeded", True), ("context_length_exceeded", False)],
)
def test_an_error_event_raises_by_its_code(code: str, retryable: bool) -> None:
    with pytest.raises(ProviderError, match="went wrong") as caught:
        feed(event("error", code=code, message="went wrong", param=None))
    assert caught.value.is_retryable is retryable


def test_a_failed_response_event_raises() -> None:
    failed = event(
        "response.failed", response={"status": "failed", "error": {"code": "server_error", "message": "oops"}}
    )
    with pytest.raises(ProviderError, match="oops") as caught:
        feed(failed)
    assert caught.value.is_retryable is True


def test_a_stream_cut_off_before_completion_is_retryable() -> None:
    with pytest.raises(ProviderError, match="ended before") as caught:
        feed(CREATED, event("response.output_text.delta", item_id="m", delta="Hi"))
    assert caught.value.is_retryable is True


SEARCH_ITEM = {
    "id": "ws_1",
    "type": "web_search_call",
    "status": "completed",
    "action": {"type": "search", "query": "population of Tokyo"},
}
SEARCH_PARTS = [
    ToolCallPart(
        tool_call_id="ws_1",
        tool_name="web_search",
        input='{"type":"search","query":"population of Tokyo"}',
        provider_executed=True,
    ),
    ToolResultPart(
        tool_call_id="ws_1", tool_name="web_search", output='{"status":"completed"}', provider_executed=True
    ),
]


def test_a_web_search_the_provider_ran_is_a_provider_executed_call_and_result() -> None:
    read = codec().parse_response(response(SEARCH_ITEM))
    assert read.content == SEARCH_PARTS
    assert read.finish_reason == "stop"  # nothing for the client to run


def test_a_streamed_web_search_arrives_when_its_item_is_done() -> None:
    parts = feed(
        event(
            "response.output_item.added",
            item={**SEARCH_ITEM, "status": "in_progress", "action": {"type": "search"}},
        ),
        event("response.web_search_call.in_progress", item_id="ws_1"),
        event("response.web_search_call.completed", item_id="ws_1"),
        event("response.output_item.done", item=SEARCH_ITEM),
        COMPLETED,
    )
    assert parts[:2] == SEARCH_PARTS
    finish = parts[-1]
    assert isinstance(finish, FinishPart) and finish.finish_reason == "stop"


def test_provider_executed_calls_are_not_sent_back() -> None:
    assistant = Message(role="assistant", content=[*SEARCH_PARTS, TextPart(text="About 14 million.")])
    sent = body(Call(prompt=[Message.user("Tokyo?"), assistant, Message.user("And Osaka?")]))
    assert sent["input"][1] == {"role": "assistant", "content": "About 14 million."}
    assert len(sent["input"]) == 3


def test_web_search_is_a_built_in_tool_of_the_responses_api() -> None:
    assert body(Call(prompt=[Message.user("Tokyo?")], tools=[openai.web_search()]))["tools"] == [
        {"type": "web_search"}
    ]
    configured = openai.web_search(
        search_context_size="high",
        user_location={"city": "Rome", "country": "IT"},
        allowed_domains=["example.org"],
    )
    assert configured.id == "openai.web_search" and configured.name == "web_search"
    assert body(Call(prompt=[Message.user("Rome?")], tools=[WEATHER, configured]))["tools"][1] == {
        "type": "web_search",
        "search_context_size": "high",
        "user_location": {"type": "approximate", "city": "Rome", "country": "IT"},
        "filters": {"allowed_domains": ["example.org"]},
    }


def test_web_search_is_refused_on_chat_completions() -> None:
    from reverie.providers import azure

    call = Call(prompt=[Message.user("Tokyo?")], tools=[openai.web_search()])
    for model in (
        openai.Provider(api_key="k").language_model("gpt-4.1"),
        azure.Provider(base_url="https://r.openai.azure.com", api_key="k").language_model("gpt-4.1"),
    ):
        with pytest.raises(UserError, match='api="responses"'):
            model.prepare(call, stream=False)


def test_another_providers_tool_is_refused() -> None:
    from reverie.providers import anthropic

    with pytest.raises(UserError, match="anthropic"):
        body(Call(prompt=[Message.user("Tokyo?")], tools=[anthropic.web_search()]))


def test_a_tool_result_file_becomes_a_placeholder_with_a_warning() -> None:
    image = FilePart(data=b"\x89PNG", media_type="image/png", filename="shot.png")
    result = ToolResultPart(tool_call_id="call_1", tool_name="screenshot", output="done", media=image)
    call = Call(prompt=[Message.user("look"), Message(role="tool", content=[result])])
    request = codec().build_request(call, stream=False)
    output = request.body["input"][1]["output"]
    assert output.startswith("done\n") and "shot.png" in output and "image/png" in output
    assert [warning.setting for warning in request.warnings] == ["tool_result.media"]

"""``reverie.to_json`` / ``reverie.from_json``: versioned documents that read back equal.

Property tests (hypothesis) for messages, content parts and stream parts; examples for
results, errors inside ``retry`` parts, typed output, list documents and refused documents.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from reverie import (
    AgentResult,
    AgentStreamPart,
    CallWarning,
    ContentPart,
    Discarded,
    FilePart,
    FinishPart,
    InvalidResponseError,
    Message,
    ModelStreamPart,
    OutputPart,
    ProviderError,
    RateLimitWaitPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningPart,
    ReasoningStartPart,
    RestoredError,
    RetryError,
    RetryPart,
    SourcePart,
    StepFinishPart,
    StepResult,
    StepStartPart,
    StreamStartPart,
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
    from_json,
    to_json,
)
from reverie._cost import Cost

# --------------------------------------------------------------------------- strategies

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=8,
)
metadata = st.dictionaries(
    st.text(max_size=8), st.dictionaries(st.text(max_size=8), json_values, max_size=3), max_size=2
)
usages = st.builds(
    Usage,
    input_tokens=st.integers(0, 10**9),
    output_tokens=st.integers(0, 10**9),
    total_tokens=st.integers(0, 10**9),
    reasoning_tokens=st.integers(0, 10**9),
    cache_creation_tokens=st.integers(0, 10**9),
    cache_read_tokens=st.integers(0, 10**9),
)
file_parts = st.builds(
    FilePart,
    data=st.binary(),
    media_type=st.text(),
    filename=st.none() | st.text(),
    provider_metadata=metadata,
    provider_options=metadata,
)
content_parts: st.SearchStrategy[ContentPart] = st.one_of(
    st.builds(TextPart, text=st.text(), provider_metadata=metadata, provider_options=metadata),
    st.builds(ReasoningPart, text=st.text(), provider_metadata=metadata, provider_options=metadata),
    st.builds(
        ToolCallPart,
        tool_call_id=st.text(),
        tool_name=st.text(),
        input=st.text(),
        invalid=st.booleans(),
        error=st.none() | st.text(),
        provider_executed=st.booleans(),
        provider_metadata=metadata,
        provider_options=metadata,
    ),
    st.builds(
        ToolResultPart,
        tool_call_id=st.text(),
        tool_name=st.text(),
        output=st.text(),
        is_error=st.booleans(),
        provider_executed=st.booleans(),
        media=st.none() | file_parts,
        provider_metadata=metadata,
        provider_options=metadata,
    ),
    file_parts,
    st.builds(
        SourcePart,
        id=st.text(),
        url=st.none() | st.text(),
        title=st.none() | st.text(),
        source_type=st.sampled_from(["url", "document"]),
        provider_metadata=metadata,
        provider_options=metadata,
    ),
)
messages = st.builds(
    Message,
    role=st.sampled_from(["system", "user", "assistant", "tool"]),
    content=st.lists(content_parts, max_size=4),
    provider_options=metadata,
)
finish_reasons = st.sampled_from(
    ["stop", "length", "content_filter", "tool_calls", "error", "other", "unknown"]
)
ids = st.text(max_size=5)
steps = st.builds(
    StepResult,
    step_number=st.integers(0, 100),
    content=st.lists(content_parts, max_size=3),
    finish_reason=finish_reasons,
    usage=usages,
    messages=st.lists(messages, max_size=2),
    provider_metadata=metadata,
    warnings=st.lists(st.builds(CallWarning, setting=st.text(), message=st.text()), max_size=2),
    model_id=st.text(),
    provider=st.text(),
    response_id=st.none() | st.text(),
    response_model_id=st.none() | st.text(),
)
model_stream_parts: st.SearchStrategy[ModelStreamPart] = st.one_of(
    st.builds(
        StreamStartPart, warnings=st.lists(st.builds(CallWarning, setting=st.text(), message=st.text()))
    ),
    st.builds(TextStartPart, id=ids, provider_metadata=metadata),
    st.builds(TextDeltaPart, id=ids, delta=st.text()),
    st.builds(TextEndPart, id=ids, provider_metadata=metadata),
    st.builds(ReasoningStartPart, id=ids, provider_metadata=metadata),
    st.builds(ReasoningDeltaPart, id=ids, delta=st.text(), provider_metadata=metadata),
    st.builds(ReasoningEndPart, id=ids, provider_metadata=metadata),
    st.builds(ToolInputStartPart, id=ids, tool_name=st.text()),
    st.builds(ToolInputDeltaPart, id=ids, delta=st.text()),
    st.builds(ToolInputEndPart, id=ids),
    content_parts.filter(lambda part: not isinstance(part, TextPart | ReasoningPart)),
    st.builds(
        FinishPart,
        finish_reason=finish_reasons,
        usage=usages,
        provider_metadata=metadata,
        response_id=st.none() | st.text(),
        model_id=st.none() | st.text(),
    ),
    st.builds(RateLimitWaitPart, seconds=st.floats(0, 1e6)),
)
agent_stream_parts: st.SearchStrategy[AgentStreamPart] = st.one_of(
    model_stream_parts,
    st.builds(StepStartPart, step_number=st.integers(0, 100)),
    st.builds(
        StepFinishPart,
        step_number=st.integers(0, 100),
        step=steps,
        finish_reason=finish_reasons,
        usage=usages,
        provider_metadata=metadata,
    ),
    st.builds(OutputPart, object=json_values),
)


# --------------------------------------------------------------------------- round trips


@settings(max_examples=100, deadline=None)
@given(messages)
def test_a_message_reads_back_equal(message: Message) -> None:
    assert from_json(to_json(message), Message) == message


@settings(max_examples=100, deadline=None)
@given(content_parts)
def test_a_content_part_reads_back_equal(part: ContentPart) -> None:
    text = to_json(part)
    assert from_json(text, ContentPart) == part
    assert from_json(text, type(part)) == part


@settings(max_examples=100, deadline=None)
@given(agent_stream_parts)
def test_a_stream_part_reads_back_equal(part: AgentStreamPart) -> None:
    assert from_json(to_json(part), AgentStreamPart) == part


@settings(max_examples=25, deadline=None)
@given(st.lists(messages, max_size=4))
def test_a_conversation_reads_back_equal(conversation: list[Message]) -> None:
    assert from_json(to_json(conversation), list[Message]) == conversation


@settings(max_examples=25, deadline=None)
@given(st.lists(content_parts, max_size=5))
def test_a_list_of_parts_reads_back_equal(parts: list[ContentPart]) -> None:
    assert from_json(to_json(parts), list[ContentPart]) == parts


@settings(max_examples=25, deadline=None)
@given(steps)
def test_a_step_reads_back_equal(step: StepResult) -> None:
    assert from_json(to_json(step), StepResult) == step


# --------------------------------------------------------------------------- the document


def test_a_document_names_its_format_version_its_type_and_holds_the_data() -> None:
    document = json.loads(to_json(Message.user("hi")))
    assert list(document) == ["format_version", "type", "data"]
    assert document["format_version"] == 1
    assert document["type"] == "Message"
    assert document["data"] == {
        "role": "user",
        "content": [{"text": "hi", "provider_metadata": {}, "provider_options": {}, "type": "text"}],
        "provider_options": {},
    }


def test_bytes_are_written_as_base64_and_read_from_either_alphabet() -> None:
    part = FilePart(data=b"\xff\xfe\x00", media_type="image/png")
    document = json.loads(to_json(part))
    assert base64.urlsafe_b64decode(document["data"]["data"]) == b"\xff\xfe\x00"
    document["data"]["data"] = base64.standard_b64encode(b"\xff\xfe\x00").decode()
    assert from_json(json.dumps(document), FilePart) == part


def test_a_list_is_named_by_its_items_common_class_or_narrowest_union() -> None:
    assert json.loads(to_json([Message.user("a")]))["type"] == "list[Message]"
    assert json.loads(to_json([TextPart(text="a"), TextPart(text="b")]))["type"] == "list[TextPart]"
    assert json.loads(to_json([TextPart(text="a"), FilePart(data=b"", media_type="x")]))["type"] == (
        "list[ContentPart]"
    )
    call = ToolCallPart(tool_call_id="1", tool_name="t", input="{}")
    assert json.loads(to_json([call, TextDeltaPart(id="0", delta="b")]))["type"] == "list[ModelStreamPart]"
    assert json.loads(to_json([TextDeltaPart(id="0", delta="b"), StepStartPart(step_number=0)]))["type"] == (
        "list[AgentStreamPart]"
    )
    assert json.loads(to_json([]))["type"] == "list[]"
    assert from_json(to_json([]), list[Message]) == []


def test_a_list_of_one_class_reads_as_a_list_of_a_union_holding_it() -> None:
    parts = [TextPart(text="a"), TextPart(text="b")]
    assert from_json(to_json(parts), list[ContentPart]) == parts
    assert from_json(to_json(parts), list[AgentStreamPart | TextPart]) == parts


def test_usage_and_cost_read_back_equal_and_the_total_is_worked_out_again() -> None:
    usage = Usage(input_tokens=3, output_tokens=4, total_tokens=7, reasoning_tokens=1)
    assert from_json(to_json(usage), Usage) == usage
    cost = Cost(input=0.5, output=0.25, cache_read=0.125, source="reported")
    document = json.loads(to_json(cost))
    assert "total" not in document["data"]
    restored = from_json(to_json(cost), Cost)
    assert restored == cost and restored.total == 0.875


def test_a_step_leaves_its_cost_out_and_works_it_out_again() -> None:
    step = StepResult(
        step_number=0,
        content=[TextPart(text="hi")],
        finish_reason="stop",
        usage=Usage(input_tokens=1000, output_tokens=100, total_tokens=1100),
        messages=[Message.assistant("hi")],
        model_id="gpt-4o",
        provider="openai",
    )
    assert step.cost is not None
    text = to_json(step)
    assert "_cost" not in json.loads(text)["data"]
    assert from_json(text, StepResult).cost == step.cost


def test_metadata_holds_json_so_other_values_come_back_as_their_json() -> None:
    part = TextPart(text="x", provider_metadata={"p": {"pair": (1, 2), "raw": b"\xff", "keys": {1: "a"}}})
    restored = from_json(to_json(part), TextPart)
    assert restored.provider_metadata == {"p": {"pair": [1, 2], "raw": "_w==", "keys": {"1": "a"}}}


def test_fields_left_out_take_their_defaults_and_unknown_fields_are_ignored() -> None:
    data = {"tool_call_id": "1", "tool_name": "t", "input": "{}", "later": 1}
    document = json.dumps({"format_version": 1, "type": "ToolCallPart", "data": data})
    assert from_json(document, ToolCallPart) == ToolCallPart(tool_call_id="1", tool_name="t", input="{}")


# --------------------------------------------------------------------------- errors inside results


def retry_part(error: Exception) -> RetryPart:
    return RetryPart(
        step_number=1,
        attempt=2,
        delay=0.5,
        error=error,  # pyright: ignore[reportArgumentType]
        discarded=Discarded(parts=3, text="par", tool_calls=1),
        model="m",
        provider="p",
    )


def test_a_retry_part_keeps_a_provider_errors_message_status_retry_decision_and_url() -> None:
    error = ProviderError("slow down", status_code=429, url="https://example.test/v1")
    restored = from_json(to_json(retry_part(error)), RetryPart)
    assert isinstance(restored.error, ProviderError)
    assert (restored.error.message, restored.error.status_code, restored.error.url) == (
        "slow down",
        429,
        "https://example.test/v1",
    )
    assert restored.error.is_retryable
    assert (restored.step_number, restored.attempt, restored.delay, restored.discarded) == (
        1,
        2,
        0.5,
        Discarded(parts=3, text="par", tool_calls=1),
    )
    assert json.loads(to_json(retry_part(error)))["data"]["error"] == {
        "type": "ProviderError",
        "message": "slow down",
        "status_code": 429,
        "retryable": True,
        "url": "https://example.test/v1",
    }


def test_a_retry_decision_taken_from_headers_survives() -> None:
    error = ProviderError("busy", status_code=500, response_headers={"x-should-retry": "false"})
    restored = from_json(to_json(retry_part(error)), RetryPart)
    assert isinstance(restored.error, ProviderError) and not restored.error.is_retryable


def test_other_errors_come_back_as_restored_errors_with_their_class_name() -> None:
    error = InvalidResponseError("bad event")
    restored = from_json(to_json(retry_part(error)), AgentStreamPart)
    assert isinstance(restored, RetryPart)
    assert isinstance(restored.error, RestoredError)
    assert (restored.error.type_name, str(restored.error)) == ("InvalidResponseError", "bad event")
    again = from_json(to_json(restored), RetryPart)
    assert isinstance(again.error, RestoredError) and again.error.type_name == "InvalidResponseError"


# --------------------------------------------------------------------------- results and typed output


class Order(BaseModel):
    id: int
    items: list[str]


@dataclass
class Receipt:
    total: float


def result_with(output: Any) -> AgentResult[Any]:
    step = StepResult(
        step_number=0,
        content=[TextPart(text="done")],
        finish_reason="stop",
        usage=Usage(input_tokens=2, output_tokens=1, total_tokens=3),
        messages=[Message.assistant("done")],
    )
    return AgentResult(
        steps=[step],
        input_messages=[Message.user("go")],
        typed_output=output,
        has_typed_output=True,
        attempts_usage=Usage(input_tokens=5),
    )


def test_a_result_keeps_its_typed_output_as_plain_json_unless_its_type_is_given() -> None:
    result = result_with(Order(id=7, items=["a"]))
    text = to_json(result)
    plain = from_json(text, AgentResult)
    assert plain.typed_output == {"id": 7, "items": ["a"]}
    typed = from_json(text, AgentResult[Order])
    assert typed.output == Order(id=7, items=["a"])
    assert typed.steps == result.steps
    assert typed.input_messages == result.input_messages
    assert typed.attempts_usage == result.attempts_usage
    assert typed.status == "completed" and typed.pending_approvals == []
    assert from_json(to_json(result_with(Receipt(total=2.5))), AgentResult[Receipt]).output == Receipt(
        total=2.5
    )


def test_a_result_without_typed_output_reads_back_equal() -> None:
    result = result_with(None)
    result.has_typed_output = False
    assert from_json(to_json(result), AgentResult[Order]) == result


def test_a_typed_output_that_does_not_fit_the_type_is_a_user_error() -> None:
    with pytest.raises(UserError, match="typed output does not fit Order"):
        from_json(to_json(result_with({"id": "seven"})), AgentResult[Order])


def test_a_typed_output_json_cannot_hold_is_a_user_error() -> None:
    with pytest.raises(UserError, match="cannot write this AgentResult"):
        to_json(result_with(object()))


# --------------------------------------------------------------------------- refused documents


def test_a_document_without_format_version_is_refused() -> None:
    with pytest.raises(UserError, match="no format_version"):
        from_json('{"type": "Message", "data": {}}', Message)


@pytest.mark.parametrize("version", [0, 2, "1"])
def test_a_document_of_another_format_version_is_refused(version: object) -> None:
    document = json.dumps({"format_version": version, "type": "Usage", "data": {}})
    with pytest.raises(
        UserError, match=r"format_version .* is not supported: this reverie reads format_version 1"
    ):
        from_json(document, Usage)


@pytest.mark.parametrize("text", ["nope", "[1, 2]", '"Message"', b"\xff"])
def test_text_that_is_no_document_is_refused(text: str | bytes) -> None:
    with pytest.raises(UserError, match="not a reverie JSON document"):
        from_json(text, Message)


def test_a_document_of_another_type_is_refused_naming_both() -> None:
    with pytest.raises(UserError, match="the document holds a Message, not a Usage"):
        from_json(to_json(Message.user("hi")), Usage)
    with pytest.raises(UserError, match=r"holds a list\[Message\], not a Message"):
        from_json(to_json([Message.user("hi")]), Message)
    with pytest.raises(UserError, match="holds a Message, not a list"):
        from_json(to_json(Message.user("hi")), list[Message])
    with pytest.raises(UserError, match=r"holds a list\[ContentPart\]"):
        from_json(to_json([TextPart(text="a"), FilePart(data=b"", media_type="x")]), list[TextPart])
    with pytest.raises(UserError, match="holds a TextDeltaPart"):
        from_json(to_json(TextDeltaPart(id="0", delta="x")), ContentPart)


def test_data_that_does_not_fit_its_type_is_refused() -> None:
    document = json.dumps({"format_version": 1, "type": "Usage", "data": {"input_tokens": "many"}})
    with pytest.raises(UserError, match="the document's Usage is not valid"):
        from_json(document, Usage)
    document = json.dumps({"format_version": 1, "type": "list[ContentPart]", "data": [{"type": "nope"}]})
    with pytest.raises(UserError, match="unknown type 'nope'"):
        from_json(document, list[ContentPart])


def test_objects_of_other_types_are_refused_both_ways() -> None:
    with pytest.raises(UserError, match="to_json cannot write dict objects"):
        to_json({"a": 1})
    with pytest.raises(UserError, match="mixes"):
        to_json([Message.user("a"), TextPart(text="b")])
    with pytest.raises(UserError, match="from_json cannot read int"):
        from_json(to_json(Usage()), int)


def test_the_detailed_error_form_keeps_what_a_retry_decision_reads() -> None:
    from reverie._serialisation import error_data, error_from_data

    throttled = ProviderError(
        "slow down", status_code=429, url="https://example.test/v1", response_headers={"retry-after": "2"}
    )
    throttled.reported_usage = Usage(input_tokens=3, output_tokens=0, total_tokens=3)
    error = RetryError([throttled, InvalidResponseError("bad event")])
    plain = error_data(error)
    assert set(plain) == {"type", "message", "status_code", "retryable", "url"}  # the stable form
    restored = error_from_data(json.loads(json.dumps(error_data(error, detailed=True))))
    assert isinstance(restored, RetryError) and len(restored.errors) == 2
    first, second = restored.errors
    assert isinstance(first, ProviderError) and first.response_headers == {"retry-after": "2"}
    assert first.reported_usage == throttled.reported_usage
    assert isinstance(second, RestoredError) and second.type_name == "InvalidResponseError"
    assert isinstance(error_from_data(plain), RestoredError)  # the stable form names the class only

"""``generate_object_async`` / ``stream_object_async`` on ``MockModel`` and an HTTP model.

This is the async source; ``tests/_sync/test_objects.py`` is generated from it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from pydantic import BaseModel

from reverie import (
    FinishPart,
    NoObjectGeneratedError,
    ObjectPart,
    Response,
    TextDeltaPart,
    TextPart,
    ToolCallPart,
    ToolInputDeltaPart,
    ToolInputStartPart,
    Usage,
    UserError,
)
from reverie.providers import anthropic
from reverie.testing import MockModel


class Person(BaseModel):
    name: str
    age: int


PERSON = {"name": "Alice", "age": 30}
PERSON_TEXT = json.dumps(PERSON)


def _streamed_text(text: str, size: int = 3) -> tuple[Any, ...]:
    deltas = [TextDeltaPart(id="0", delta=text[index : index + size]) for index in range(0, len(text), size)]
    return (*deltas, FinishPart(finish_reason="stop", usage=Usage(total_tokens=5)))


@pytest.mark.anyio
async def test_generate_object_validates_into_the_type() -> None:
    model = MockModel(
        Response(content=[TextPart(text=PERSON_TEXT)], finish_reason="stop", usage=Usage(total_tokens=5))
    )
    result = await model.generate_object_async("Alice, 30", schema=Person, max_output_tokens=100)
    assert result.object == Person(name="Alice", age=30)
    assert (result.raw_text, result.usage.total_tokens, result.finish_reason) == (PERSON_TEXT, 5, "stop")
    (call,) = model.calls
    assert call.response_format is not None and call.response_format.name == "Person"
    assert call.max_output_tokens == 100


@pytest.mark.anyio
async def test_a_dict_schema_gives_plain_json() -> None:
    model = MockModel(PERSON_TEXT)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
    result = await model.generate_object_async("Alice", schema=schema)
    assert result.object == PERSON


@pytest.mark.anyio
async def test_tool_mode_reads_the_forced_call() -> None:
    model = MockModel(MockModel.tool_calls(("Person", PERSON)), object_mode="tool")
    result = await model.generate_object_async("Alice", schema=Person)
    assert result.object == Person(name="Alice", age=30)
    (call,) = model.calls
    assert call.tool_choice == "Person" and [tool.name for tool in call.tools] == ["Person"]


@pytest.mark.anyio
async def test_text_mode_parses_a_fenced_reply() -> None:
    model = MockModel(f"```json\n{PERSON_TEXT}\n```")
    result = await model.generate_object_async("Alice", schema=list[Person] | Person, mode="text")
    assert result.object == Person(name="Alice", age=30)
    assert model.calls[0].prompt[0].role == "system"


@pytest.mark.anyio
async def test_invalid_output_raises_with_the_raw_text() -> None:
    model = MockModel('{"name": "Alice"}')
    with pytest.raises(NoObjectGeneratedError) as caught:
        await model.generate_object_async("Alice", schema=Person)
    assert caught.value.raw_text == '{"name": "Alice"}'
    assert caught.value.finish_reason == "stop"


@pytest.mark.anyio
async def test_stream_object_yields_growing_partial_objects() -> None:
    model = MockModel(_streamed_text(PERSON_TEXT))
    stream = model.stream_object_async("Alice", schema=Person)
    parts = [part async for part in stream]
    objects = [part.object for part in parts if isinstance(part, ObjectPart)]
    assert objects[-1] == PERSON
    assert len(objects) >= 2
    assert all(before != after for before, after in itertools.pairwise(objects))
    assert "".join(part.delta for part in parts if isinstance(part, TextDeltaPart)) == PERSON_TEXT
    assert parts[-1].type == "finish"
    result = await stream.result()
    assert result.object == Person(name="Alice", age=30)
    assert result.usage.total_tokens == 5
    assert await stream.result() is result


@pytest.mark.anyio
async def test_stream_object_in_tool_mode() -> None:
    script = (
        ToolInputStartPart(id="c1", tool_name="Person"),
        ToolInputDeltaPart(id="c1", delta=PERSON_TEXT[:10]),
        ToolInputDeltaPart(id="c1", delta=PERSON_TEXT[10:]),
        ToolCallPart(tool_call_id="c1", tool_name="Person", input=PERSON_TEXT),
        FinishPart(finish_reason="tool_calls", usage=Usage(total_tokens=2)),
    )
    model = MockModel(script, object_mode="tool")
    result = await model.stream_object_async("Alice", schema=Person).result()
    assert result.object == Person(name="Alice", age=30)
    assert result.finish_reason == "tool_calls"


@pytest.mark.anyio
async def test_a_stream_raises_no_object_generated_from_the_iterator() -> None:
    model = MockModel(_streamed_text('{"name": "Al'))
    stream = model.stream_object_async("Alice", schema=Person)
    seen: list[Any] = []
    with pytest.raises(NoObjectGeneratedError, match="not valid JSON"):
        async for part in stream:
            seen.append(part)
    assert any(isinstance(part, ObjectPart) for part in seen)
    assert not any(isinstance(part, FinishPart) for part in seen)
    with pytest.raises(UserError, match="closed before it finished"):
        await stream.result()


@pytest.mark.anyio
async def test_nothing_is_sent_until_the_stream_is_iterated() -> None:
    model = MockModel(_streamed_text(PERSON_TEXT))
    async with model.stream_object_async("Alice", schema=Person) as stream:
        assert model.calls == []
        await stream.__anext__()
    assert len(model.calls) == 1


@pytest.mark.anyio
async def test_json_mode_on_a_provider_without_native_output_is_a_user_error() -> None:
    provider = anthropic.Provider(api_key="test-key")
    model = provider.language_model("claude-sonnet-4-20250514")
    assert model.object_mode == "tool"
    with pytest.raises(UserError, match="anthropic: no native JSON-schema output"):
        await model.generate_object_async("Alice", schema=Person, mode="json")


@pytest.mark.anyio
async def test_a_tool_mode_mock_has_no_native_json_output_unless_told() -> None:
    with pytest.raises(UserError, match="mock: no native JSON-schema output"):
        await MockModel(PERSON_TEXT, object_mode="tool").generate_object_async(
            "x", schema=Person, mode="json"
        )
    model = MockModel(PERSON_TEXT, object_mode="tool", supports_json_output=True)
    result = await model.generate_object_async("x", schema=Person, mode="json")
    assert result.object == Person(name="Alice", age=30)

"""The pure structured-output core: schemas, validation, partial parsing, plans and folds."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, ValidationError
from typing_extensions import TypedDict

from reverie import (
    Call,
    FinishPart,
    Message,
    NoObjectGeneratedError,
    ObjectPart,
    Response,
    StreamStartPart,
    TextDeltaPart,
    TextPart,
    ToolCallPart,
    ToolInputDeltaPart,
    ToolInputStartPart,
    Usage,
    UserError,
)
from reverie._objects.partial import NOTHING, PartialObjectParser, json_text
from reverie._objects.plan import ObjectPlan, text_mode_instruction
from reverie._objects.schema import ObjectSchema, SchemaValidationError, normalize_schema

BOOK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "The book title"},
        "author": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "Author's name"},
                "nationality": {"type": "string", "description": "Author's nationality"},
            },
            "required": ["name", "nationality"],
        },
        "genres": {"type": "array", "items": {"type": "string"}, "description": "List of genres"},
        "published_year": {"type": "integer", "description": "Year the book was published"},
    },
    "required": ["title", "author", "genres", "published_year"],
}


class Author(BaseModel):
    name: str = Field(description="Author's name")
    nationality: str = Field(description="Author's nationality")


class Book(BaseModel):
    title: str = Field(description="The book title")
    author: Author
    genres: list[str] = Field(description="List of genres")
    published_year: int = Field(description="Year the book was published")


class Point(TypedDict):
    x: int
    y: int


BOOK = {
    "title": "The Lord of the Rings",
    "author": {"name": "J.R.R. Tolkien", "nationality": "British"},
    "genres": ["fantasy", "adventure"],
    "published_year": 1954,
}


class Native:
    object_mode = "json"
    provider = "native"


class Tooling:
    provider = "tooling"


# -- schemas --------------------------------------------------------------------------------


def test_a_model_and_the_equivalent_dict_give_the_same_schema() -> None:
    assert ObjectSchema.build(Book).json_schema == ObjectSchema.build(BOOK_SCHEMA).json_schema


def _string_titles(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [value for key, value in node.items() if key == "title" and isinstance(value, str)]
        return found + [title for value in node.values() for title in _string_titles(value)]
    if isinstance(node, list):
        return [title for value in node for title in _string_titles(value)]
    return []


def test_titles_are_dropped_but_a_property_named_title_stays() -> None:
    schema = ObjectSchema.build(Book).json_schema
    assert schema["properties"]["title"] == {"description": "The book title", "type": "string"}
    assert _string_titles(schema) == []
    assert _string_titles(Book.model_json_schema()) != []


def test_a_description_beside_a_ref_is_kept_when_inlined() -> None:
    class Shelf(BaseModel):
        book: Book = Field(description="The one book")

    inner = ObjectSchema.build(Shelf).json_schema["properties"]["book"]
    assert inner["description"] == "The one book"
    assert inner["properties"]["author"]["required"] == ["name", "nationality"]
    assert "$ref" not in json.dumps(inner)


def test_a_recursive_schema_keeps_its_defs() -> None:
    schema = {
        "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
        "$ref": "#/$defs/Node",
    }
    assert normalize_schema(schema) == schema


def test_names_default_to_the_type_name_or_response() -> None:
    assert ObjectSchema.build(Book).name == "Book"
    assert ObjectSchema.build(BOOK_SCHEMA).name == "response"
    assert ObjectSchema.build(BOOK_SCHEMA, name="Book", description="A book").description == "A book"


def test_a_type_pydantic_cannot_describe_is_a_user_error() -> None:
    with pytest.raises(UserError, match="cannot build a JSON schema"):
        ObjectSchema.build(object())


def test_replies_are_validated_into_the_type() -> None:
    assert ObjectSchema.build(Book).validate(BOOK) == Book.model_validate(BOOK)
    assert ObjectSchema.build(list[str]).validate(["a"]) == ["a"]
    assert ObjectSchema.build(Point).validate({"x": 1, "y": 2}) == {"x": 1, "y": 2}
    with pytest.raises(ValidationError):
        ObjectSchema.build(Book).validate({**BOOK, "published_year": "soon"})


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({**BOOK, "published_year": "1954"}, "$.published_year: expected integer, got string"),
        ({**BOOK, "published_year": True}, "$.published_year: expected integer, got boolean"),
        ({"title": "x"}, "missing required property 'author'"),
        ({**BOOK, "genres": ["a", 1]}, "$.genres[1]: expected string, got integer"),
        ({**BOOK, "author": {"name": "x"}}, "$.author: missing required property 'nationality'"),
        ([BOOK], "$: expected object, got array"),
    ],
)
def test_dict_schemas_get_a_structural_check(value: Any, problem: str) -> None:
    with pytest.raises(SchemaValidationError, match=problem.replace("$", r"\$").replace("[", r"\[")):
        ObjectSchema.build(BOOK_SCHEMA).validate(value)


def test_a_dict_reply_that_fits_stays_plain_json() -> None:
    assert ObjectSchema.build(BOOK_SCHEMA).validate({**BOOK, "published_year": 1954.0}) is not None


# -- partial parsing ------------------------------------------------------------------------


def test_partial_values_grow_and_end_equal_to_the_whole() -> None:
    text = json.dumps(BOOK)
    parser = PartialObjectParser()
    values = [
        value
        for index in range(0, len(text), 3)
        if (value := parser.feed(text[index : index + 3])) is not NOTHING
    ]
    final = parser.finish()
    values.extend([] if final is NOTHING else [final])
    assert values[-1] == BOOK
    assert all(a != b for a, b in itertools.pairwise(values)), "only changes are reported"
    assert parser.value == BOOK


def test_parsing_is_geometrically_spaced_so_the_cost_is_linear() -> None:
    text = json.dumps({"items": [{"index": index, "name": f"item {index}"} for index in range(2000)]})
    parser = PartialObjectParser()
    for index in range(0, len(text), 5):
        parser.feed(text[index : index + 5])
    parser.finish()
    assert parser.value == json.loads(text)
    # Each parse happens after 25% growth: about log(n)/log(1.25) parses, not n/5.
    assert parser.parses < 80, parser.parses
    assert len(text) // 5 > 10_000


def test_a_fenced_reply_is_parsed_without_its_fence() -> None:
    parser = PartialObjectParser()
    parser.feed('```json\n{"a": 1')
    assert parser.value == {"a": 1}
    assert json_text('```json\n{"a": 1}\n```\n') == '{"a": 1}'
    assert json_text("  [1]  ") == "[1]"


def test_prose_is_not_reported() -> None:
    parser = PartialObjectParser()
    assert parser.feed("Sure! Here") is NOTHING
    assert parser.finish() is NOTHING
    with pytest.raises(ValueError, match="positive"):
        PartialObjectParser(growth=0)


# -- plans ----------------------------------------------------------------------------------


def test_auto_is_the_model_declared_mode() -> None:
    assert ObjectPlan.build(Native(), "p", schema=Book).mode == "json"
    assert ObjectPlan.build(Tooling(), "p", schema=Book).mode == "tool"


def test_json_mode_sets_the_response_format() -> None:
    plan = ObjectPlan.build(Native(), "p", schema=Book, schema_description="A book", max_output_tokens=9)
    assert plan.call.response_format is not None
    assert plan.call.response_format.name == "Book"
    assert plan.call.response_format.description == "A book"
    assert plan.call.max_output_tokens == 9
    assert plan.call.tools == []


def test_tool_mode_forces_a_tool_named_after_the_schema() -> None:
    plan = ObjectPlan.build(
        Native(), [Message.user("p")], schema=BOOK_SCHEMA, schema_name="Book", mode="tool"
    )
    (tool,) = plan.call.tools
    assert (tool.name, plan.call.tool_choice, plan.call.response_format) == ("Book", "Book", None)
    assert tool.parameters == ObjectSchema.build(Book).json_schema


def test_text_mode_puts_the_schema_in_a_system_message() -> None:
    plan = ObjectPlan.build(Tooling(), "p", schema=Book, mode="text")
    system, user = plan.call.prompt
    assert system.role == "system" and user.text == "p"
    assert system.text == text_mode_instruction(plan.schema)
    assert json.dumps(plan.schema.json_schema, separators=(",", ":")) in system.text
    assert plan.call.tools == [] and plan.call.response_format is None


def test_json_mode_without_native_output_is_a_user_error() -> None:
    with pytest.raises(UserError, match="tooling: no native JSON-schema output"):
        ObjectPlan.build(Tooling(), "p", schema=Book, mode="json")
    with pytest.raises(UserError, match="mode must be one of"):
        ObjectPlan.build(Tooling(), "p", schema=Book, mode="yaml")  # type: ignore[arg-type]


def _response(*content: Any, finish: Any = "stop") -> Response:
    return Response(content=list(content), finish_reason=finish, usage=Usage(total_tokens=7))


def test_a_reply_is_read_into_a_result() -> None:
    plan = ObjectPlan.build(Native(), "p", schema=Book)
    result = plan.read_response(_response(TextPart(text=json.dumps(BOOK))))
    assert result.object == Book.model_validate(BOOK)
    assert result.raw_text == json.dumps(BOOK)
    assert result.usage.total_tokens == 7


def test_a_tool_reply_is_read_from_the_call_input() -> None:
    plan = ObjectPlan.build(Tooling(), "p", schema=BOOK_SCHEMA, schema_name="Book")
    call = ToolCallPart(tool_call_id="1", tool_name="Book", input=json.dumps(BOOK))
    result = plan.read_response(_response(TextPart(text="Here it is"), call, finish="tool_calls"))
    assert result.object == BOOK
    assert result.finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "returned no reply text"),
        ('{"title": "x", ', "is not valid JSON"),
        ('{"title": "x"}', "does not match the schema"),
    ],
)
def test_bad_replies_raise_no_object_generated(text: str, message: str) -> None:
    plan = ObjectPlan.build(Native(), "p", schema=Book)
    with pytest.raises(NoObjectGeneratedError, match=message) as caught:
        plan.read_response(_response(TextPart(text=text), finish="length"))
    assert caught.value.raw_text == text
    assert caught.value.finish_reason == "length"
    assert caught.value.usage.total_tokens == 7
    assert (caught.value.error is None) == (text == "")


def _fold(plan: ObjectPlan, parts: list[Any]) -> list[Any]:
    fold = plan.stream_fold()
    return [out for part in parts for out in fold.feed(part)]


def test_a_streamed_tool_input_becomes_object_parts() -> None:
    plan = ObjectPlan.build(Tooling(), "p", schema=Book)
    text = json.dumps(BOOK)
    finish = FinishPart(finish_reason="tool_calls", usage=Usage(total_tokens=3))
    parts: list[Any] = [StreamStartPart(), ToolInputStartPart(id="c", tool_name="Book")]
    parts += [ToolInputDeltaPart(id="c", delta=text[index : index + 4]) for index in range(0, len(text), 4)]
    parts += [ToolCallPart(tool_call_id="c", tool_name="Book", input=text), finish]
    fold = plan.stream_fold()
    out = [item for part in parts for item in fold.feed(part)]
    objects = [item.object for item in out if isinstance(item, ObjectPart)]
    assert objects[-1] == BOOK
    assert "".join(item.delta for item in out if isinstance(item, TextDeltaPart)) == text
    assert out[-1] is finish
    assert fold.result is not None and fold.result.object == Book.model_validate(BOOK)


def test_a_tool_call_without_deltas_is_the_whole_text() -> None:
    plan = ObjectPlan.build(Tooling(), "p", schema=BOOK_SCHEMA, schema_name="Book")
    call = ToolCallPart(tool_call_id="c", tool_name="Book", input=json.dumps(BOOK))
    out = _fold(plan, [call, FinishPart(finish_reason="tool_calls", usage=Usage())])
    assert [item.type for item in out] == ["text_delta", "object", "finish"]


def test_an_invalid_streamed_reply_raises_at_the_finish() -> None:
    plan = ObjectPlan.build(Native(), "p", schema=Book)
    fold = plan.stream_fold()
    fold.feed(TextDeltaPart(id="0", delta='{"title": "x"}'))
    with pytest.raises(NoObjectGeneratedError, match="does not match"):
        fold.feed(FinishPart(finish_reason="stop", usage=Usage()))
    assert fold.result is None


def test_the_call_is_a_plain_call() -> None:
    plan = ObjectPlan.build(Native(), "p", schema=Book, temperature=0.5, headers={"x-a": "1"})
    assert isinstance(plan.call, Call)
    assert dataclasses.replace(plan.call).temperature == 0.5
    assert plan.call.headers == {"x-a": "1"}


def test_schema_parse_is_usable_without_a_plan() -> None:
    schema = ObjectSchema.build(list[int])
    assert schema.parse("[1, 2]", usage=Usage(), finish_reason="stop") == [1, 2]
    with pytest.raises(NoObjectGeneratedError, match="the output is not valid JSON") as caught:
        schema.parse("[1, 2", usage=Usage(output_tokens=4), finish_reason="length", what="output")
    assert (caught.value.raw_text, caught.value.usage.output_tokens) == ("[1, 2", 4)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(value=JSON_VALUES, sizes=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=8))
def test_any_chunking_ends_at_the_whole_value(value: Any, sizes: list[int]) -> None:
    text = json.dumps(value)
    parser = PartialObjectParser()
    position, index = 0, 0
    while position < len(text):
        size = sizes[index % len(sizes)]
        parser.feed(text[position : position + size])
        position, index = position + size, index + 1
    parser.finish()
    assert parser.text == text
    assert parser.value == value
    # Parses happen at geometrically spaced lengths (and once at the end).
    assert parser.parses <= 6 + 5 * max(1, len(text)).bit_length()


def test_importing_a_provider_skips_the_object_core() -> None:
    from tests.unit.test_public_api import _loaded, _modules_after

    modules = _modules_after("import reverie.providers.openai")
    assert _loaded(modules, "reverie._objects") == []
    used = _modules_after(
        "from reverie.testing import MockModel; MockModel('[1]').generate_object('x', schema=list)"
    )
    assert _loaded(used, "reverie._objects.plan") != []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Here you go: {"a": [1, 2]} Hope this helps!', {"a": [1, 2]}),
        ("The list is [1, 2].", [1, 2]),
        ('```json\n{"a": 1}\n```', {"a": 1}),
    ],
)
def test_json_inside_prose_is_found(text: str, expected: Any) -> None:
    assert ObjectSchema.build({}).parse(text, usage=Usage(), finish_reason="stop") == expected


@pytest.mark.parametrize("text", ["no json here", "a { broken", "} backwards {"])
def test_prose_without_json_is_not_an_object(text: str) -> None:
    with pytest.raises(NoObjectGeneratedError, match="not valid JSON"):
        ObjectSchema.build({}).parse(text, usage=Usage(), finish_reason="stop")

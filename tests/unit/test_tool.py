"""``@tool``: schemas from signatures, input validation and output encoding (``reverie._tools``)."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from reverie import Tool, ToolCallPart, ToolDefinition, UserError, tool
from reverie._run.tools import encode_tool_output, prepare_tool_call
from reverie._tools.function import FunctionTool
from reverie._tools.protocol import ToolInputError
from reverie.testing.scenarios import SCENARIO_TOOLS

# The schema fantasy sent for the weather tool, byte for byte in the recordings.
RECORDED_WEATHER_SCHEMA = json.loads(
    '{"properties":{"location":{"description":"the city","type":"string"}},'
    '"required":["location"],"type":"object"}'
)


def _keys(value: Any) -> set[str]:
    """Every dict key anywhere in a JSON value, except under "properties" (those are names)."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, sub in value.items():
            if key == "properties":
                for prop in sub.values():
                    found |= _keys(prop)
            else:
                found |= {key} | _keys(sub)
        return found
    if isinstance(value, list):
        return set().union(*(_keys(item) for item in value)) if value else set()
    return set()


@tool
def weather(location: Annotated[str, Field(description="the city")]) -> str:
    """Get weather information for a location"""  # the recorded description, without a full stop
    return "40 C"


class Query(BaseModel):
    title: str
    limit: int = 10


class Box(BaseModel):
    label: str
    inner: Query
    extras: list[Query] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int


# --------------------------------------------------------------------------- decorator forms


def test_bare_decorator_uses_function_name_and_docstring() -> None:
    assert isinstance(weather, Tool)
    assert weather.name == "weather"
    assert weather.description == "Get weather information for a location"
    assert weather.parallel is False
    assert weather.is_async is False


def test_decorator_with_options() -> None:
    @tool(name="get_weather", description="Weather, now.", parallel=True)
    def anything(location: str) -> str:
        """Ignored docstring."""
        return location

    assert anything.name == "get_weather"
    assert anything.description == "Weather, now."
    assert anything.parallel is True
    assert anything.definition() == ToolDefinition(
        name="get_weather",
        description="Weather, now.",
        parameters={
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
            "type": "object",
        },
    )


def test_decorator_with_empty_parentheses() -> None:
    @tool()
    def ping() -> str:
        """Ping."""
        return "pong"

    assert ping.name == "ping"
    assert ping.description == "Ping."


def test_description_without_docstring_is_empty() -> None:
    @tool
    def bare(x: int) -> int:
        return x

    assert bare.description == ""


def test_async_function_is_marked_async() -> None:
    @tool
    async def slow(x: int) -> int:
        """Slow."""
        return x

    assert slow.is_async is True
    assert slow.parameters["required"] == ["x"]


def test_tool_is_still_callable() -> None:
    assert weather("Florence") == "40 C"
    assert weather(location="Rome") == "40 C"
    assert SCENARIO_TOOLS["add"](2, 3) == "5"


def test_not_a_function_is_a_user_error() -> None:
    with pytest.raises(UserError, match="expects a function"):
        tool("weather")  # type: ignore[call-overload]


@pytest.mark.parametrize(
    "function",
    [
        lambda *args: None,
        lambda **kwargs: None,
    ],
    ids=["*args", "**kwargs"],
)
def test_var_args_are_a_user_error(function: Any) -> None:
    with pytest.raises(UserError, match=r"\*args and \*\*kwargs"):
        tool(function)


def test_var_args_error_names_the_tool() -> None:
    with pytest.raises(UserError, match="'gather'"):

        @tool
        def gather(first: str, *rest: str) -> str:
            return first


# --------------------------------------------------------------------------- schemas


def test_schema_equals_the_recorded_one_exactly() -> None:
    assert weather.parameters == RECORDED_WEATHER_SCHEMA
    assert SCENARIO_TOOLS["weather"].parameters == RECORDED_WEATHER_SCHEMA
    # Same key order as the recording too (not needed for JSON equality, but cheap to keep).
    assert json.dumps(weather.parameters, separators=(",", ":")) == json.dumps(
        RECORDED_WEATHER_SCHEMA, separators=(",", ":")
    )


def test_scenario_tools_have_the_documented_schemas() -> None:
    number = {"properties": {"a": {"description": "first number", "type": "integer"}}}
    add = SCENARIO_TOOLS["add"]
    assert add.description == "Add two numbers"
    assert add.parameters["properties"]["a"] == number["properties"]["a"]
    assert add.parameters["properties"]["b"] == {"description": "second number", "type": "integer"}
    assert add.parameters["required"] == ["a", "b"]
    assert add.parameters["type"] == "object"


def test_no_title_keys_anywhere() -> None:
    @tool
    def complicated(box: Box, mode: Literal["a", "b"] = "a", when: int | None = None) -> str:
        """Complicated."""
        return ""

    assert "title" not in _keys(complicated.parameters)


def test_property_named_title_survives() -> None:
    @tool
    def find(title: Annotated[str, Field(description="the title")], year: int) -> str:
        """Find a book."""
        return title

    assert find.parameters == {
        "properties": {
            "title": {"description": "the title", "type": "string"},
            "year": {"type": "integer"},
        },
        "required": ["title", "year"],
        "type": "object",
    }


def test_property_named_title_survives_in_nested_definitions() -> None:
    @tool
    def pack(box: Box, note: str) -> str:
        """Pack."""
        return note

    definitions = pack.parameters["$defs"]
    assert definitions["Query"]["properties"]["title"] == {"type": "string"}
    assert definitions["Query"]["required"] == ["title"]


def test_defaults_that_contain_a_title_key_are_kept() -> None:
    @tool
    def label(meta: dict[str, str] = {"title": "untitled"}, kind: str = "title") -> str:  # noqa: B006
        """Label."""
        return kind

    properties = label.parameters["properties"]
    assert properties["meta"]["default"] == {"title": "untitled"}
    assert properties["kind"]["default"] == "title"


def test_parameters_with_defaults_are_not_required() -> None:
    @tool
    def search(query: str, limit: int = 5, exact: bool = False) -> str:
        """Search."""
        return query

    schema = search.parameters
    assert schema["required"] == ["query"]
    assert schema["properties"]["limit"] == {"default": 5, "type": "integer"}
    assert schema["properties"]["exact"] == {"default": False, "type": "boolean"}


def test_no_parameters_gives_an_empty_object_schema() -> None:
    @tool
    def now() -> str:
        """The time."""
        return "noon"

    assert now.parameters == {"properties": {}, "type": "object"}


def test_single_pydantic_model_parameter_is_the_schema() -> None:
    @tool
    def search(query: Query) -> str:
        """Search."""
        return query.title

    assert search.parameters == {
        "properties": {"title": {"type": "string"}, "limit": {"default": 10, "type": "integer"}},
        "required": ["title"],
        "type": "object",
    }
    arguments = search.validate('{"title": "Dune"}')
    assert arguments == {"query": Query(title="Dune", limit=10)}
    assert search.function(**arguments) == "Dune"


def test_google_style_docstring_gives_descriptions() -> None:
    @tool
    def convert(amount: float, currency: str, rounding: int = 2) -> str:
        """Convert money between currencies.

        Uses the rates of the day.

        Args:
            amount: How much money.
            currency (str): ISO code of the target currency.
            rounding: Decimal places.

        Returns:
            The converted amount.
        """
        return ""

    assert convert.description == "Convert money between currencies.\n\nUses the rates of the day."
    assert convert.parameters["properties"] == {
        "amount": {"description": "How much money.", "type": "number"},
        "currency": {"description": "ISO code of the target currency.", "type": "string"},
        "rounding": {"default": 2, "description": "Decimal places.", "type": "integer"},
    }
    assert convert.parameters["required"] == ["amount", "currency"]


def test_annotated_description_wins_over_docstring() -> None:
    @tool
    def greet(name: Annotated[str, Field(description="from Field")]) -> str:
        """Greet.

        Args:
            name: from the docstring
        """
        return name

    assert greet.parameters["properties"]["name"]["description"] == "from Field"
    assert greet.description == "Greet."


# --------------------------------------------------------------------------- input validation


def test_valid_input_becomes_keyword_arguments() -> None:
    add = SCENARIO_TOOLS["add"]
    arguments = add.validate('{"a": 2, "b": 3}')
    assert arguments == {"a": 2, "b": 3}
    assert add.function(**arguments) == "5"


def test_defaults_fill_missing_optional_arguments() -> None:
    @tool
    def search(query: str, limit: int = 5) -> str:
        """Search."""
        return query

    assert search.validate('{"query": "x"}') == {"query": "x", "limit": 5}


def test_unknown_keys_are_ignored() -> None:
    assert weather.validate('{"location": "Rome", "unit": "C"}') == {"location": "Rome"}


@pytest.mark.parametrize("empty", ["", "  ", "{}"])
def test_empty_input_for_a_tool_without_arguments(empty: str) -> None:
    @tool
    def now() -> str:
        """The time."""
        return "noon"

    assert now.validate(empty) == {}


def test_missing_field_error_names_the_tool_and_the_field() -> None:
    with pytest.raises(ToolInputError) as raised:
        weather.validate('{"city": "Rome"}')
    message = str(raised.value)
    assert "'weather'" in message
    assert "location" in message
    assert "required" in message.lower()


def test_wrong_type_error_names_the_field() -> None:
    with pytest.raises(ToolInputError, match=r"\bb\b.*integer"):
        SCENARIO_TOOLS["add"].validate('{"a": 2, "b": "three"}')


def test_nested_field_error_names_the_path() -> None:
    @tool
    def pack(box: Box) -> str:
        """Pack."""
        return box.label

    with pytest.raises(ToolInputError, match=r"inner\.limit"):
        pack.validate('{"label": "x", "inner": {"title": "t", "limit": "many"}}')


@pytest.mark.parametrize("bad", ['{"location": ', "not json", "[1, 2]", "null", '"Rome"'])
def test_malformed_or_non_object_input_is_a_tool_input_error(bad: str) -> None:
    with pytest.raises(ToolInputError, match="'weather'"):
        weather.validate(bad)


def test_prepare_tool_call_marks_invalid_calls_with_their_error() -> None:
    tools = {"weather": weather}
    bad = ToolCallPart(tool_call_id="c1", tool_name="weather", input="{}")
    checked, prepared = prepare_tool_call(bad, tools)
    assert prepared is None
    assert checked.invalid is True
    assert checked.error is not None and "location" in checked.error
    assert checked.tool_call_id == "c1" and checked.input == "{}"
    assert bad.invalid is False  # the original is not mutated

    unknown = ToolCallPart(tool_call_id="c2", tool_name="forecast", input="{}")
    checked, prepared = prepare_tool_call(unknown, tools)
    assert prepared is None
    assert checked.invalid is True
    assert checked.error is not None and "forecast" in checked.error and "weather" in checked.error


def test_prepare_tool_call_accepts_a_previously_invalid_call_once_fixed() -> None:
    fixed = ToolCallPart(
        tool_call_id="c1", tool_name="weather", input='{"location": "Rome"}', invalid=True, error="old"
    )
    checked, prepared = prepare_tool_call(fixed, {"weather": weather})
    assert checked.invalid is False and checked.error is None
    assert prepared is not None and prepared.arguments == {"location": "Rome"}


# --------------------------------------------------------------------------- output encoding


def test_string_output_is_sent_as_is() -> None:
    assert encode_tool_output("40 C") == "40 C"
    assert encode_tool_output('{"already": "json"}') == '{"already": "json"}'
    assert encode_tool_output("") == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (5, 5),
        (2.5, 2.5),
        (None, None),
        (True, True),
        ({"temp": 40, "unit": "C"}, {"temp": 40, "unit": "C"}),
        (["a", "é"], ["a", "é"]),
        (Point(x=1, y=2), {"x": 1, "y": 2}),
        (Query(title="t"), {"title": "t", "limit": 10}),
    ],
    ids=["int", "float", "none", "bool", "dict", "list", "dataclass", "model"],
)
def test_non_string_output_is_json(value: object, expected: object) -> None:
    encoded = encode_tool_output(value)
    assert isinstance(encoded, str)
    assert json.loads(encoded) == expected


def test_unresolvable_annotation_is_a_user_error_naming_the_tool() -> None:
    @tool
    def lookup(query: NotDefinedAnywhere) -> str:  # type: ignore[name-defined]  # noqa: F821
        """Look something up."""
        return ""

    with pytest.raises(UserError, match=r"'lookup'.*NotDefinedAnywhere"):
        lookup.definition()


def test_wrapped_args_descriptions_are_joined() -> None:
    @tool
    def forecast(city: str, days: int = 1) -> str:
        """Forecast the weather.

        Args:
            city: The city to look up,
                wrapped onto a second line.
            days: How many days.

        Returns:
            The forecast.
        """
        return ""

    properties = forecast.parameters["properties"]
    assert properties["city"]["description"] == "The city to look up, wrapped onto a second line."
    assert properties["days"]["description"] == "How many days."
    assert forecast.description == "Forecast the weather."


# --- parameters pydantic cannot describe fail at @tool ------------------------------------


def test_a_parameter_pydantic_has_no_schema_for_fails_at_decoration_naming_it() -> None:
    with pytest.raises(UserError, match=r"tool 'locked'.*parameter 'guard'.*lock"):

        @tool
        def locked(city: str, guard: threading.Lock) -> str:  # pyright: ignore[reportUnusedFunction]
            """Use a lock."""
            return city


def test_a_parameter_with_no_json_schema_fails_at_decoration_naming_it() -> None:
    with pytest.raises(UserError, match=r"tool 'callback'.*parameter 'then'"):

        @tool
        def callback(then: Callable[[int], int], count: int = 1) -> int:  # pyright: ignore[reportUnusedFunction]
            """Call back."""
            return then(count)


def test_annotations_naming_types_defined_later_still_resolve_on_first_use() -> None:
    namespace: dict[str, object] = {}
    exec(
        "from __future__ import annotations\n"
        "from reverie import tool\n"
        "@tool\n"
        "def later(value: Later) -> str:\n"
        "    return str(value)\n"
        "from dataclasses import dataclass\n"
        "@dataclass\n"
        "class Later:\n"
        "    number: int\n",
        namespace,
    )
    later = namespace["later"]
    assert isinstance(later, FunctionTool)
    assert later.parameters["properties"]["value"]["$ref"].startswith("#/$defs/")

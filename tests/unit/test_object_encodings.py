"""How each codec asks for an object: native JSON output where the provider has it, else a forced tool."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reverie import Call, Message, ResponseFormat
from reverie.providers import anthropic, google, openai, openaicompat, openrouter, vercel
from reverie.providers._openai_chat.encode import strict_schema

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "pets": {"type": "array", "items": {"type": "object", "properties": {"kind": {"type": "string"}}}},
        "home": {"anyOf": [{"type": "object", "properties": {}}, {"type": "null"}]},
    },
    "required": ["name"],
}
FORMAT = ResponseFormat(schema=SCHEMA, name="Person", description="A person")


def _body(provider: Any, call: Call) -> dict[str, Any]:
    return json.loads(provider.language_model("m").prepare(call, stream=False).content)


@pytest.mark.parametrize(
    ("provider", "mode", "json_output"),
    [
        (openai.Provider(api_key="k"), "json", True),
        (openaicompat.Provider(api_key="k", base_url="https://example.test/v1"), "tool", True),
        (openrouter.Provider(api_key="k"), "tool", True),
        (vercel.Provider(api_key="k"), "tool", True),
        (anthropic.Provider(api_key="k"), "tool", False),
        (google.Provider(api_key="k"), "json", True),
    ],
)
def test_each_provider_declares_its_object_modes(provider: Any, mode: str, json_output: bool) -> None:
    model = provider.language_model("m")
    assert (model.object_mode, model.supports_json_output) == (mode, json_output)


def test_openai_chat_sends_a_strict_json_schema() -> None:
    body = _body(openai.Provider(api_key="k"), Call(prompt=[Message.user("hi")], response_format=FORMAT))
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "Person",
            "strict": True,
            "description": "A person",
            "schema": strict_schema(SCHEMA),
        },
    }
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["pets"]["items"]["additionalProperties"] is False
    assert schema["properties"]["home"]["anyOf"][0]["additionalProperties"] is False
    assert "additionalProperties" not in schema["properties"]["name"]


def test_openai_chat_omits_a_missing_description() -> None:
    call = Call(prompt=[Message.user("hi")], response_format=ResponseFormat(schema=SCHEMA, name="P"))
    assert "description" not in _body(openai.Provider(api_key="k"), call)["response_format"]["json_schema"]


def test_strict_schema_keeps_an_explicit_additional_properties_and_the_input() -> None:
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert strict_schema(schema) == schema
    strict_schema(SCHEMA)
    assert "additionalProperties" not in SCHEMA


def test_gemini_sends_the_json_schema_with_a_json_mime_type() -> None:
    call = Call(prompt=[Message.user("hi")], response_format=FORMAT, max_output_tokens=10)
    config = _body(google.Provider(api_key="k"), call)["generationConfig"]
    assert config == {
        "maxOutputTokens": 10,
        "responseMimeType": "application/json",
        "responseJsonSchema": SCHEMA,
    }


def test_anthropic_warns_that_it_ignores_a_response_format() -> None:
    model = anthropic.Provider(api_key="k").language_model("m")
    request = model.prepare(Call(prompt=[Message.user("hi")], response_format=FORMAT), stream=False)
    assert [warning.setting for warning in request.warnings] == ["response_format"]
    assert "response_format" not in json.loads(request.content)

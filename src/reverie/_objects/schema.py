"""Object schemas: the JSON schema a type or dict becomes on the wire, and validation of replies.

A type (a pydantic model, dataclass, TypedDict, ``list[...]``: anything pydantic's
``TypeAdapter`` accepts) gives its JSON schema with pydantic's ``title`` keys dropped and
``$defs`` inlined, so a pydantic model and the equivalent hand-written dict send the same
request body. Replies to a type are validated into it; replies to a dict schema stay plain
JSON values and get a structural check (types, required keys, properties, items).

Does not: implement all of JSON Schema for dict schemas (no formats, patterns or
combinators), or talk to a model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from reverie._errors import NoObjectGeneratedError, UserError
from reverie._objects.partial import json_text

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from reverie._content import FinishReason, Usage

_LITERAL_SCHEMA_KEYS = frozenset({"default", "const", "enum", "examples"})
_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
DEFAULT_SCHEMA_NAME = "response"
"""The name of a dict schema given without ``schema_name`` (the Vercel AI SDK's default)."""


class SchemaValidationError(ValueError):
    """A reply that does not fit a dict schema; the message lists each problem with its path."""


@dataclass(slots=True, kw_only=True)
class ObjectSchema:
    """What the model is asked for and how its reply is checked.

    Build one with ``ObjectSchema.build``.
    """

    json_schema: dict[str, Any]
    """The schema sent on the wire (no titles, ``$defs`` inlined)."""
    name: str
    description: str | None = None
    output_type: Any = None
    """The type replies are validated into; ``None`` for a dict schema."""
    _adapter: TypeAdapter[Any] | None = field(default=None, repr=False)

    @classmethod
    def build(cls, schema: Any, *, name: str | None = None, description: str | None = None) -> ObjectSchema:
        """The schema of a JSON-schema ``dict`` or of a type pydantic can validate.

        Raises:
            UserError: ``schema`` is neither a dict nor a type pydantic understands.
        """
        if isinstance(schema, dict):
            json_schema = normalize_schema(cast(dict[str, Any], schema))
            return cls(json_schema=json_schema, name=name or DEFAULT_SCHEMA_NAME, description=description)
        from pydantic import PydanticUserError, TypeAdapter

        try:
            adapter: TypeAdapter[Any] = TypeAdapter(schema)
            raw = adapter.json_schema()
        except (PydanticUserError, TypeError) as error:
            raise UserError(f"cannot build a JSON schema from {schema!r}: {error}") from error
        type_name = getattr(schema, "__name__", None)
        # A model's docstring becomes the schema's top-level description; as with tools, the
        # description is sent beside the schema and not inside it twice.
        return cls(
            json_schema=normalize_schema(raw),
            name=name or (type_name if isinstance(type_name, str) else DEFAULT_SCHEMA_NAME),
            description=description,
            output_type=schema,
            _adapter=adapter,
        )

    def parse(
        self, raw_text: str, *, usage: Usage, finish_reason: FinishReason, what: str = "reply text"
    ) -> Any:
        """Parse the model's JSON text and validate it (see ``validate``).

        Args:
            raw_text: The reply (a Markdown fence around it is tolerated) or tool input.
            usage: The call's usage, kept on the error.
            finish_reason: The call's finish reason, kept on the error.
            what: What ``raw_text`` is, for the error message.

        Raises:
            NoObjectGeneratedError: ``raw_text`` is empty, not JSON, or does not fit the
                schema; its message says which, in words a model can act on.
        """
        import pydantic_core

        def failure(message: str, error: BaseException | None) -> NoObjectGeneratedError:
            return NoObjectGeneratedError(
                f"no object generated: {message}",
                raw_text=raw_text,
                error=error,
                usage=usage,
                finish_reason=finish_reason,
            )

        if not raw_text.strip():
            raise failure(f"the model returned no {what} (finish reason {finish_reason!r})", None)
        text = json_text(raw_text)
        try:
            value = pydantic_core.from_json(text)
        except ValueError as error:
            embedded = _embedded_json(text)
            if embedded is None:
                raise failure(f"the {what} is not valid JSON ({error})", error) from error
            value = embedded
        try:
            return self.validate(value)
        except ValueError as error:  # pydantic's ValidationError and SchemaValidationError
            raise failure(f"the {what} does not match the schema: {error}", error) from error

    def validate(self, value: Any) -> Any:
        """``value`` (plain JSON) checked against the schema: an instance of the type, or ``value``.

        Raises:
            pydantic.ValidationError: for a type, when ``value`` does not fit it.
            SchemaValidationError: for a dict schema, when ``value`` does not fit it.
        """
        if self._adapter is not None:
            return self._adapter.validate_python(value)
        problems = list(_check(value, self.json_schema, "$"))
        if problems:
            raise SchemaValidationError("; ".join(problems))
        return value


def _embedded_json(text: str) -> Any:
    """The object or array inside prose ("Here it is: {...} Hope this helps"), or ``None``.

    Models asked for JSON in the prompt (``mode="text"``) sometimes wrap it in a sentence;
    the span from the first ``{`` or ``[`` to the last matching closer is tried once.
    """
    import pydantic_core

    starts = [index for index in (text.find("{"), text.find("[")) if index >= 0]
    if not starts:
        return None
    start = min(starts)
    end = text.rfind("}" if text[start] == "{" else "]")
    if end <= start:
        return None
    try:
        return pydantic_core.from_json(text[start : end + 1])
    except ValueError:
        return None


def normalize_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with ``title`` keys removed and ``$defs`` references inlined.

    A recursive schema cannot be inlined: its ``$defs`` and ``$ref``s are kept as they are.
    """
    stripped = cast(dict[str, Any], strip_titles(schema))
    definitions = cast(dict[str, Any], stripped.pop("$defs", None) or {})
    if not definitions:
        return stripped
    try:
        return cast(dict[str, Any], _inline(stripped, definitions, ()))
    except _RecursiveSchema:
        return {**stripped, "$defs": definitions}


def strip_titles(schema: Any) -> Any:
    """Remove pydantic's ``title`` annotations, but not properties that happen to be named title."""
    if isinstance(schema, dict):
        result: dict[str, Any] = {}
        for key, value in cast(dict[str, Any], schema).items():
            if key == "title" and isinstance(value, str):
                continue
            if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                result[key] = {name: strip_titles(sub) for name, sub in cast(dict[str, Any], value).items()}
            elif key in _LITERAL_SCHEMA_KEYS:
                result[key] = value  # data, not schema: a default of {"title": "x"} stays as is
            else:
                result[key] = strip_titles(value)
        return result
    if isinstance(schema, list):
        return [strip_titles(item) for item in cast(list[Any], schema)]
    return schema


class _RecursiveSchema(Exception):
    pass


def _inline(node: Any, definitions: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, definitions, seen) for item in cast(list[Any], node)]
    if not isinstance(node, dict):
        return node
    mapping = cast(dict[str, Any], node)
    reference = mapping.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        name = reference.removeprefix("#/$defs/")
        if name in seen:
            raise _RecursiveSchema(name)
        target = _inline(copy.deepcopy(definitions[name]), definitions, (*seen, name))
        # pydantic puts a field's description beside the $ref: {"$ref": ..., "description": ...}
        siblings = {key: value for key, value in mapping.items() if key != "$ref"}
        return {**target, **{key: _inline(value, definitions, seen) for key, value in siblings.items()}}
    result: dict[str, Any] = {}
    for key, value in mapping.items():
        result[key] = value if key in _LITERAL_SCHEMA_KEYS else _inline(value, definitions, seen)
    return result


def _check(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    """The ways ``value`` breaks the structural parts of ``schema`` (type, required, properties, items)."""
    expected = schema.get("type")
    if isinstance(expected, str) and expected in _JSON_TYPES:
        allowed = _JSON_TYPES[expected]
        # bool is an int in Python but not a JSON number; 1.0 is a JSON integer.
        if isinstance(value, bool) and expected != "boolean":
            return [f"{path}: expected {expected}, got boolean"]
        if expected == "integer" and isinstance(value, float) and value.is_integer():
            return []
        if not isinstance(value, allowed):
            return [f"{path}: expected {expected}, got {_json_type(value)}"]
    problems: list[str] = []
    if isinstance(value, dict):
        mapping = cast(dict[str, Any], value)
        problems.extend(
            f"{path}: missing required property {key!r}"
            for key in cast(list[str], schema.get("required") or [])
            if key not in mapping
        )
        properties = cast(dict[str, Any], schema.get("properties") or {})
        for key, sub in properties.items():
            if key in mapping and isinstance(sub, dict):
                problems.extend(_check(mapping[key], cast(dict[str, Any], sub), f"{path}.{key}"))
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, dict):
        for index, item in enumerate(cast(list[Any], value)):
            problems.extend(_check(item, cast(dict[str, Any], items), f"{path}[{index}]"))
    return problems


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    for name, types in _JSON_TYPES.items():
        if name != "number" and isinstance(value, types):
            return name
    return "number" if isinstance(value, float) else type(value).__name__

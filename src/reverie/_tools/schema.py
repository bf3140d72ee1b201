"""Input schemas from Python signatures: the pydantic input model and its JSON schema.

The schema is built from the signature with pydantic (``Annotated[..., Field(description=...)]``
or a Google-style ``Args:`` section give parameter descriptions) or taken from a single
pydantic-model parameter, with ``title`` keys removed so that it equals the recorded
``{"properties": ..., "required": [...], "type": "object"}``. pydantic is imported here
only when a schema is first built.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast, get_type_hints

from reverie._errors import UserError
from reverie._tools.protocol import ToolInputError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError


@functools.cache
def _args_section() -> re.Pattern[str]:
    """The ``Args:`` heading of a Google-style docstring (compiled on first use, not on import)."""
    return re.compile(r"^\s*(Args|Arguments|Parameters):\s*$", re.MULTILINE)


@functools.cache
def _arg_line() -> re.Pattern[str]:
    """One argument line of that section: name, optional type, description (compiled on first use)."""
    return re.compile(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.+)$")


def input_model(
    function: Callable[..., Any], name: str, signature: inspect.Signature, arg_docs: dict[str, str]
) -> tuple[type[BaseModel], str | None]:
    """The pydantic model of a function's input and, for a single model parameter, its name."""
    from pydantic import BaseModel, ConfigDict, Field, create_model

    try:
        hints = get_type_hints(function, include_extras=True)
    except (NameError, TypeError) as error:
        raise UserError(
            f"tool {name!r}: cannot resolve the parameter annotations ({error}); "
            "define the types at module level"
        ) from error
    parameters = list(signature.parameters.values())
    if len(parameters) == 1:
        only = hints.get(parameters[0].name)
        if isinstance(only, type) and issubclass(only, BaseModel):
            return only, parameters[0].name
    fields: dict[str, Any] = {}
    for parameter in parameters:
        annotation = hints.get(parameter.name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        if parameter.name in arg_docs and not _has_description(annotation):
            fields[parameter.name] = (annotation, Field(default, description=arg_docs[parameter.name]))
        else:
            fields[parameter.name] = (annotation, default)
    from pydantic import PydanticUserError

    try:
        model = create_model(  # pyright: ignore[reportCallIssue, reportUnknownVariableType]
            f"{name}_input",
            __config__=ConfigDict(extra="ignore"),
            **fields,
        )
    except PydanticUserError as error:
        raise _indescribable(name, hints, parameters, error) from error
    return model, None


def json_schema(model: type[BaseModel], tool_name: str, single: str | None = None) -> dict[str, Any]:
    """The JSON schema of ``model`` without pydantic's ``title`` keys.

    Raises:
        UserError: a parameter's type has no JSON schema; the message names the tool and it.
    """
    from pydantic import PydanticUserError

    try:
        from reverie._objects.schema import strip_titles

        return cast(dict[str, Any], strip_titles(model.model_json_schema()))
    except PydanticUserError as error:
        if single is not None:
            raise UserError(
                f"tool {tool_name!r}: parameter {single!r} ({model.__name__}) cannot be described "
                f"as JSON schema: {error.message}"
            ) from error
        fields = {field_name: field.annotation for field_name, field in model.model_fields.items()}
        parameters = [inspect.Parameter(field_name, inspect.Parameter.KEYWORD_ONLY) for field_name in fields]
        raise _indescribable(tool_name, fields, parameters, error) from error


def annotations_resolve(function: Callable[..., Any]) -> bool:
    """Whether every annotation of ``function`` names a type that exists now."""
    try:
        get_type_hints(function, include_extras=True)
    except (NameError, TypeError):
        return False
    return True


def _indescribable(
    tool_name: str, hints: dict[str, Any], parameters: list[inspect.Parameter], error: Exception
) -> UserError:
    """The error for a parameter whose type pydantic cannot describe, naming the first such one."""
    from pydantic import PydanticUserError, TypeAdapter

    detail = str(getattr(error, "message", error)).strip().splitlines()[0]
    for parameter in parameters:
        annotation = hints.get(parameter.name, Any)
        try:
            TypeAdapter(annotation).json_schema()
        except PydanticUserError:
            return UserError(
                f"tool {tool_name!r}: parameter {parameter.name!r} has a type pydantic cannot describe "
                f"as JSON schema ({_type_name(annotation)}): {detail}"
            )
    return UserError(f"tool {tool_name!r}: its parameters cannot be described as JSON schema: {detail}")


def _type_name(annotation: Any) -> str:
    return annotation.__qualname__ if isinstance(annotation, type) else repr(annotation)


def validate_input(model: type[BaseModel], tool_name: str, input_json: str) -> BaseModel:
    """Parse and validate the model's JSON input, or raise ``ToolInputError`` describing why not."""
    try:
        return model.model_validate_json(input_json.strip() or "{}")
    except ValueError as error:  # pydantic's ValidationError is one; imported only when raised
        from pydantic import ValidationError

        if not isinstance(error, ValidationError):
            raise
        raise ToolInputError(_describe_validation(tool_name, error)) from None


def _describe_validation(name: str, error: ValidationError) -> str:
    problems: list[str] = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "input"
        if item["type"] == "json_invalid":
            problems.append(f"input is not valid JSON ({item['msg']})")
        else:
            problems.append(f"{location}: {item['msg']}")
    return f"invalid input for tool {name!r}: " + "; ".join(problems)


def _has_description(annotation: Any) -> bool:
    return any(getattr(meta, "description", None) for meta in getattr(annotation, "__metadata__", ()))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _indent_of_args(doc: str, start: int) -> int:
    """The indentation of the first entry of an ``Args:`` section."""
    for line in doc[start:].splitlines():
        if line.strip():
            return _indent(line)
    return 0


def split_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into the summary and the ``Args:`` descriptions."""
    match = _args_section().search(doc)
    if match is None:
        return doc.strip(), {}
    summary = doc[: match.start()].strip()
    descriptions: dict[str, str] = {}
    current: str | None = None
    entry_indent = _indent_of_args(doc, match.end())
    for line in doc[match.end() :].splitlines():
        if line.strip() and not line.startswith((" ", "\t")):
            break  # the next section
        found = _arg_line().match(line)
        if found is not None and (current is None or _indent(line) <= entry_indent):
            name: str = found.group(1)
            descriptions[name] = found.group(2).strip()
            current = name
        elif current is not None and line.strip():
            # A wrapped description continues on more-indented lines.
            descriptions[current] = f"{descriptions[current]} {line.strip()}"
    return summary, descriptions

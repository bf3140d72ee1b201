"""Tools: typed Python functions the model can call.

``@tool`` turns a function into a ``Tool``. The input schema is built from the signature
with pydantic (``Annotated[..., Field(description=...)]`` gives parameter descriptions) or
taken from a single pydantic-model parameter, with ``title`` keys removed so it equals the
recorded ``{"properties": ..., "required": [...], "type": "object"}``. The same pydantic
model validates the model's JSON input. Schema work happens on first use, not at import.

Running tools is not done here (see ``reverie._concurrency``); this module only prepares
calls and encodes results, purely.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, cast, get_type_hints, overload

from reverie._content import ToolCallPart
from reverie._errors import UserError
from reverie._model import ToolDefinition

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

P = ParamSpec("P")
R = TypeVar("R")

_ARGS_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters):\s*$", re.MULTILINE)
_ARG_LINE = re.compile(r"^\s+(\w+)(?:\s*\([^)]*\))?:\s*(.+)$")
_LITERAL_SCHEMA_KEYS = frozenset({"default", "const", "enum", "examples"})


class Tool(Generic[P, R]):
    """A function the model may call, with its name, description and input schema.

    A ``Tool`` is still callable like the function it wraps.
    """

    def __init__(
        self,
        function: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        parallel: bool = False,
    ) -> None:
        if not callable(function):
            raise UserError(f"@tool expects a function, got {type(function).__name__}")
        self.function = function
        self.name = name or function.__name__
        self._description = description
        self.parallel = parallel
        """Calls of parallel tools in one step run concurrently."""
        self.is_async = inspect.iscoroutinefunction(function)
        self._signature = inspect.signature(function)
        for parameter in self._signature.parameters.values():
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
                raise UserError(f"tool {self.name!r}: *args and **kwargs cannot be described to a model")

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, parallel={self.parallel})"

    @cached_property
    def _docs(self) -> tuple[str, dict[str, str]]:
        return _split_docstring(inspect.getdoc(self.function) or "")

    @property
    def description(self) -> str:
        """The description the model reads (the docstring unless given)."""
        return self._description if self._description is not None else self._docs[0]

    @cached_property
    def _input_model(self) -> tuple[type[BaseModel], str | None]:
        """The pydantic model of the input and, for a single model parameter, its name."""
        from pydantic import BaseModel, ConfigDict, Field, create_model

        try:
            hints = get_type_hints(self.function, include_extras=True)
        except (NameError, TypeError) as error:
            raise UserError(
                f"tool {self.name!r}: cannot resolve the parameter annotations ({error}); "
                "define the types at module level"
            ) from error
        parameters = list(self._signature.parameters.values())
        if len(parameters) == 1:
            only = hints.get(parameters[0].name)
            if isinstance(only, type) and issubclass(only, BaseModel):
                return only, parameters[0].name
        fields: dict[str, Any] = {}
        arg_docs = self._docs[1]
        for parameter in parameters:
            annotation = hints.get(parameter.name, Any)
            default = ... if parameter.default is parameter.empty else parameter.default
            if parameter.name in arg_docs and not _has_description(annotation):
                fields[parameter.name] = (annotation, Field(default, description=arg_docs[parameter.name]))
            else:
                fields[parameter.name] = (annotation, default)
        model = create_model(  # pyright: ignore[reportCallIssue, reportUnknownVariableType]
            f"{self.name}_input",
            __config__=ConfigDict(extra="ignore"),
            **fields,
        )
        return model, None

    @cached_property
    def parameters(self) -> dict[str, Any]:
        """The JSON schema of the input, without ``title`` keys."""
        model, _ = self._input_model
        return cast(dict[str, Any], _strip_titles(model.model_json_schema()))

    def definition(self) -> ToolDefinition:
        """The tool as sent to the model."""
        return ToolDefinition(name=self.name, description=self.description, parameters=self.parameters)

    def parse_arguments(self, input_json: str) -> dict[str, Any]:
        """Validate the model's JSON input into keyword arguments for the function.

        Raises:
            ToolInputError: the input is not JSON or does not fit the schema.
        """
        from pydantic import ValidationError

        model, single = self._input_model
        try:
            value = model.model_validate_json(input_json.strip() or "{}")
        except ValidationError as error:
            raise ToolInputError(_describe_validation(self.name, error)) from None
        if single is not None:
            return {single: value}
        return {name: getattr(value, name) for name in type(value).model_fields}


class ToolInputError(ValueError):
    """The model's input for a tool could not be parsed or validated."""


@overload
def tool(function: Callable[P, R], /) -> Tool[P, R]: ...


@overload
def tool(
    *, name: str | None = None, description: str | None = None, parallel: bool = False
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    function: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    parallel: bool = False,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Make a function callable by the model; use bare (``@tool``) or with options.

    Args:
        function: The function (sync or async) when used bare.
        name: The name the model sees (default: the function's name).
        description: What the tool does (default: the docstring, without its ``Args:`` section).
        parallel: Let calls of this tool in one step run concurrently with other parallel calls.
    """
    if function is not None:
        return Tool(function, name=name, description=description, parallel=parallel)

    def decorate(inner: Callable[P, R]) -> Tool[P, R]:
        return Tool(inner, name=name, description=description, parallel=parallel)

    return decorate


@dataclass(slots=True, frozen=True)
class PreparedToolCall:
    """A valid call, ready to run."""

    call: ToolCallPart
    tool: Tool[..., Any]
    arguments: dict[str, Any]


def prepare_tool_call(
    call: ToolCallPart, tools: Mapping[str, Tool[..., Any]]
) -> tuple[ToolCallPart, PreparedToolCall | None]:
    """Check ``call`` against the tools; an invalid call comes back marked with its error."""
    found = tools.get(call.tool_name)
    if found is None:
        available = ", ".join(sorted(tools)) or "none"
        return _invalid(call, f"unknown tool {call.tool_name!r}; available tools: {available}"), None
    try:
        arguments = found.parse_arguments(call.input)
    except ToolInputError as error:
        return _invalid(call, str(error)), None
    if call.invalid:
        call = _copy_call(call, invalid=False, error=None)
    return call, PreparedToolCall(call=call, tool=found, arguments=arguments)


def encode_tool_output(value: object) -> str:
    """A ``str`` is sent as is; anything else as JSON."""
    if isinstance(value, str):
        return value
    import pydantic_core
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return pydantic_core.to_json(value).decode()


def describe_tool_error(error: BaseException) -> str:
    """The text the model receives when a tool raises."""
    detail = str(error)
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__


def _invalid(call: ToolCallPart, error: str) -> ToolCallPart:
    return _copy_call(call, invalid=True, error=error)


def _copy_call(call: ToolCallPart, *, invalid: bool, error: str | None) -> ToolCallPart:
    return ToolCallPart(
        tool_call_id=call.tool_call_id,
        tool_name=call.tool_name,
        input=call.input,
        invalid=invalid,
        error=error,
        provider_executed=call.provider_executed,
        provider_metadata=call.provider_metadata,
        provider_options=call.provider_options,
    )


def _describe_validation(name: str, error: ValidationError) -> str:
    problems: list[str] = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "input"
        if item["type"] == "json_invalid":
            problems.append(f"input is not valid JSON ({item['msg']})")
        else:
            problems.append(f"{location}: {item['msg']}")
    return f"invalid input for tool {name!r}: " + "; ".join(problems)


def _strip_titles(schema: Any) -> Any:
    """Remove pydantic's ``title`` annotations, but not properties that happen to be named title."""
    if isinstance(schema, dict):
        result: dict[str, Any] = {}
        for key, value in cast(dict[str, Any], schema).items():
            if key == "title" and isinstance(value, str):
                continue
            if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                result[key] = {name: _strip_titles(sub) for name, sub in cast(dict[str, Any], value).items()}
            elif key in _LITERAL_SCHEMA_KEYS:
                result[key] = value  # data, not schema: a default of {"title": "x"} stays as is
            else:
                result[key] = _strip_titles(value)
        return result
    if isinstance(schema, list):
        return [_strip_titles(item) for item in cast(list[Any], schema)]
    return schema


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


def _split_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into the summary and the ``Args:`` descriptions."""
    match = _ARGS_SECTION.search(doc)
    if match is None:
        return doc.strip(), {}
    summary = doc[: match.start()].strip()
    descriptions: dict[str, str] = {}
    current: str | None = None
    entry_indent = _indent_of_args(doc, match.end())
    for line in doc[match.end() :].splitlines():
        if line.strip() and not line.startswith((" ", "\t")):
            break  # the next section
        found = _ARG_LINE.match(line)
        if found is not None and (current is None or _indent(line) <= entry_indent):
            name: str = found.group(1)
            descriptions[name] = found.group(2).strip()
            current = name
        elif current is not None and line.strip():
            # A wrapped description continues on more-indented lines.
            descriptions[current] = f"{descriptions[current]} {line.strip()}"
    return summary, descriptions

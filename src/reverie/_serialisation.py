"""``to_json`` / ``from_json``: messages, parts, results and paused runs as versioned JSON documents.

Every document is one JSON object::

    {"format_version": 1, "type": "Message", "data": {...}}
    {"format_version": 1, "type": "list[ContentPart]", "data": [{...}, ...]}

``type`` names the class of ``data`` (``list[...]``: a list of them, named by the one class its
items share or, when they differ, by the narrowest of ``ContentPart``, ``ModelStreamPart`` and
``AgentStreamPart`` that holds them all; ``list[]`` for an empty list). ``data`` is the object
as pydantic's ``TypeAdapter`` writes it: every dataclass field by name, bytes as base64. The
format is documented, and kept stable, in ``docs/serialisation.md``.

The errors a ``retry`` part carries are written as their class name, message, status code,
retry decision and URL, and read back as a ``ProviderError`` (for a ``ProviderError`` and its
subclasses) or a ``RestoredError``.

pydantic is imported on the first call, never by ``import reverie``. This module does not
decide what a paused run does next (``reverie._run.approval``), and it does not write files.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from reverie import _json
from reverie._content import (
    FilePart,
    Message,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from reverie._cost import Cost
from reverie._errors import (
    DeadlineExceededError,
    ProviderError,
    RestoredError,
    RetryError,
    ReverieError,
    UserError,
)
from reverie._parts import (
    FinishPart,
    OutputPart,
    RateLimitWaitPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ReasoningStartPart,
    RetryPart,
    StepFinishPart,
    StepStartPart,
    StreamStartPart,
    TextDeltaPart,
    TextEndPart,
    TextStartPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolInputStartPart,
)
from reverie._results import AgentResult, StepResult

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["FORMAT_VERSION", "from_json", "to_json"]

T = TypeVar("T")

FORMAT_VERSION = 1
"""The version of the document format this module writes and the only one it reads."""

_CONTENT_PARTS: tuple[type, ...] = (
    TextPart,
    ReasoningPart,
    ToolCallPart,
    ToolResultPart,
    FilePart,
    SourcePart,
)
_MODEL_STREAM_PARTS: tuple[type, ...] = (
    StreamStartPart,
    TextStartPart,
    TextDeltaPart,
    TextEndPart,
    ReasoningStartPart,
    ReasoningDeltaPart,
    ReasoningEndPart,
    ToolInputStartPart,
    ToolInputDeltaPart,
    ToolInputEndPart,
    ToolCallPart,
    ToolResultPart,
    SourcePart,
    FilePart,
    FinishPart,
    RateLimitWaitPart,
)
_AGENT_STREAM_PARTS: tuple[type, ...] = (
    *_MODEL_STREAM_PARTS,
    StepStartPart,
    StepFinishPart,
    RetryPart,
    OutputPart,
)
_UNIONS: dict[str, frozenset[type]] = {
    "ContentPart": frozenset(_CONTENT_PARTS),
    "ModelStreamPart": frozenset(_MODEL_STREAM_PARTS),
    "AgentStreamPart": frozenset(_AGENT_STREAM_PARTS),
}
"""The unions a list document may be named by, narrowest first."""
_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (*_CONTENT_PARTS, *_AGENT_STREAM_PARTS, Message, StepResult, AgentResult, Usage, Cost)
}
"""Every class a document may hold, by the name its ``type`` gives."""
_PARTS_BY_TAG: dict[str, type] = {
    cls.__dataclass_fields__["type"].default: cls for cls in (*_CONTENT_PARTS, *_AGENT_STREAM_PARTS)
}
"""Each part class by the value of its own ``type`` field (``"text"``, ``"tool_call"``, ...)."""
_PROVIDER_ERROR_NAMES = frozenset({"ProviderError", "TooManyOpenFilesError"})
_NOTHING: frozenset[type] = frozenset()


def to_json(obj: object) -> str:
    """``obj`` as a versioned JSON document (see ``docs/serialisation.md``).

    Args:
        obj: A ``Message``, a content part, a stream part, a ``StepResult``, an ``AgentResult``
            (a paused one included), a ``Usage`` or a ``Cost``; or a list of one kind of them.

    Raises:
        UserError: ``obj`` is of another type, or holds a value JSON cannot (a typed output
            that pydantic cannot serialise).
    """
    if isinstance(obj, list):
        items = cast(list[object], obj)
        name = f"list[{_list_name(items)}]"
        data: Any = [_dump(item) for item in items]
    else:
        name = _class_name(obj)
        data = _dump(obj)
    return _json.dumps({"format_version": FORMAT_VERSION, "type": name, "data": data})


@overload
def from_json(data: str | bytes, type: type[T]) -> T: ...


@overload
def from_json(data: str | bytes, type: Any) -> Any: ...


def from_json(data: str | bytes, type: Any) -> Any:
    """Read back a document ``to_json`` wrote, as an object of ``type``.

    Args:
        data: The JSON document.
        type: What the document must hold: one of the classes ``to_json`` takes, a union of
            them (``reverie.ContentPart``, ``ModelStreamPart``, ``AgentStreamPart``), a
            ``list[...]`` of those, or ``AgentResult[Model]`` to validate a typed output into
            ``Model`` (``AgentResult`` alone leaves it plain JSON).

    Raises:
        UserError: ``data`` is not JSON, not a reverie document, has another ``format_version``,
            holds something other than ``type``, or does not fit it.
    """
    document = _read_document(data)
    name = document["type"]
    payload = document.get("data")
    is_list, accepted, output_type = _target(type)
    described = _describe(type)
    if is_list != name.startswith("list["):
        raise UserError(f"the document holds a {name}, not a {described}")
    if not is_list:
        cls = _CLASSES.get(name)
        if cls is None or cls not in accepted:
            raise UserError(f"the document holds a {name}, not a {described}")
        return _finish(_load(cls, payload), output_type)
    item_name = name[len("list[") : -1] if name.endswith("]") else None
    members = _members(item_name) if item_name else _NOTHING
    if members is None or not members <= accepted:
        raise UserError(f"the document holds a {name}, not a {described}")
    if not isinstance(payload, list):
        raise UserError(f"the document's data is not a list, as its type {name} says")
    items = cast(list[Any], payload)
    return [_finish(_load(_item_class(item, members), item), output_type) for item in items]


def to_document(obj: object) -> Any:
    """``to_json(obj)`` parsed: a document to embed in other JSON (a journal entry, a payload)."""
    return _json.loads(to_json(obj))


def from_document(data: Any, type: Any) -> Any:
    """The object of a document ``to_document`` wrote (``from_json`` with all its checks)."""
    return from_json(_json.dumps(data), type)


# -- writing ---------------------------------------------------------------------------------


def _class_name(obj: object) -> str:
    cls = type(obj)
    if _CLASSES.get(cls.__name__) is not cls:
        known = ", ".join(sorted(_CLASSES))
        raise UserError(f"to_json cannot write {cls.__name__} objects; it writes {known}, and lists of them")
    return cls.__name__


def _list_name(items: Sequence[object]) -> str:
    names = {_class_name(item) for item in items}
    if not names:
        return ""
    if len(names) == 1:
        return names.pop()
    classes = {_CLASSES[name] for name in names}
    for union, members in _UNIONS.items():
        if classes <= members:
            return union
    raise UserError(f"to_json writes lists of one kind of object; this one mixes {', '.join(sorted(names))}")


def _dump(obj: object) -> Any:
    """``obj`` as plain JSON values, written by pydantic."""
    adapter = _adapter(type(obj))
    if isinstance(obj, RetryPart):
        data = adapter.dump_python([obj], mode="json", exclude={0: {"error"}})[0]
        data["error"] = error_data(obj.error)
        return data
    try:
        return adapter.dump_python([obj], mode="json")[0]
    except ValueError as error:  # pydantic_core's PydanticSerializationError
        raise UserError(f"to_json cannot write this {type(obj).__name__}: {error}") from None


_SERVER_DELAY_HEADERS = ("retry-after", "retry-after-ms")
"""The response headers a retry reads (``reverie._retry.server_delay``); the only ones kept."""


def error_data(error: BaseException, *, detailed: bool = False) -> dict[str, Any]:
    """``error`` as JSON: its class name, message, status, retry decision and URL.

    That is the stable form a ``RetryPart`` carries in a document. ``detailed`` adds what a run
    machine in another process needs to decide on it as this one would: a provider error's
    ``retry-after`` headers and whether the prompt was too large, the errors a ``RetryError`` or
    ``DeadlineExceededError`` holds, the deadline, and the usage the failed request reported.
    """
    if isinstance(error, ProviderError):
        data: dict[str, Any] = {
            "type": type(error).__name__,
            "message": error.message,
            "status_code": error.status_code,
            "retryable": error.is_retryable,
            "url": error.url,
        }
    elif isinstance(error, RestoredError):
        data = {
            "type": error.type_name,
            "message": str(error),
            "status_code": error.status_code,
            "retryable": error.retryable,
            "url": None,
        }
    else:
        data = {
            "type": type(error).__name__,
            "message": str(error),
            "status_code": None,
            "retryable": None,
            "url": None,
        }
    if not detailed:
        return data
    if isinstance(error, ProviderError):
        headers = error.response_headers
        data["headers"] = {name: headers[name] for name in _SERVER_DELAY_HEADERS if name in headers}
        data["context_too_large"] = error.is_context_too_large
    if isinstance(error, RetryError | DeadlineExceededError):
        data["errors"] = [error_data(item, detailed=True) for item in error.errors]
    if isinstance(error, DeadlineExceededError):
        data["deadline"] = error.deadline
    usage = error.reported_usage if isinstance(error, ReverieError) else None
    data["reported_usage"] = None if usage is None else _dump(usage)
    return data


# -- reading ---------------------------------------------------------------------------------


def _read_document(data: str | bytes) -> dict[str, Any]:
    try:
        document = _json.loads(data)
    except ValueError as error:
        raise UserError(f"not a reverie JSON document: {error}") from None
    if not isinstance(document, dict):
        raise UserError("not a reverie JSON document: it is not a JSON object")
    document = cast(dict[str, Any], document)
    version = document.get("format_version")
    if version is None:
        raise UserError("not a reverie JSON document: it has no format_version")
    if version != FORMAT_VERSION:
        raise UserError(
            f"format_version {version!r} is not supported: this reverie reads format_version {FORMAT_VERSION}"
        )
    if not isinstance(document.get("type"), str):
        raise UserError("not a reverie JSON document: it has no type")
    return document


def _target(requested: Any) -> tuple[bool, frozenset[type], Any]:
    """What ``from_json`` was asked for: a list?, the classes it accepts, a typed output's type."""
    origin = typing.get_origin(requested)
    if origin is list:
        (item,) = typing.get_args(requested) or (Any,)
        _, accepted, output_type = _target(item)
        return True, accepted, output_type
    if origin is AgentResult:
        (output_type,) = typing.get_args(requested)
        return False, frozenset({AgentResult}), output_type
    if origin is types.UnionType or origin is typing.Union:
        members: set[type] = set()
        for member in typing.get_args(requested):
            members |= _target(member)[1]
        return False, frozenset(members), None
    if isinstance(requested, type) and _CLASSES.get(requested.__name__) is requested:
        return False, frozenset({requested}), None
    known = ", ".join(sorted(_CLASSES))
    raise UserError(
        f"from_json cannot read {_describe(requested)}; it reads {known}, unions and lists of them"
    )


def _describe(requested: Any) -> str:
    return requested.__name__ if isinstance(requested, type) else str(requested).replace("reverie._", "")


def _members(name: str) -> frozenset[type] | None:
    if name in _UNIONS:
        return _UNIONS[name]
    cls = _CLASSES.get(name)
    return None if cls is None else frozenset({cls})


def _item_class(item: Any, members: Iterable[type]) -> type:
    members = frozenset(members)
    if len(members) == 1:
        return next(iter(members))
    tag = cast(dict[str, Any], item).get("type") if isinstance(item, dict) else None
    cls = _PARTS_BY_TAG.get(tag) if isinstance(tag, str) else None
    if cls is None or cls not in members:
        raise UserError(f"the document holds a list item of unknown type {tag!r}")
    return cls


def _load(cls: type, data: Any) -> Any:
    from pydantic import ValidationError

    adapter = _adapter(cls)
    try:
        if cls is RetryPart:
            return adapter.validate_python([_with_error(data)])[0]
        # JSON mode, so that bytes are read back from base64.
        return adapter.validate_json(_json.dumps([data]))[0]
    except ValidationError as error:
        raise UserError(f"the document's {cls.__name__} is not valid: {error}") from None


def _with_error(data: Any) -> Any:
    if not isinstance(data, dict) or not isinstance(cast(dict[str, Any], data).get("error"), dict):
        raise UserError("the document's RetryPart is not valid: it has no error object")
    data = dict(cast(dict[str, Any], data))
    data["error"] = error_from_data(data["error"])
    return data


def error_from_data(data: dict[str, Any]) -> ReverieError:
    """The error ``error_data`` wrote (plain or detailed).

    A ``ProviderError`` (or one of its subclasses) comes back as a ``ProviderError``, a
    detailed ``RetryError`` or ``DeadlineExceededError`` as itself, any other error as a
    ``RestoredError`` that names its class.
    """
    name = str(data.get("type") or "ReverieError")
    message = str(data.get("message") or "")
    status_code = data.get("status_code")
    status_code = status_code if isinstance(status_code, int) else None
    retryable = data.get("retryable")
    retryable = retryable if isinstance(retryable, bool) else None
    inner = [error_from_data(item) for item in cast(list[dict[str, Any]], data.get("errors") or [])]
    error: ReverieError
    if name in _PROVIDER_ERROR_NAMES or "headers" in data:  # detailed: any ProviderError subclass
        url = data.get("url")
        error = ProviderError(
            message,
            status_code=status_code,
            url=url if isinstance(url, str) else None,
            response_headers=cast(dict[str, str], data.get("headers") or {}),
            retryable=retryable,
            is_context_too_large=bool(data.get("context_too_large")),
        )
    elif name == "RetryError" and inner:
        error = RetryError(inner)
    elif name == "DeadlineExceededError" and "deadline" in data:
        deadline = data.get("deadline")
        error = DeadlineExceededError(
            float(deadline) if isinstance(deadline, int | float) else 0.0, inner, message=message
        )
    else:
        error = RestoredError(message, type_name=name, status_code=status_code, retryable=retryable)
    usage = data.get("reported_usage")
    if isinstance(usage, dict):
        error.reported_usage = _load(Usage, usage)
    return error


def _finish(obj: Any, output_type: Any) -> Any:
    """A read ``AgentResult`` with its typed output validated into ``output_type`` (when given)."""
    if output_type is None or output_type is Any or not isinstance(obj, AgentResult):
        return obj
    result = cast(AgentResult[Any], obj)
    if not result.has_typed_output:
        return result
    from pydantic import TypeAdapter, ValidationError

    try:
        result.typed_output = TypeAdapter(output_type).validate_python(result.typed_output)
    except ValidationError as error:
        raise UserError(
            f"the document's typed output does not fit {_describe(output_type)}: {error}"
        ) from None
    return result


@functools.cache
def _adapter(cls: type) -> TypeAdapter[list[Any]]:
    """A pydantic adapter for lists of ``cls`` (a list: the only way to give stdlib dataclasses a config)."""
    from pydantic import ConfigDict, TypeAdapter

    config = ConfigDict(ser_json_bytes="base64", val_json_bytes="base64", arbitrary_types_allowed=True)
    items: Any = types.GenericAlias(list, (cls,))
    adapter: TypeAdapter[list[Any]] = TypeAdapter(items, config=config)
    # Names the dataclasses import for type checking only (``StepResult`` in ``StepFinishPart``,
    # ``ReverieError`` in ``RetryPart``) are given to pydantic here.
    adapter.rebuild(_types_namespace=_TYPE_CHECKING_NAMES)
    return adapter


_TYPE_CHECKING_NAMES: dict[str, Any] = {"ReverieError": ReverieError, "StepResult": StepResult}

"""What crosses Temporal's wire: calls, responses, tool calls and results, errors, as JSON values.

Temporal stores every activity's input and output in the workflow's history, as JSON. Messages,
parts, usage and results are written with ``reverie.to_json`` (each a versioned document,
embedded as a JSON object); a ``Call`` and a ``Response``, which ``to_json`` does not write,
are written here field by field around those documents. A model error is written as data, so
that an activity can return it to the workflow, where the run machine decides what follows
(``Run.feed_error``): its class, message, status, retry decision, the server's ``retry-after``
headers, and the usage it reported.

Pure: no Temporal import, no I/O. Which model or tool an activity calls is ``_registry``'s
concern; when activities run, ``_activities``'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from reverie._content import CallWarning, Message, ToolCallPart, ToolResultPart, Usage
from reverie._errors import (
    ReverieError,
)
from reverie._http.headers import merge_headers
from reverie._model import Call, ProviderTool, Response, ResponseFormat, ToolDefinition
from reverie._serialisation import error_data as serialised_error_data
from reverie._serialisation import error_from_data as serialised_error_from_data
from reverie._serialisation import from_document as read_document
from reverie._serialisation import to_document as document

JSON = dict[str, Any]
"""A JSON object, as Temporal's default converter writes it."""

_CALL_SETTINGS = (
    "max_output_tokens",
    "temperature",
    "top_p",
    "top_k",
    "presence_penalty",
    "frequency_penalty",
    "stop_sequences",
    "seed",
    "timeout",
)
"""The plain fields of a ``Call``, written as they are."""


# -- calls -----------------------------------------------------------------------------------


def call_data(call: Call, *, deadline_in: float | None, own_headers: Mapping[str, str] | None) -> JSON:
    """``call`` as JSON; ``deadline_in``: seconds left before the run's deadline (``None``: none).

    The deadline travels as what is left of it: the workflow's clock is not the activity's.
    The wire cache stays behind (it holds encoded forms for the process that made them). The
    agent's own headers (``own_headers``, often credentials) stay behind too: the data goes into
    the workflow's history, and the activity has the agent to add them back.
    """
    data: JSON = {name: getattr(call, name) for name in _CALL_SETTINGS}
    data["prompt"] = document(call.prompt)
    data["tools"] = [_tool_data(item) for item in call.tools]
    data["tool_choice"] = call.tool_choice
    data["provider_options"] = {key: plain_options(value) for key, value in call.provider_options.items()}
    own = merge_headers(own_headers)
    data["headers"] = {name: value for name, value in call.headers.items() if own.get(name.lower()) != value}
    format = call.response_format
    data["response_format"] = (
        None
        if format is None
        else {"schema": format.schema, "name": format.name, "description": format.description}
    )
    data["deadline_in"] = deadline_in
    return data


def call_from_data(data: JSON, *, now: float, own_headers: Mapping[str, str] | None) -> Call:
    """The ``Call`` that ``call_data`` wrote.

    ``now`` is the activity's monotonic clock reading; ``own_headers`` the agent's own headers,
    which ``call_data`` left out.
    """
    format = data.get("response_format")
    deadline_in = data.get("deadline_in")
    return Call(
        prompt=read_document(data["prompt"], list[Message]),
        tools=[_tool_from_data(item) for item in cast(list[JSON], data.get("tools") or [])],
        tool_choice=data.get("tool_choice"),
        provider_options=dict(data.get("provider_options") or {}),
        headers=merge_headers(own_headers, data.get("headers")),
        response_format=None
        if format is None
        else ResponseFormat(
            schema=format["schema"], name=format["name"], description=format.get("description")
        ),
        deadline_at=None if deadline_in is None else now + deadline_in,
        **{name: data.get(name) for name in _CALL_SETTINGS},
    )


def _tool_data(item: ToolDefinition | ProviderTool) -> JSON:
    if isinstance(item, ProviderTool):
        # ``run`` stays behind: a client-executed provider tool runs in a tool activity.
        return {"kind": "provider", "id": item.id, "name": item.name, "args": dict(item.args)}
    return {
        "kind": "function",
        "name": item.name,
        "description": item.description,
        "parameters": item.parameters,
        "provider_options": item.provider_options,
    }


def _tool_from_data(data: JSON) -> ToolDefinition | ProviderTool:
    if data.get("kind") == "provider":
        return ProviderTool(id=data["id"], name=data["name"], args=data.get("args") or {})
    return ToolDefinition(
        name=data["name"],
        description=data.get("description") or "",
        parameters=data.get("parameters") or {},
        provider_options=data.get("provider_options") or {},
    )


def plain_options(value: Any) -> Any:
    """A provider's options as a plain dict (codecs take the dict as they take the typed ``Options``)."""
    dump = getattr(value, "model_dump", None)
    if dump is None:
        return value
    return dump(mode="json", by_alias=True, exclude_unset=True)


# -- responses -------------------------------------------------------------------------------


def response_data(response: Response) -> JSON:
    """``response`` as JSON."""
    return {
        "content": document(response.content),
        "finish_reason": response.finish_reason,
        "usage": document(response.usage),
        "provider_metadata": response.provider_metadata,
        "warnings": [{"setting": item.setting, "message": item.message} for item in response.warnings],
        "response_id": response.response_id,
        "model_id": response.model_id,
    }


def response_from_data(data: JSON) -> Response:
    """The ``Response`` that ``response_data`` wrote."""
    from reverie._content import ContentPart

    return Response(
        content=read_document(data["content"], list[ContentPart]),
        finish_reason=data["finish_reason"],
        usage=read_document(data["usage"], Usage),
        provider_metadata=data.get("provider_metadata") or {},
        warnings=[CallWarning(setting=item["setting"], message=item["message"]) for item in data["warnings"]],
        response_id=data.get("response_id"),
        model_id=data.get("model_id"),
    )


# -- tool calls ------------------------------------------------------------------------------


def tool_call_data(call: ToolCallPart) -> Any:
    """A tool call (as the run validated it) as JSON."""
    return document(call)


def tool_call_from_data(data: Any) -> ToolCallPart:
    """The ``ToolCallPart`` that ``tool_call_data`` wrote."""
    return read_document(data, ToolCallPart)


def tool_result_data(result: ToolResultPart) -> Any:
    """A tool's result as JSON."""
    return document(result)


def tool_result_from_data(data: Any) -> ToolResultPart:
    """The ``ToolResultPart`` that ``tool_result_data`` wrote."""
    return read_document(data, ToolResultPart)


# -- errors ----------------------------------------------------------------------------------


def error_data(error: ReverieError) -> JSON:
    """What the run machine and the caller need of ``error``, as JSON.

    ``to_json``'s error form, detailed: a provider error's ``retry-after`` headers, the errors a
    ``RetryError`` holds, the usage the failed request reported, ...
    """
    return serialised_error_data(error, detailed=True)


def error_from_data(data: Mapping[str, Any]) -> ReverieError:
    """The error ``error_data`` wrote (see ``reverie._serialisation.error_from_data``)."""
    return serialised_error_from_data(dict(data))

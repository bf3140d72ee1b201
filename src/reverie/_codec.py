"""The contract between the engine and a provider's wire codec.

A codec is pure: it turns a ``Call`` into a ``WireRequest`` and provider payloads back
into reverie types. It never performs I/O and has no sync/async split; the engine in
``reverie._async.engine`` (and its generated sync twin) does the HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar, cast

from reverie import _json, _wire_cache
from reverie._content import CallWarning, ContentPart, ReasoningPart, ToolResultPart
from reverie._errors import (
    InvalidResponseError,
    ProviderError,
    UserError,
    mentions_context_limit,
    unreadable_body_message,
)
from reverie._model import Call, ProviderTool, Response, ToolDefinition
from reverie._parts import ModelStreamPart
from reverie._record import Record

if TYPE_CHECKING:
    import httpx2
    from pydantic import BaseModel, ConfigDict

    from reverie._http.framing import Framing
    from reverie._http.sse import SSEEvent
    from reverie._rate_limiter import RateLimiter


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class WireRequest(Record):
    """One HTTP request as a codec wants it sent."""

    path: str
    """Resolved by the provider's ``endpoint`` (by default appended to its base URL); may carry
    a query (``:streamGenerateContent?alt=sse``)."""
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict[str, str])
    warnings: list[CallWarning] = field(default_factory=list[CallWarning])


class StreamDecoder(Protocol):
    """Stateful translation of one response stream's SSE events into stream parts."""

    def feed(self, event: SSEEvent) -> list[ModelStreamPart]:
        """Translate one event; raise ``ProviderError`` for an in-band error event."""
        ...

    def end(self) -> list[ModelStreamPart]:
        """The stream is over: flush pending parts and the finish part, or raise if it never finished."""
        ...


class Codec(Protocol):
    """What a provider contributes: its name and its wire format.

    A codec whose streams are not server-sent events also sets ``framing`` (a
    ``reverie._http.framing.Framing``, e.g. ``AWS_EVENT_STREAM``); without it the
    stream is read as SSE. See ``stream_framing``.
    """

    @property
    def name(self) -> str:
        """Key for ``provider_options`` and ``provider_metadata``."""
        ...

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The request for ``call``."""
        ...

    def parse_response(self, payload: Any) -> Response:
        """Read a non-streaming response body (already parsed JSON)."""
        ...

    def stream_decoder(self) -> StreamDecoder:
        """A fresh decoder for one streamed response."""
        ...

    def parse_error(self, status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
        """The error for a non-2xx answer."""
        ...


def stream_framing(codec: Codec) -> Framing:
    """How ``codec``'s streamed responses are framed: its ``framing`` attribute, else SSE.

    The attribute is optional so the codecs that speak SSE (all of them so far) need not
    declare it; a protocol member could not have that default.
    """
    framing: Framing | None = getattr(codec, "framing", None)
    if framing is None:
        # Loaded on the first stream: a plain request reads no framing.
        from reverie._http.framing import SSE

        return SSE
    return framing


def codec_rejects_credentials(codec: object, status_code: int, headers: Mapping[str, str], body: str) -> bool:
    """Whether ``codec`` (a codec or codec class) says this error answer refuses the credential.

    A codec may have a ``rejects_credentials(status_code, headers, body)`` static method that
    reads its provider's error body (OpenAI's ``invalid_api_key`` code, Anthropic's
    ``authentication_error`` type); it is optional, as ``framing`` is, and without it the
    answer is not a refusal (a 401 always is, without asking).
    """
    flags: object = getattr(codec, "rejects_credentials", None)
    if not callable(flags):
        return False
    check = cast("Callable[[int, Mapping[str, str], str], object]", flags)
    return bool(check(status_code, headers, body))


def loads_event(event: SSEEvent) -> Any:
    """Parse an SSE event's JSON data, raising ``InvalidResponseError`` on malformed JSON."""
    try:
        return _json.loads(event.data)
    except ValueError:
        raise InvalidResponseError("malformed JSON in stream event", body=event.data) from None


def expect_string(value: Any, what: str) -> str:
    """``value`` if it is a JSON string, ``""`` for null, else ``InvalidResponseError`` naming ``what``."""
    if type(value) is str:  # the common case first: this reads most fields of every payload
        return value
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidResponseError(f"expected a string for {what}, got {type(value).__name__}")
    return value


SHAPE_ERRORS = (AttributeError, KeyError, IndexError, TypeError)
"""What reading a payload of the wrong JSON shape through ``.get`` raises (see ``reads_payload``)."""
ParamsT = ParamSpec("ParamsT")
ResultT = TypeVar("ResultT")


def reads_payload(what: str) -> Callable[[Callable[ParamsT, ResultT]], Callable[ParamsT, ResultT]]:
    """Decorate a codec method that reads untrusted JSON so a payload of the wrong shape is typed.

    Codecs read payloads through ``TypedDict`` views with ``.get``; a value of the wrong JSON
    type (a string where an object belongs, a list where a block belongs) surfaces as one of
    ``AttributeError``/``KeyError``/``IndexError``/``TypeError``. Those become an
    ``InvalidResponseError`` naming ``what``, so garbage never escapes as an untyped error.
    """

    def decorate(method: Callable[ParamsT, ResultT]) -> Callable[ParamsT, ResultT]:
        @functools.wraps(method)
        def guarded(*args: ParamsT.args, **kwargs: ParamsT.kwargs) -> ResultT:
            try:
                return method(*args, **kwargs)
            except SHAPE_ERRORS as error:
                raise InvalidResponseError(f"{what} has an unexpected shape ({error})") from error

        return guarded

    return decorate


def status_error(
    message: str | None, *, status_code: int, headers: Mapping[str, str], body: str, url: str
) -> ProviderError:
    """The error for a non-2xx answer: the provider's own ``message`` if its body had one."""
    return ProviderError(
        message or unreadable_body_message(status_code, headers, body),
        status_code=status_code,
        url=url,
        response_headers=headers,
        response_body=body,
        is_context_too_large=mentions_context_limit(body),
    )


def json_object_or_empty(text: str) -> dict[str, Any]:
    """A tool call's input as a JSON object; ``{}`` when it is not one.

    APIs that take arguments as an object (Anthropic, Gemini) get ``{}`` for an invalid
    call's unparseable input; the call's error result tells the model what went wrong.
    """
    try:
        value: Any = _json.loads(text) if text else {}
    except ValueError:
        return {}
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def error_body(body: str, *, first_of_list: bool = False) -> dict[str, Any] | None:
    """An error answer's body as a JSON object; ``None`` when it is not one (or not JSON).

    Args:
        body: The answer's text.
        first_of_list: Read a JSON array as its first item (Gemini's streaming endpoints
            send their error object in a one-element array).
    """
    try:
        payload: Any = _json.loads(body)
    except ValueError:
        return None
    if first_of_list and isinstance(payload, list) and payload:
        payload = cast(list[Any], payload)[0]
    return cast(dict[str, Any], payload) if isinstance(payload, dict) else None


def function_tools(call: Call, provider: str) -> list[ToolDefinition]:
    """``call.tools`` for a codec that sends no provider-defined tools.

    Raises:
        UserError: a ``ProviderTool`` is among them; the message names it and ``provider``.
    """
    tools: list[ToolDefinition] = []
    for tool in call.tools:
        if isinstance(tool, ProviderTool):
            raise UserError(
                f"the provider tool {tool.name!r} ({tool.id}) cannot be sent to {provider}: "
                f"it belongs to the {tool.provider} provider"
            )
        tools.append(tool)
    return tools


def tool_result_text(part: ToolResultPart, provider: str, warnings: list[CallWarning]) -> str:
    """The text of a tool result for an API that takes only text in tool results.

    A result with ``media`` (a tool returned a ``FilePart``) cannot carry it there: the model
    reads a placeholder after the output, and ``warnings`` says the file was not sent.
    """
    media = part.media
    if media is None:
        return part.output
    warnings.append(
        CallWarning(
            setting="tool_result.media",
            message=f"{provider} takes no files in tool results: the {media.media_type} file of "
            f"tool {part.tool_name!r} was replaced by a placeholder",
        )
    )
    name = f" {media.filename!r}" if media.filename else ""
    placeholder = f"[the tool returned a file{name} ({media.media_type}) that cannot be sent here]"
    return f"{part.output}\n{placeholder}" if part.output else placeholder


def reasoning_drop_warning(
    parts: Iterable[ContentPart],
    *,
    reader: str,
    sent: Callable[[ReasoningPart], bool] | None = None,
    own: Collection[str] = (),
    plain_is_own: bool = False,
) -> CallWarning | None:
    """The warning for the reasoning of one assistant message a codec does not send back.

    The reasoning parts among ``parts`` that ``sent`` rejects (all of them without ``sent``)
    are dropped. A dropped part is lost in silence only when it is the codec's own kind,
    which its API takes no reasoning back for by design (as recorded): its provider
    metadata keys are all in ``own``, or, with no metadata, ``plain_is_own``. Any other
    dropped part with text or provider state (a signature, encrypted content, reasoning
    details) is reasoning another provider produced, and one warning for the message names
    the providers it is bound to (as the Anthropic codec warns of unsigned reasoning).

    Args:
        parts: The assistant message's content.
        reader: Who cannot read the reasoning, for the message (``"google"``).
        sent: Whether the codec sends a reasoning part back.
        own: The provider metadata keys of the codec's own reasoning.
        plain_is_own: Whether reasoning without provider metadata is the codec's own.
    """
    bound: set[str] = set()
    plain = False
    for part in parts:
        if not isinstance(part, ReasoningPart) or (sent is not None and sent(part)):
            continue
        keys = {key for key, values in part.provider_metadata.items() if values}
        if keys:
            bound.update(keys - set(own))
        elif part.text and not plain_is_own:
            plain = True
    if bound:
        providers = ", ".join(sorted(bound))
        return CallWarning(
            setting="reasoning",
            message=f"reasoning bound to {providers} is not sent back: {reader} cannot read it",
        )
    if plain:
        return CallWarning(
            setting="reasoning", message=f"reasoning text is not sent back: {reader} takes none"
        )
    return None


def expect_object(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is a JSON object, else ``InvalidResponseError`` naming ``what``."""
    if not isinstance(value, dict):
        raise InvalidResponseError(f"expected a JSON object for {what}, got {type(value).__name__}")
    return value  # pyright: ignore[reportUnknownVariableType]


OptionsT = TypeVar("OptionsT", bound="BaseModel")

OPTIONS_CONFIG: ConfigDict = {"extra": "forbid", "defer_build": True}
"""``model_config`` of every provider ``Options`` model: an unknown key is an error, and the
validation schema is built when options are first used rather than when the provider is imported."""


def has_options(call: Call, key: str) -> bool:
    """Whether ``call`` carries provider options under ``key``.

    Codecs ask before importing their options module: options are pydantic models, and a
    call without options must not pay for importing pydantic.
    """
    return call.provider_options.get(key) is not None


def provider_options(call: Call, key: str, options_type: type[OptionsT]) -> OptionsT | None:
    """Validate the ``key`` entry of ``call.provider_options`` into ``options_type`` (``None`` if absent)."""
    raw = call.provider_options.get(key)
    return None if raw is None else validate_options(raw, options_type, f"provider_options[{key!r}]")


def validate_options(raw: Any, options_type: type[OptionsT], where: str) -> OptionsT:
    """``raw`` (a dict or an instance) as ``options_type``.

    An unknown key or a wrong type is a ``UserError`` that names ``where`` and the field.
    """
    if isinstance(raw, options_type):
        return raw
    from pydantic import ValidationError

    try:
        return options_type.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in item['loc']) or '<root>'}: {item['msg']}" for item in error.errors()
        )
        raise UserError(f"invalid {where}: {problems}") from None


def dump_options(options: BaseModel) -> dict[str, Any]:
    """Options as wire JSON: aliases, and nothing that was left unset or ``None``."""
    return options.model_dump(by_alias=True, exclude_none=True, mode="json")


@dataclass(slots=True, kw_only=True, repr=False, eq=False)
class PreparedRequest(Record):
    """A ``WireRequest`` resolved against a provider: absolute URL, headers, encoded body, auth."""

    url: str
    headers: dict[str, str] = field(repr=False)
    """May hold static credentials (see ``HttpLanguageModel.prepare``), hence kept out of ``repr``."""
    content: bytes
    warnings: list[CallWarning]
    max_response_bytes: int
    timeout: float | None = None
    """Seconds the whole exchange may take, stream included (``None``: the client's timeouts only)."""
    auth: httpx2.Auth | None = field(default=None, repr=False)
    """Adds the credentials as the request is sent; ``None`` leaves the client's own auth."""
    rate_limiter: RateLimiter | None = field(default=None, repr=False)
    """Waited on before the request is sent, and told about its response (``None``: no limit)."""
    deadline_at: float | None = None
    """The run's deadline on ``reverie._clock`` (``Call.deadline_at``): bounds rate-limit waits."""


def encode_body(body: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as the recorded requests were sent (kept wire forms from their text)."""
    return _wire_cache.encode_body(body)


def token_count(value: Any) -> int:
    """A token count from a usage block; anything but a JSON integer (a null, a stray string) is 0."""
    if type(value) is int:  # the common case first: six counts per response
        return value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0

"""Reading Gemini API answers: whole responses, parts, usage, finish reasons and errors.

A ``GenerateContentResponse`` becomes a ``Response``: thought parts become reasoning, text
parts text (a ``thoughtSignature`` kept in ``provider_metadata["google"]["thought_signature"]``;
a signed empty text part is an empty text part that keeps its signature),
``functionCall`` parts tool calls (ids minted where the API sent none), ``inlineData`` parts files. Also here,
because the stream decoder shares them: reading parts, minting call ids, mapping finish
reasons, reading usage and building errors. This module builds no requests and decodes no
streams.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

from reverie._codec import error_body, expect_object, expect_string, status_error
from reverie._content import (
    ContentPart,
    FilePart,
    FinishReason,
    ProviderMetadata,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    Usage,
)
from reverie._errors import InvalidResponseError, ProviderError, mentions_context_limit
from reverie._model import Response
from reverie.providers.google.wire import (
    PROVIDER,
    CandidatePayload,
    PartPayload,
    ResponsePayload,
    UsagePayload,
)

_FINISH_REASONS: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "FINISH_REASON_UNSPECIFIED": "unknown",
}
_TRANSIENT_STATUSES = frozenset(
    {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "INTERNAL", "DEADLINE_EXCEEDED", "ABORTED"}
)


_REFUSED_KEY_REASONS = frozenset({"API_KEY_INVALID"})
"""``ErrorInfo.reason`` values that mean the key was refused (invalid or expired), not the request."""


def map_finish_reason(reason: str | None, *, has_calls: bool) -> FinishReason:
    """The unified finish reason; ``STOP`` with function calls is a tool-call step.

    Gemini answers ``"finishReason": "STOP"`` also when the turn consists of function calls
    (recorded), so the calls decide.
    """
    if reason is None:
        return "unknown"
    if reason == "STOP" and has_calls:
        return "tool_calls"
    return _FINISH_REASONS.get(reason, "other")


def read_usage(usage: UsagePayload | None) -> Usage:
    """Token counts with the meaning every provider gives them.

    ``promptTokenCount`` includes ``cachedContentTokenCount``: the cached part is subtracted
    from the input and reported as cache reads. ``candidatesTokenCount`` excludes thoughts,
    which are the reasoning tokens; the total is the API's own ``totalTokenCount``.
    """
    if not usage:
        return Usage()
    cached = usage.get("cachedContentTokenCount") or 0
    prompt = (usage.get("promptTokenCount") or 0) + (usage.get("toolUsePromptTokenCount") or 0)
    output_tokens = usage.get("candidatesTokenCount") or 0
    reasoning_tokens = usage.get("thoughtsTokenCount") or 0
    return Usage(
        input_tokens=max(prompt - cached, 0),
        output_tokens=output_tokens,
        total_tokens=usage.get("totalTokenCount") or prompt + output_tokens + reasoning_tokens,
        reasoning_tokens=reasoning_tokens,
        cache_read_tokens=cached,
    )


def describe_error(error: Any) -> tuple[int | None, str]:
    """``(code, message)`` of ``{"code": 503, "message": "...", "status": "UNAVAILABLE"}``."""
    if not isinstance(error, dict):
        return None, str(error)
    detail = cast(dict[str, Any], error)
    code = detail.get("code")
    status = detail.get("status")
    message = str(detail.get("message") or "unknown error")
    return (code if isinstance(code, int) else None), (f"{status}: {message}" if status else message)


def inband_error(error: Any) -> ProviderError:
    """The error for an ``{"error": {...}}`` object inside a 200 answer or stream."""
    code, message = describe_error(error)
    status = cast(dict[str, Any], error).get("status") if isinstance(error, dict) else None
    transient = code is None or code in (408, 409, 429) or code >= 500 or status in _TRANSIENT_STATUSES
    return ProviderError(
        message,
        response_body=json.dumps({"error": error}, ensure_ascii=False),
        retryable=transient,
        is_context_too_large=mentions_context_limit(message),
    )


def random_call_id() -> str:
    """A random UUID4 string, the default id of a call the response leaves without one."""
    return str(uuid.uuid4())


class CallIds:
    """Ids for function calls: the one the API sent, else a fresh one from ``new_id``.

    Gemini 3 names its calls (``"id": "wxvlv0tv"``); Gemini 2.5 does not, and the id then
    comes from the provider's ``tool_call_id`` factory (recorded: ``"1"``, ``"2"``, ...), so
    that two calls of one tool never collide.
    """

    __slots__ = ("_new_id",)

    def __init__(self, new_id: Callable[[], str] = random_call_id) -> None:
        self._new_id = new_id

    def mint(self, given: str | None) -> str:
        """The id of the next call: ``given`` if the API sent one, else a fresh one."""
        return given or self._new_id()


def signature_metadata(part: PartPayload) -> ProviderMetadata:
    """``{"google": {"thought_signature": ...}}`` when the part carries one, else ``{}``."""
    signature = part.get("thoughtSignature")
    return {PROVIDER: {"thought_signature": signature}} if signature else {}


def unspoken_reasoning(part: PartPayload) -> list[ReasoningPart]:
    """An empty reasoning part for a signed call that came with no thought text, else nothing.

    Gemini 3 may think without summarising (no ``thought`` part, recorded when streaming),
    yet sign the call; the step still shows that it reasoned, and the signature is there
    for whoever reads reasoning parts. The call keeps the signature it goes back with.
    """
    metadata = signature_metadata(part)
    return [ReasoningPart(text="", provider_metadata=metadata)] if metadata else []


def function_call_part(part: PartPayload, ids: CallIds) -> ToolCallPart:
    """A tool call from a ``functionCall`` part; its ``thoughtSignature`` stays in the metadata."""
    call = part.get("functionCall") or {}
    name = call.get("name") or ""
    arguments = call.get("args")
    return ToolCallPart(
        tool_call_id=ids.mint(call.get("id")),
        tool_name=name,
        input=json.dumps(
            arguments if arguments is not None else {}, ensure_ascii=False, separators=(",", ":")
        ),
        provider_metadata=signature_metadata(part),
    )


def file_part(part: PartPayload) -> FilePart | None:
    """A file from an ``inlineData`` part (generated images), or ``None`` if unreadable."""
    inline = part.get("inlineData") or {}
    try:
        data = base64.b64decode(inline.get("data") or "", validate=True)
    except (binascii.Error, ValueError):
        return None
    return FilePart(data=data, media_type=inline.get("mimeType") or "application/octet-stream")


def response_metadata(payload: ResponsePayload, candidate: CandidatePayload | None) -> ProviderMetadata:
    """Why the answer was cut short, when it was: block reason, finish message, safety ratings."""
    metadata: dict[str, Any] = {}
    feedback = payload.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        metadata["block_reason"] = feedback.get("blockReason")
        if feedback.get("blockReasonMessage"):
            metadata["block_reason_message"] = feedback.get("blockReasonMessage")
        if feedback.get("safetyRatings"):
            metadata["safety_ratings"] = feedback.get("safetyRatings")
    if candidate is not None:
        reason = candidate.get("finishReason")
        if reason and reason != "STOP":
            metadata["finish_reason"] = reason
        if candidate.get("finishMessage"):
            metadata["finish_message"] = candidate.get("finishMessage")
        if candidate.get("safetyRatings"):
            metadata["safety_ratings"] = candidate.get("safetyRatings")
    return {PROVIDER: metadata} if metadata else {}


def read_response(payload: Any, ids: CallIds) -> Response:
    """Read a ``GenerateContentResponse``; an ``{"error": ...}`` object raises its in-band error."""
    answer = cast(ResponsePayload, expect_object(payload, "the Gemini response"))
    if "error" in answer:
        raise inband_error(answer["error"])
    usage = read_usage(answer.get("usageMetadata"))
    candidates = answer.get("candidates") or []
    if not candidates:
        if (answer.get("promptFeedback") or {}).get("blockReason"):
            # {"promptFeedback": {"blockReason": "SAFETY", ...}} and no candidates: the
            # prompt was refused, which is a finish, not a malformed answer.
            return Response(
                content=[],
                finish_reason="content_filter",
                usage=usage,
                provider_metadata=response_metadata(answer, None),
                response_id=expect_string(answer.get("responseId"), "responseId") or None,
                model_id=expect_string(answer.get("modelVersion"), "modelVersion") or None,
            )
        raise InvalidResponseError("Gemini response has no candidates", body=json.dumps(payload)[:500])
    candidate = candidates[0]
    content: list[ContentPart] = []
    for part in (candidate.get("content") or {}).get("parts") or []:
        if "functionCall" in part:
            if not any(isinstance(item, ReasoningPart) for item in content):
                content.extend(unspoken_reasoning(part))
            content.append(function_call_part(part, ids))
        elif "inlineData" in part:
            file = file_part(part)
            if file is not None:
                content.append(file)
        elif part.get("thought"):
            content.append(
                ReasoningPart(text=part.get("text") or "", provider_metadata=signature_metadata(part))
            )
        elif part.get("text") or signature_metadata(part):
            # A signed {"text": ""} is kept too: the signature goes back on the next request.
            content.append(TextPart(text=part.get("text") or "", provider_metadata=signature_metadata(part)))
    has_calls = any(isinstance(part, ToolCallPart) for part in content)
    return Response(
        content=content,
        finish_reason=map_finish_reason(candidate.get("finishReason"), has_calls=has_calls),
        usage=usage,
        provider_metadata=response_metadata(answer, candidate),
        response_id=expect_string(answer.get("responseId"), "responseId") or None,
        model_id=expect_string(answer.get("modelVersion"), "modelVersion") or None,
    )


def read_error(status_code: int, headers: Mapping[str, str], body: str, url: str) -> ProviderError:
    """The error for a non-2xx answer, with the API's status and message.

    The body is ``{"error": {"code": 429, "message": "...", "status": "RESOURCE_EXHAUSTED"}}``
    (a one-element array of that on streaming endpoints).
    """
    return status_error(_error_message(body), status_code=status_code, headers=headers, body=body, url=url)


def rejects_credentials(status_code: int, headers: Mapping[str, str], body: str) -> bool:
    """Whether an error body says the key was refused.

    Gemini answers an invalid or expired key with a 400 whose details say so:
    ``{"error": {"code": 400, "status": "INVALID_ARGUMENT", "details": [{"@type":
    "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}}``; a
    missing or bad token is ``"status": "UNAUTHENTICATED"``.
    """
    payload = error_body(body, first_of_list=True)
    error = payload.get("error") if payload is not None else None
    if not isinstance(error, dict):
        return False
    detail = cast(dict[str, Any], error)
    if detail.get("status") == "UNAUTHENTICATED":
        return True
    reasons = detail.get("details")
    if not isinstance(reasons, list):
        return False
    return any(
        isinstance(item, dict) and cast(dict[str, Any], item).get("reason") in _REFUSED_KEY_REASONS
        for item in cast(list[Any], reasons)
    )


def _error_message(body: str) -> str | None:
    payload = error_body(body, first_of_list=True)
    if payload is None or "error" not in payload:
        return None
    _, message = describe_error(payload["error"])
    return message

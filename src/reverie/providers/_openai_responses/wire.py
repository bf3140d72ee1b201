"""The OpenAI Responses API wire shapes we read, as minimal ``TypedDict`` views.

Only the fields reverie reads are listed; everything else is tolerated and ignored (read
with ``.get``). The same item shapes arrive whole in a ``response`` object and, one by
one, in the stream's ``response.output_item.done`` events.
"""

from __future__ import annotations

from typing import Any, TypedDict


class SummaryPayload(TypedDict, total=False):
    type: str
    text: str


class AnnotationPayload(TypedDict, total=False):
    type: str
    url: str
    title: str
    start_index: int
    end_index: int


class ContentPayload(TypedDict, total=False):
    type: str
    text: str
    refusal: str
    annotations: list[AnnotationPayload]


class ItemPayload(TypedDict, total=False):
    id: str
    type: str
    status: str
    role: str
    content: list[ContentPayload]
    summary: list[SummaryPayload]
    encrypted_content: str | None
    call_id: str
    name: str
    arguments: str
    action: dict[str, Any]


class UsagePayload(TypedDict, total=False):
    input_tokens: int
    input_tokens_details: dict[str, Any] | None
    output_tokens: int
    output_tokens_details: dict[str, Any] | None
    total_tokens: int


class ResponsePayload(TypedDict, total=False):
    id: str
    model: str
    status: str
    error: dict[str, Any] | None
    incomplete_details: dict[str, Any] | None
    output: list[ItemPayload]
    usage: UsagePayload | None


class EventPayload(TypedDict, total=False):
    type: str
    response: ResponsePayload
    item: ItemPayload
    item_id: str
    output_index: int
    summary_index: int
    delta: str
    annotation: AnnotationPayload
    code: str | None
    message: str
    param: str | None

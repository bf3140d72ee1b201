"""The Gemini API wire shapes we read, as minimal ``TypedDict`` views.

Only the fields reverie reads are listed; everything else is tolerated and ignored
(read with ``.get``). Request bodies are built as plain dicts in ``encode.py``.
"""

from __future__ import annotations

from typing import Any, TypedDict

PROVIDER = "google"
"""The provider's name: the key of its ``provider_options`` and ``provider_metadata``."""


class FunctionCallPayload(TypedDict, total=False):
    id: str
    name: str
    args: dict[str, Any]


class InlineDataPayload(TypedDict, total=False):
    mimeType: str
    data: str


class PartPayload(TypedDict, total=False):
    text: str
    thought: bool
    thoughtSignature: str
    functionCall: FunctionCallPayload
    inlineData: InlineDataPayload


class ContentPayload(TypedDict, total=False):
    role: str
    parts: list[PartPayload]


class CandidatePayload(TypedDict, total=False):
    content: ContentPayload
    finishReason: str
    finishMessage: str
    safetyRatings: list[dict[str, Any]]
    index: int


class PromptFeedbackPayload(TypedDict, total=False):
    blockReason: str
    blockReasonMessage: str
    safetyRatings: list[dict[str, Any]]


class UsagePayload(TypedDict, total=False):
    promptTokenCount: int
    candidatesTokenCount: int
    totalTokenCount: int
    thoughtsTokenCount: int
    cachedContentTokenCount: int
    toolUsePromptTokenCount: int


class ResponsePayload(TypedDict, total=False):
    """A ``GenerateContentResponse``: a whole answer, or one chunk of a stream."""

    candidates: list[CandidatePayload]
    promptFeedback: PromptFeedbackPayload
    usageMetadata: UsagePayload
    modelVersion: str
    responseId: str
    error: dict[str, Any]

"""The OpenAI chat-completions wire shapes we read, as minimal ``TypedDict`` views.

Only the fields reverie reads are listed; everything else is tolerated and ignored
(read with ``.get``), as the Vercel AI SDK keeps its response schemas minimal.
"""

from __future__ import annotations

from typing import Any, TypedDict


class FunctionPayload(TypedDict, total=False):
    name: str
    arguments: str


class ToolCallPayload(TypedDict, total=False):
    index: int
    id: str | None
    type: str
    function: FunctionPayload


class MessagePayload(TypedDict, total=False):
    role: str
    content: str | list[dict[str, Any]] | None
    refusal: str | None
    reasoning: str | None
    reasoning_details: list[dict[str, Any]]
    tool_calls: list[ToolCallPayload]


class ChoicePayload(TypedDict, total=False):
    index: int
    message: MessagePayload
    delta: MessagePayload
    finish_reason: str | None
    logprobs: dict[str, Any] | None


class UsagePayload(TypedDict, total=False):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, Any] | None
    completion_tokens_details: dict[str, Any] | None
    cost: float


class CompletionPayload(TypedDict, total=False):
    id: str
    model: str
    provider: str
    choices: list[ChoicePayload]
    usage: UsagePayload | None
    error: dict[str, Any]

"""What ``generate_object`` returns and what ``stream_object`` yields.

Does not: build requests or parse replies (``reverie._objects.plan`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeAlias, TypeVar

from reverie._content import CallWarning, FinishReason, ProviderMetadata, Usage
from reverie._parts import FinishPart, RateLimitWaitPart, RetryPart, TextDeltaPart

T = TypeVar("T")


@dataclass(slots=True, kw_only=True)
class ObjectResult(Generic[T]):
    """The object a model generated, with the call's bookkeeping."""

    object: T
    """A validated instance of the schema's type, or plain JSON values for a dict schema."""
    raw_text: str
    """The JSON text the object was parsed from."""
    usage: Usage
    finish_reason: FinishReason
    warnings: list[CallWarning] = field(default_factory=list[CallWarning])
    provider_metadata: ProviderMetadata = field(default_factory=dict[str, dict[str, Any]])
    response_id: str | None = None
    model_id: str | None = None


@dataclass(slots=True, kw_only=True, frozen=True)
class ObjectPart:
    """The object parsed so far (plain JSON values); emitted only when it changed."""

    object: Any
    type: Literal["object"] = "object"


ObjectStreamPart: TypeAlias = ObjectPart | TextDeltaPart | RetryPart | RateLimitWaitPart | FinishPart
"""A part of an object stream: ``object``, ``text_delta`` (the raw JSON text) and, last, ``finish``.

A ``retry`` part comes only from a model that starts over by itself (a ``FallbackModel``
whose model failed mid-stream): the object and text so far are void, the new answer follows.
A ``rate_limit_wait`` part says the request waits for its provider's ``RateLimiter`` (a wait
longer than a second), as in every other stream."""

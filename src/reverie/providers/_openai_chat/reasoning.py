"""Reasoning in the chat-completions family: ``reasoning_details`` in, and back out again.

OpenRouter and the Vercel AI Gateway return a model's reasoning as ``reasoning_details``
(typed entries: ``reasoning.text``, ``reasoning.summary``, ``reasoning.encrypted``, each with
a ``format`` naming the upstream, e.g. ``anthropic-claude-v1``) beside a plain ``reasoning``
text; some OpenAI-compatible servers send the same details. The next request must carry
them back on the assistant message, or the upstream loses its chain of thought (and
Anthropic rejects a tool-use turn without its signed thinking).

This module reads details into ``ReasoningPart`` metadata (whole responses and streams),
and writes them back from the parts of an assistant message (``own_details`` says which
parts go back: the others are dropped). Where the upstream is
Anthropic, a detail's ``signature`` is also kept as the part's
``provider_metadata["anthropic"]["signature"]``, so callers find it where the Anthropic
provider puts it. It builds no other part of a request and reads nothing else.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, cast

from reverie._content import ContentPart, ProviderMetadata, ReasoningPart

ANTHROPIC_FORMAT = "anthropic-claude-v1"
"""The ``format`` of details whose upstream is Anthropic (they carry a ``signature``)."""

_CONCATENATED = ("text", "summary", "data")
"""Detail fields streamed in pieces; every other field arrives whole."""


def detail_text(detail: dict[str, Any]) -> str:
    """The readable text of a detail (``reasoning.encrypted`` has none)."""
    value = detail.get("text") or detail.get("summary") or ""
    return value if isinstance(value, str) else ""


def details_of(payload: Any) -> list[dict[str, Any]]:
    """The well-formed (object) entries of a ``reasoning_details`` value."""
    if not isinstance(payload, list):
        return []
    return [cast(dict[str, Any], entry) for entry in cast(list[Any], payload) if isinstance(entry, dict)]


def details_metadata(provider: str, details: list[dict[str, Any]]) -> ProviderMetadata:
    """The reasoning part metadata for ``details``: the details, and any Anthropic signature."""
    if not details:
        return {}
    metadata: ProviderMetadata = {provider: {"reasoning_details": details}}
    signature = next(
        (
            detail["signature"]
            for detail in details
            if detail.get("format") == ANTHROPIC_FORMAT and isinstance(detail.get("signature"), str)
        ),
        None,
    )
    if signature:
        metadata["anthropic"] = {"signature": signature}
    return metadata


def parts_from_details(provider: str, details: list[dict[str, Any]]) -> list[ReasoningPart]:
    """One reasoning part per detail of a whole response, each carrying its own detail."""
    return [
        ReasoningPart(text=detail_text(detail), provider_metadata=details_metadata(provider, [detail]))
        for detail in details
    ]


def merge_detail_pieces(target: list[dict[str, Any]], pieces: list[dict[str, Any]]) -> None:
    """Fold streamed detail pieces into ``target``: same ``type`` and ``index``, one detail.

    Text pieces are concatenated; other fields (a signature, an id) are set when given.
    """
    for piece in pieces:
        match = next(
            (
                detail
                for detail in target
                if detail.get("index") == piece.get("index") and detail.get("type") == piece.get("type")
            ),
            None,
        )
        if match is None:
            target.append(copy.deepcopy(piece))
            continue
        for key, value in piece.items():
            if key in _CONCATENATED and isinstance(value, str) and isinstance(match.get(key), str):
                match[key] = match[key] + value
            elif value is not None and value != "":
                match[key] = value


class StreamedDetails:
    """The ``reasoning_details`` of one streamed reasoning block.

    The first chunk's details stand for the block until more arrive; from then on the
    block's details are the later chunks' pieces folded together, the first chunk's
    left out. That is what fantasy keeps (and sends back), so recorded follow-up requests
    are reproduced exactly; for Anthropic details the text sent back is rebuilt from the
    whole reasoning text anyway (see ``assistant_reasoning_fields``).
    """

    def __init__(self) -> None:
        self._first: list[dict[str, Any]] | None = None
        self._later: list[dict[str, Any]] = []

    def add(self, pieces: list[dict[str, Any]]) -> None:
        """Take the details of one chunk."""
        if not pieces:
            return
        if self._first is None:
            self._first = copy.deepcopy(pieces)
        else:
            merge_detail_pieces(self._later, pieces)

    def result(self) -> list[dict[str, Any]]:
        """The block's details."""
        return self._later or self._first or []


def own_details(provider: str, part: ReasoningPart) -> list[dict[str, Any]]:
    """The ``reasoning_details`` that ``provider`` kept on ``part`` (what goes back to it)."""
    return details_of(part.provider_metadata.get(provider, {}).get("reasoning_details"))


def assistant_reasoning_fields(provider: str, parts: Sequence[ContentPart]) -> dict[str, Any]:
    """The ``reasoning_details`` (and ``reasoning``) an assistant message sends back.

    Details come from the reasoning parts' ``provider_metadata[provider]``. Anthropic details
    are rebuilt from their part (its whole text and ``anthropic`` signature) and also send
    the text as ``reasoning``, as the recorded requests do.
    """
    details: list[dict[str, Any]] = []
    anthropic_texts: list[str] = []
    for part in parts:
        if not isinstance(part, ReasoningPart):
            continue
        for detail in own_details(provider, part):
            if detail.get("format") == ANTHROPIC_FORMAT and detail.get("type") == "reasoning.text":
                rebuilt = dict(detail, text=part.text)
                signature = part.provider_metadata.get("anthropic", {}).get("signature")
                if isinstance(signature, str) and signature:
                    rebuilt["signature"] = signature
                details.append(rebuilt)
                anthropic_texts.append(part.text)
            else:
                details.append(detail)
    fields: dict[str, Any] = {}
    if details:
        fields["reasoning_details"] = details
    if anthropic_texts:
        fields["reasoning"] = "".join(anthropic_texts)
    return fields

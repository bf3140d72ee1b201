"""Gemini and Claude on Google Vertex AI: the Gemini and Anthropic codecs at Vertex's URLs.

- ``VertexGeminiCodec``: Gemini bodies (``providers/google/encode.py``) to
  ``/v1beta1/projects/{project}/locations/{location}/publishers/google/models/{id}:generateContent``
  (``:streamGenerateContent?alt=sse``). Vertex's function calls carry no ids: the ids
  reverie gives them stay in reverie and are not sent back (``functionCall.id`` and
  ``functionResponse.id`` are left out, as recorded).
- ``VertexAnthropicCodec``: Anthropic bodies without ``model``, with ``anthropic_version:
  "vertex-2023-10-16"``, to ``/v1/.../publishers/anthropic/models/{id}:rawPredict``
  (``:streamRawPredict``, which keeps ``"stream": true`` and answers with server-sent events).

Both are named ``vertex`` (``model.provider``) while reading options and writing metadata
under their family's key, ``google`` or ``anthropic``. This module does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable

from reverie._codec import WireRequest
from reverie._model import Call
from reverie.providers.anthropic.codec import AnthropicCodec
from reverie.providers.google.codec import GeminiCodec

ANTHROPIC_VERSION = "vertex-2023-10-16"
"""The ``anthropic_version`` of every Claude body on Vertex."""
PROVIDER = "vertex"


def _model_path(version: str, project: str, location: str, publisher: str, model_id: str) -> str:
    return f"/{version}/projects/{project}/locations/{location}/publishers/{publisher}/models/{model_id}"


class VertexGeminiCodec(GeminiCodec):
    """The Gemini codec at Vertex's ``publishers/google`` endpoints."""

    name = PROVIDER
    send_call_ids = False

    def __init__(
        self, model_id: str, *, project: str, location: str, tool_call_id: Callable[[], str] | None = None
    ) -> None:
        super().__init__(model_id, tool_call_id=tool_call_id)
        self.project = project
        self.location = location

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The ``generateContent`` (or streaming) request for ``call``, without call ids."""
        request = super().build_request(call, stream=stream)
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        base = _model_path("v1beta1", self.project, self.location, "google", self.model_id)
        request.path = f"{base}:{method}"
        return request


class VertexAnthropicCodec(AnthropicCodec):
    """The Anthropic codec at Vertex's ``publishers/anthropic`` endpoints."""

    name = PROVIDER

    def __init__(self, model_id: str, *, project: str, location: str) -> None:
        super().__init__(model_id)
        self.project = project
        self.location = location

    def build_request(self, call: Call, *, stream: bool) -> WireRequest:
        """The ``rawPredict`` (or ``streamRawPredict``) request for ``call``."""
        request = super().build_request(call, stream=stream)
        request.body.pop("model", None)
        request.body["anthropic_version"] = ANTHROPIC_VERSION
        method = "streamRawPredict" if stream else "rawPredict"
        base = _model_path("v1", self.project, self.location, "anthropic", self.model_id)
        request.path = f"{base}:{method}"
        return request

"""The cassette transport: an httpx2 transport that replays or records a go-vcr v2 cassette.

:class:`Cassette` serves sync and async clients. What it does:

* Replay (the default) answers each request from the recording by the rules of
  ``matching`` (``match="strict"``, or ``"lenient"``) and never touches the network. A
  request that matches nothing raises :class:`CassetteError`, and is remembered so that
  :meth:`Cassette.assert_all_used` (and closing the cassette) fails too even if the caller
  swallowed the exception.
* Replayed responses carry the recorded status code, headers and body. The body is handed
  out as a stream of ``chunk_size``-byte pieces (7 by default), so chunk boundaries fall
  inside SSE lines and inside multi-byte UTF-8 characters.
* Record mode forwards every request to a real transport, stores it without credentials
  (see ``file_format``), and writes the file on :meth:`Cassette.save` / close.

What it does not do: record mode buffers each real response completely before returning
it (the recorded body is stored decoded, so ``Content-Encoding``/``Content-Length`` are
dropped); it does not simulate streaming timing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import httpx2

from reverie._cassette.file_format import (
    CassetteError,
    Interaction,
    load_interactions,
    save_interactions,
    scrubbed_interaction,
)
from reverie._cassette.matching import MATCH_MODES, Matcher, MatchMode, SentRequest

__all__ = ["Cassette"]

# Recorded bodies are stored decoded, so these headers would lie about the replayed bytes.
_DROPPED_REPLAY_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})


class _ChunkedStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A response body handed out in fixed-size pieces, for sync and async clients."""

    def __init__(self, data: bytes, chunk_size: int | None) -> None:
        self._data = data
        self._chunk_size = chunk_size

    def _chunks(self) -> Iterator[bytes]:
        if not self._data:
            return
        step = self._chunk_size or len(self._data)
        for start in range(0, len(self._data), step):
            yield self._data[start : start + step]

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk


class Cassette(httpx2.BaseTransport, httpx2.AsyncBaseTransport):
    """An httpx2 transport that replays (or records) a go-vcr v2 YAML cassette.

    Use it as ``httpx2.Client(transport=cassette)`` or ``httpx2.AsyncClient(transport=cassette)``.

    Attributes:
        path: The cassette file.
        mode: ``"replay"`` or ``"record"``.
        chunk_size: Size of the pieces replayed response bodies are streamed in (``None``: whole body).
        match: ``"strict"`` or ``"lenient"``: how replayed requests are matched.
        interactions: The interactions, parsed from the file (replay) or recorded so far (record).
        used: Ids of the interactions served, in the order they were served.
        requests: Every request the transport saw, matched or not.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: Literal["replay", "record"] = "replay",
        real_transport: httpx2.BaseTransport | httpx2.AsyncBaseTransport | None = None,
        chunk_size: int | None = 7,
        match: MatchMode = "strict",
    ) -> None:
        """Open a cassette.

        Args:
            path: The YAML file to replay from or record to.
            mode: ``"replay"`` loads the file now and serves requests from it; ``"record"``
                starts empty, forwards requests to ``real_transport`` and writes the file on
                :meth:`save`/:meth:`close`.
            real_transport: Record mode only: the transport that really sends requests.
                Defaults to ``httpx2.HTTPTransport()`` / ``httpx2.AsyncHTTPTransport()``
                created on first use. It is closed together with the cassette.
            chunk_size: Replay mode: response bodies are streamed in pieces of this many
                bytes (default 7, so boundaries fall inside SSE lines and UTF-8 characters);
                ``None`` hands out each body in one piece.
            match: Replay mode: ``"strict"`` (the default) serves a request the first unused
                interaction with the same method, URL and JSON-equal body. ``"lenient"``
                compares only the method and URL, serves interactions in recorded order (a
                request that would skip one fails) and still requires every one to be used.

        Raises:
            ValueError: If ``mode``, ``chunk_size`` or ``match`` is invalid.
            CassetteError: In replay mode, if the file cannot be read or parsed.
        """
        if match not in MATCH_MODES:
            raise ValueError(f"match must be 'strict' or 'lenient', not {match!r}")
        if mode not in ("replay", "record"):
            raise ValueError(f"mode must be 'replay' or 'record', not {mode!r}")
        if chunk_size is not None and chunk_size <= 0:
            raise ValueError(f"chunk_size must be a positive integer or None, not {chunk_size!r}")
        self.path = Path(path)
        self.mode: Literal["replay", "record"] = mode
        self.chunk_size = chunk_size
        self.used: list[int] = []
        self.requests: list[httpx2.Request] = []
        self._lock = threading.Lock()
        self._unmatched: list[str] = []
        self._unmatched_reported = 0
        self._durations: dict[int, float] = {}
        self._protocols: dict[int, str] = {}
        self._real = real_transport
        self._own_sync: httpx2.HTTPTransport | None = None
        self._own_async: httpx2.AsyncHTTPTransport | None = None
        if mode == "replay":
            self.interactions: list[Interaction] = load_interactions(self.path)
        else:
            self.interactions = []
        self._matcher = Matcher(self.interactions, match)
        self.match: MatchMode = match

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, chunk_size: int | None = 7, match: MatchMode = "strict"
    ) -> Cassette:
        """Load a cassette for replay.

        Args:
            path: The YAML file.
            chunk_size: See :class:`Cassette`.
            match: ``"strict"`` or ``"lenient"``; see :class:`Cassette`.

        Returns:
            The cassette in replay mode.
        """
        return cls(path, mode="replay", chunk_size=chunk_size, match=match)

    def __repr__(self) -> str:
        """Return a short description of the cassette."""
        return f"Cassette({str(self.path)!r}, mode={self.mode!r}, interactions={len(self.interactions)})"

    # ------------------------------------------------------------------ replay

    def _error(self, what: str) -> CassetteError:
        return CassetteError(f"cassette {self.path}: {what}")

    def _replay(self, request: httpx2.Request) -> httpx2.Response:
        sent = SentRequest(request)
        with self._lock:
            self.requests.append(request)
            interaction = self._matcher.serve(sent)
            if interaction is not None:
                self.used.append(interaction.id)
                return self._response(interaction, request)
            message = self._matcher.describe_unmatched(sent)
            self._unmatched.append(message)
        raise self._error(message)

    def _response(self, interaction: Interaction, request: httpx2.Request) -> httpx2.Response:
        headers = [
            (name, value)
            for name, values in interaction.response_headers.items()
            if name.lower() not in _DROPPED_REPLAY_HEADERS
            for value in values
        ]
        body = interaction.response_body
        stream = _ChunkedStream(body.encode("utf-8") if isinstance(body, str) else body, self.chunk_size)
        return httpx2.Response(interaction.status_code, headers=headers, stream=stream, request=request)

    def assert_all_used(self) -> None:
        """Check that every interaction was served and no request went unmatched.

        Raises:
            CassetteError: Listing the requests that matched nothing and the ids and URLs of
                the interactions that were never served.
        """
        with self._lock:
            problems: list[str] = []
            if self._unmatched:
                problems.append(f"{len(self._unmatched)} request(s) matched no recorded interaction:")
                problems.extend("  " + m.replace("\n", "\n  ") for m in self._unmatched)
            unused = self._matcher.unused()
            if unused:
                problems.append(f"{len(unused)} recorded interaction(s) were never used:")
                problems.extend(f"  {i.id}: {i.method} {i.url}" for i in unused)
        if problems:
            raise self._error("\n".join(problems))

    # ------------------------------------------------------------------ record

    def _store(self, request: httpx2.Request, response: httpx2.Response, elapsed: float) -> httpx2.Response:
        body = response.content
        with self._lock:
            interaction = scrubbed_interaction(len(self.interactions), request, response, body)
            self.interactions.append(interaction)
            self._matcher.add_served(interaction)
            self.used.append(interaction.id)
            self._durations[interaction.id] = elapsed
            self._protocols[interaction.id] = response.http_version
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in _DROPPED_REPLAY_HEADERS
        ]
        return httpx2.Response(
            response.status_code,
            headers=headers,
            stream=_ChunkedStream(body, None),
            request=request,
            extensions={"http_version": response.extensions.get("http_version", b"HTTP/1.1")},
        )

    def _sync_real(self) -> httpx2.BaseTransport:
        if self._real is None:
            if self._own_sync is None:
                self._own_sync = httpx2.HTTPTransport()
            return self._own_sync
        if not isinstance(self._real, httpx2.BaseTransport):
            raise TypeError("the real transport of this cassette is async-only; use an httpx2.AsyncClient")
        return self._real

    def _async_real(self) -> httpx2.AsyncBaseTransport:
        if self._real is None:
            if self._own_async is None:
                self._own_async = httpx2.AsyncHTTPTransport()
            return self._own_async
        if not isinstance(self._real, httpx2.AsyncBaseTransport):
            raise TypeError("the real transport of this cassette is sync-only; use an httpx2.Client")
        return self._real

    # ------------------------------------------------------------------ transport API

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Serve a request from the cassette (replay) or the real transport (record).

        Args:
            request: The request.

        Returns:
            The recorded (or freshly recorded) response; replayed bodies stream in chunks.

        Raises:
            CassetteError: In replay mode, if no unused interaction matches the request.
        """
        request.read()
        if self.mode == "replay":
            return self._replay(request)
        with self._lock:
            self.requests.append(request)
        started = time.perf_counter()
        response = self._sync_real().handle_request(request)
        try:
            response.read()
        finally:
            response.close()
        return self._store(request, response, time.perf_counter() - started)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Serve a request from the cassette (replay) or the real transport (record).

        Args:
            request: The request.

        Returns:
            The recorded (or freshly recorded) response; replayed bodies stream in chunks.

        Raises:
            CassetteError: In replay mode, if no unused interaction matches the request.
        """
        await request.aread()
        if self.mode == "replay":
            return self._replay(request)
        with self._lock:
            self.requests.append(request)
        started = time.perf_counter()
        response = await self._async_real().handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return self._store(request, response, time.perf_counter() - started)

    # ------------------------------------------------------------------ saving and closing

    def save(self) -> None:
        """Write the recorded interactions to :attr:`path` as go-vcr v2 YAML.

        Raises:
            CassetteError: If the cassette is in replay mode (recordings are never rewritten).
        """
        if self.mode != "record":
            raise self._error("save() is only available in record mode")
        with self._lock:
            interactions = list(self.interactions)
            durations = dict(self._durations)
            protocols = dict(self._protocols)
        save_interactions(self.path, interactions, durations=durations, protocols=protocols)

    def _check_unmatched_on_close(self) -> None:
        with self._lock:
            fresh = self._unmatched[self._unmatched_reported :]
            self._unmatched_reported = len(self._unmatched)
        if fresh:
            raise self._error(
                f"{len(fresh)} request(s) matched no recorded interaction:\n"
                + "\n".join("  " + m.replace("\n", "\n  ") for m in fresh)
            )

    def close(self) -> None:
        """Close the cassette: record mode saves the file and closes the real transport.

        Raises:
            CassetteError: In replay mode, if requests went unmatched since the last close
                (so that a swallowed error still surfaces).
        """
        if self.mode == "record":
            self.save()
            self._close_real()
        else:
            self._check_unmatched_on_close()

    async def aclose(self) -> None:
        """Close the cassette from async code; see :meth:`close`.

        Raises:
            CassetteError: In replay mode, if requests went unmatched since the last close.
        """
        if self.mode == "record":
            self.save()
            await self._aclose_real()
        else:
            self._check_unmatched_on_close()

    def _close_real(self) -> None:
        for transport in (self._own_sync, self._real):
            if isinstance(transport, httpx2.BaseTransport):
                transport.close()

    async def _aclose_real(self) -> None:
        if self._own_async is not None:
            await self._own_async.aclose()
        if self._own_sync is not None:
            self._own_sync.close()
        if isinstance(self._real, httpx2.AsyncBaseTransport):
            await self._real.aclose()
        elif isinstance(self._real, httpx2.BaseTransport):
            self._real.close()

    def __enter__(self) -> Self:
        """Enter a ``with`` block.

        Returns:
            The cassette itself.
        """
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Leave a ``with`` block.

        On success, replay mode calls :meth:`assert_all_used` and record mode saves and closes
        the real transport. After an exception nothing is checked or saved (an existing
        recording is not overwritten by a failed run); record mode only closes the real
        transport. Note that an ``httpx2.Client`` used as a context manager forwards its own
        exit here.

        Raises:
            CassetteError: In replay mode, if the block succeeded but interactions were left
                unused or requests went unmatched.
        """
        if self.mode == "replay":
            if exc_type is None:
                self.assert_all_used()
        elif exc_type is None:
            self.close()
        else:
            self._close_real()

    async def __aenter__(self) -> Self:
        """Enter an ``async with`` block.

        Returns:
            The cassette itself.
        """
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Leave an ``async with`` block; same rules as :meth:`__exit__`.

        Raises:
            CassetteError: As for :meth:`__exit__`.
        """
        if self.mode == "replay":
            if exc_type is None:
                self.assert_all_used()
        elif exc_type is None:
            await self.aclose()
        else:
            await self._aclose_real()

r"""Replay and record go-vcr v2 YAML cassettes through an httpx2 transport.

:class:`Cassette` is an ``httpx2`` transport (sync and async) that answers requests from a
recorded conversation instead of the network, or records a real conversation into a file.

What it does:

* Replay (the default) follows the strict rules of the conformance suite. A request matches
  a recorded interaction when the method is equal, the full URL string is equal (scheme,
  host, path and query) and the bodies are equal after line-ending normalisation (``\r\n``
  becomes ``\n``, and so does the escaped form inside JSON strings). Bodies whose
  normalised texts differ are compared as JSON values: object key order is ignored, array
  order is not, numbers compare by value (``1`` equals ``1.0``), booleans never equal
  numbers and strings compare exactly. Each interaction is served at most once; a request
  gets the first unused match in recorded order. A request that matches nothing raises
  :class:`CassetteError`, and is remembered so that :meth:`Cassette.assert_all_used` (and
  closing the cassette) fails too even if the caller swallowed the exception.
* ``match="lenient"`` (on :class:`Cassette` or :meth:`Cassette.load`) relaxes replay for
  recordings whose request bodies cannot be reproduced exactly: the method and URL must
  still match, bodies are not compared, interactions are served strictly in recorded order
  (a request that would skip one fails) and every interaction must still be used.
* Replayed responses carry the recorded status code, headers and body. The body is handed
  out as a stream of ``chunk_size``-byte pieces (7 by default), so chunk boundaries fall
  inside SSE lines and inside multi-byte UTF-8 characters.
* Record mode forwards every request to a real transport, stores it, and writes a go-vcr v2
  YAML file on :meth:`Cassette.save` / close. Credentials are scrubbed: only the
  ``Accept``, ``Content-Type`` and ``User-Agent`` request headers and the ``Content-Type``
  response header are kept (never ``Authorization``, ``x-api-key`` or ``x-goog-api-key``),
  and ``key=`` query parameters are removed from stored URLs.

What it does not do:

* Request headers are never compared, and recorded fields such as ``proto``,
  ``content_length``, ``uncompressed``, ``form`` and ``duration`` are informational only.
* ``key=`` query parameters are credentials, not request semantics: they are ignored on
  both sides when URLs are compared, so a request that carries an API key in its query
  string replays against a scrubbed recording.
* Record mode buffers each real response completely before returning it (the recorded
  body is stored decoded, so ``Content-Encoding``/``Content-Length`` are dropped); it does
  not simulate streaming timing. Replay never touches the network.

PyYAML (the ``testing`` extra) is imported on first load/save, not at import time, so the
pytest plugin that imports this module stays harmless where PyYAML is not installed.

This module is the public home of these names; the machinery lives in ``reverie._cassette``
(file format, matching, transport) so that code outside the test kit can replay recordings.
"""

from reverie._cassette.file_format import CassetteError, Interaction
from reverie._cassette.transport import Cassette

__all__ = ["Cassette", "CassetteError", "Interaction"]

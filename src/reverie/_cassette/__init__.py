"""Replay and record go-vcr v2 YAML cassettes: the machinery behind ``reverie.testing.Cassette``.

The package is private so that non-test code (``reverie demo``) can replay a recording
without importing the test kit. It is split by job:

* ``file_format``: the go-vcr v2 YAML file (``Interaction``, load, save) and the scrubbing
  of credentials from what gets recorded.
* ``matching``: which recorded interaction answers a request (URL and body comparison),
  and the differences that explain a request that matched nothing.
* ``transport``: ``Cassette``, the httpx2 transport that replays or records.

Importing the package does not import PyYAML; it is loaded on the first load or save.
"""

from reverie._cassette.file_format import CassetteError, Interaction
from reverie._cassette.transport import Cassette

__all__ = ["Cassette", "CassetteError", "Interaction"]

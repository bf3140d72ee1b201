"""Test toolkit for code built on reverie.

- ``Cassette``: an httpx2 transport that replays (or records) go-vcr v2 YAML cassettes,
  strictly: unmatched requests and unused interactions fail.
- ``MockModel``: a scripted ``LanguageModel`` for unit tests of agents.
- ``scenarios``: the recorded conformance programs (tools, agent, assertions).
- A pytest plugin (auto-registered): ``@pytest.mark.cassette("file.yaml")`` plus the
  ``cassette`` fixture, and ``--record-cassettes``.

PyYAML is needed only to load or save cassettes (``pip install "reverie[testing]"``).
"""

from reverie.testing.cassette import Cassette, CassetteError, Interaction
from reverie.testing.mock_model import MockModel

__all__ = ["Cassette", "CassetteError", "Interaction", "MockModel"]

"""Open a recording bundled with the package as a replaying httpx2 transport.

The recordings are replayed strictly (method, URL and JSON-equal body) through
``reverie._cassette``, never through ``reverie.testing``. They are go-vcr cassettes stored as
JSON, so the demo runs on a plain install without PyYAML (the ``testing`` extra).
"""

from __future__ import annotations

from importlib import resources

from reverie._cassette import Cassette

__all__ = ["open_recording"]


def open_recording(name: str) -> Cassette:
    """Load a bundled recording for replay.

    Args:
        name: The file name of the recording inside the ``reverie._demo`` package.

    Returns:
        The cassette, ready to serve as an ``httpx2.Client`` transport.
    """
    path = resources.files("reverie._demo").joinpath(name)
    # The cassette reads the whole file now, so a temporary copy (zipped installs) may go.
    with resources.as_file(path) as file:
        return Cassette.load(file)

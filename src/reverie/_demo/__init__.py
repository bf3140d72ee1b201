"""The offline ``reverie demo``: its programs, their tools, and the recordings it replays.

* ``programs``: what each demo program asks, with which tools, against which recording.
* ``tools``: the tools of the recorded programs (the conformance scenarios use them too).
* ``recordings``: opens a bundled recording (copies of the project's seed recordings) as
  a replaying transport, through ``reverie._cassette``.

Nothing here imports ``reverie.testing``: the command line must run without the test kit.
This ``__init__`` imports nothing, so that locating the bundled files stays cheap.
"""

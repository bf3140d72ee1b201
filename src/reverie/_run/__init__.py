"""The agent run as a pure state machine (``machine``), its configuration and its step builder.

Nothing in this package performs I/O or waits: the driver in ``reverie._async.runner``
(and its generated sync twin) carries out the actions the machine asks for.
"""

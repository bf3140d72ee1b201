"""The agent run as a pure state machine (``machine``), its configuration and its helpers.

``Run`` (``machine``, with ``step_end``) holds the transitions; the other modules are its
configuration, its step builder and the pure helpers it calls.

Nothing in this package performs I/O or waits: the driver in ``reverie._async.runner``
(and its generated sync twin) carries out the actions the machine asks for.
"""

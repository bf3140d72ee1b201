"""Tools the model can call: the ``Tool`` protocol and the ``@tool`` implementation for functions."""

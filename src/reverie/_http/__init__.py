"""The HTTP seams between the engine and a provider: endpoint, auth, stream framing, error map.

Each module here is small and pure (no sockets, no event loop): the engine in
``reverie._async.engine`` (and its generated sync twin) drives them. Nothing is imported
here, so ``import reverie`` stays light.
"""

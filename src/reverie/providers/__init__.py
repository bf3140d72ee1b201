"""Provider modules; import the one you need, e.g. ``from reverie.providers import openrouter``.

Nothing is imported here, so ``import reverie`` stays light: each provider loads only
when its module is imported.
"""

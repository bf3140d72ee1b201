"""Lazy exports for provider modules (PEP 562).

A provider's typed ``Options`` are pydantic models. Defining them when the provider is
imported would import pydantic and build their classes before anyone uses options, a
third of a cold start. The provider module instead names them here and they load on
first access (``openrouter.Options``) or when a request carries options.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any


def lazy_exports(module_name: str, source: str, names: Iterable[str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that loads ``names`` from the module ``source`` on first access."""
    exported = frozenset(names)

    def __getattr__(name: str) -> Any:
        if name not in exported:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        setattr(sys.modules[module_name], name, value)  # later lookups skip this function
        return value

    return __getattr__

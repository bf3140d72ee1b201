"""Lazy module attributes (PEP 562): names that load their defining module on first access.

Used where importing a module eagerly would cost every program, including those that never
touch the name (``import reverie`` does not load the agent's run machinery until ``Agent``
or another name of it is used).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(module_name: str, sources: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that loads each name from its source module on first access."""
    origin = {name: source for source, names in sources.items() for name in names}

    def __getattr__(name: str) -> Any:
        source = origin.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        setattr(sys.modules[module_name], name, value)  # later lookups skip this function
        return value

    return __getattr__

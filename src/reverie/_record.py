"""``Record``: the ``==`` and ``repr`` of reverie's mutable dataclasses, defined once.

``@dataclass`` writes an ``__eq__`` and a ``__repr__`` for every class it decorates, each
compiled from generated source: most of the cost of defining a dataclass, and, for the few
dozen every program loads, a good part of the time ``import reverie`` and a first request
take. The mutable dataclasses a first request loads (stream parts, content, calls, results,
the run's configuration, requests, SSE events) are therefore declared with ``repr=False,
eq=False`` and inherit these two from ``Record``, which behave as the generated ones do:

* ``repr``: ``ClassName(name=value!r, ...)`` over the fields with ``repr=True``, in order, with
  ``...`` for an object already being shown higher up (a value that contains itself).
* ``==``: ``NotImplemented`` unless both are of the same class, else the tuples of the fields
  with ``compare=True`` compared (so a field holding the same object on both sides is equal).
* No hash: a record is mutable, as a dataclass with ``eq=True`` is unhashable.

Frozen dataclasses inherit from ``FrozenRecord`` instead, which adds the hash ``@dataclass``
gives a frozen class with ``eq=True``: the hash of the tuple of its fields with ``hash=True``,
or with ``hash=None`` and ``compare=True`` (their ``__setattr__`` and ``__delattr__``, which
refuse changes, are still the generated ones). Nothing here validates or copies values.
"""

from __future__ import annotations

import dataclasses
from _thread import get_ident
from collections.abc import Callable
from operator import attrgetter
from typing import Any


class Record:
    """Base of the slotted dataclasses declared with ``repr=False, eq=False`` (see the module)."""

    __slots__ = ()

    def __repr__(self) -> str:
        cls = self.__class__
        names = _shown.get(cls)
        if names is None:
            names = _shown[cls] = tuple(
                field.name for field in dataclasses.fields(_dataclass(self)) if field.repr
            )
        key = (id(self), get_ident())
        if key in _showing:
            return "..."
        _showing.add(key)
        try:
            inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        finally:
            _showing.discard(key)
        return f"{cls.__qualname__}({inner})"

    def __eq__(self, other: object) -> bool:
        cls = self.__class__
        if other.__class__ is not cls:
            return NotImplemented
        values = _compared.get(cls)
        if values is None:
            values = _compared[cls] = _values_of(
                tuple(field.name for field in dataclasses.fields(_dataclass(self)) if field.compare)
            )
        return values(self) == values(other)

    __hash__ = None  # pyright: ignore[reportAssignmentType] - unhashable, as an eq dataclass


class FrozenRecord(Record):
    """Base of the frozen dataclasses declared with ``repr=False, eq=False``: hashable by value."""

    __slots__ = ()

    def __hash__(self) -> int:
        cls = self.__class__
        values = _hashed.get(cls)
        if values is None:
            values = _hashed[cls] = _values_of(
                tuple(
                    field.name
                    for field in dataclasses.fields(_dataclass(self))
                    if field.hash or (field.hash is None and field.compare)
                )
            )
        return hash(values(self))


_shown: dict[type[Any], tuple[str, ...]] = {}
"""Per class: the names of the fields its repr shows."""
_compared: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {}
"""Per class: the tuple of the fields its ``==`` compares."""
_hashed: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {}
"""Per class: the tuple of the fields a frozen record's hash is made of."""
_showing: set[tuple[int, int]] = set()
"""The records whose repr is being made, with the thread making it (``...`` when met again)."""


def _dataclass(record: Record) -> Any:
    """``record``, typed for ``dataclasses.fields`` (every subclass is a dataclass)."""
    return record


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) >= 2:
        return attrgetter(*names)  # a tuple, in C
    if names:
        get = attrgetter(names[0])
        return lambda record: (get(record),)
    return lambda record: ()

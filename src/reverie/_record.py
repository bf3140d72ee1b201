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
or with ``hash=None`` and ``compare=True``.

``frozen_dataclass`` is ``@dataclass`` for such classes without two of its generated methods:
a frozen dataclass compiles its own ``__setattr__`` and ``__delattr__``, which refuse changes,
and an ``__init__`` that sets fields with ``object.__setattr__``. ``frozen_dataclass`` builds
the class unfrozen (one generated method, ``__init__``), marks it frozen in
``__dataclass_params__`` and gives it shared ``__setattr__`` and ``__delattr__`` that let its
``__init__`` set the fields and otherwise behave as the generated ones: ``FrozenInstanceError``,
and a subclass that is not a dataclass may set its own attributes. (For a name that is not a
field, CPython 3.11's generated methods of a slotted class raise a ``TypeError`` from
``super()`` instead.) With ``slots=True`` the class also gets the pickling methods
``@dataclass`` adds to a frozen slotted class. A subclass of a frozen dataclass is left to
``@dataclass``.

A module imports it as ``if not TYPE_CHECKING: from reverie._record import frozen_dataclass``,
else ``from dataclasses import dataclass as frozen_dataclass``, in that order, so that type
checkers and the docs (griffe keeps the last import) see ``@dataclass(frozen=True)`` itself.
The price is paid per instance: setting a field in ``__init__`` is a Python call, so the
classes built this way are the ones not made on every step. Nothing here validates or copies
values.
"""

from __future__ import annotations

import dataclasses
from _thread import get_ident
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from operator import attrgetter
from sys import _getframe  # pyright: ignore[reportPrivateUsage] - CPython's, documented
from typing import Any, TypeVar

_T = TypeVar("_T")


class Record:
    """Base of the slotted dataclasses declared with ``repr=False, eq=False`` (see the module)."""

    __slots__ = ()

    def __repr__(self) -> str:
        cls = self.__class__
        names = _shown.get(cls)
        if names is None:
            names = _shown[cls] = _names_of(cls, lambda field: field.repr)
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
            values = _compared[cls] = _values_of(_names_of(cls, lambda field: field.compare))
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
                _names_of(cls, lambda field: field.hash or (field.hash is None and field.compare))
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


def _names_of(cls: Any, keep: Callable[[dataclasses.Field[Any]], bool | None]) -> tuple[str, ...]:
    """The names of the fields of ``cls`` (a dataclass) that ``keep`` keeps, in order."""
    return tuple(field.name for field in dataclasses.fields(cls) if keep(field))


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) >= 2:
        return attrgetter(*names)  # a tuple, in C
    if names:
        get = attrgetter(names[0])
        return lambda record: (get(record),)
    return lambda record: ()


def frozen_dataclass(*, frozen: bool, **options: Any) -> Callable[[type[_T]], type[_T]]:
    """``@dataclass(frozen=True, **options)``, with shared ``__setattr__`` and ``__delattr__``."""
    if frozen is not True:
        raise TypeError("frozen_dataclass makes frozen classes: pass frozen=True")

    def make(cls: type[_T]) -> type[_T]:
        if any(_is_frozen_dataclass(base) for base in cls.__mro__[1:]):
            # A frozen dataclass's subclass must be declared frozen: let @dataclass do it all.
            return dataclasses.dataclass(cls, frozen=True, **options)
        made: Any = dataclasses.dataclass(cls, **options)
        made.__dataclass_params__.frozen = True
        made.__setattr__ = _frozen_setattr
        made.__delattr__ = _frozen_delattr
        if options.get("slots"):
            made.__getstate__ = _frozen_getstate
            made.__setstate__ = _frozen_setstate
        _frozen[made] = (made, made.__init__.__code__, frozenset(_names_of(made, lambda field: True)))
        return made

    return make


_frozen: dict[type[Any], tuple[type[Any], object, frozenset[str]]] = {}
"""Per class made by (or derived from one made by) ``frozen_dataclass``: that class, the code
of its ``__init__`` and its field names."""


def _is_frozen_dataclass(cls: type[Any]) -> bool:
    params = cls.__dict__.get("__dataclass_params__")
    return params is not None and params.frozen


def _frozen_of(cls: type[Any]) -> tuple[type[Any], object, frozenset[str]]:
    """``_frozen`` for ``cls`` or, for a subclass, for the base that ``frozen_dataclass`` made."""
    found = _frozen.get(cls)
    if found is None:
        owner = next(base for base in cls.__mro__ if base.__dict__.get("__setattr__") is _frozen_setattr)
        found = _frozen[cls] = _frozen[owner]
    return found


def _frozen_setattr(self: object, name: str, value: Any) -> None:
    owner, init_code, names = _frozen.get(type(self)) or _frozen_of(type(self))
    if _getframe(1).f_code is init_code:  # the generated __init__ setting a field
        object.__setattr__(self, name, value)
    elif type(self) is owner or name in names:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")
    else:
        super(owner, self).__setattr__(name, value)


def _frozen_delattr(self: object, name: str) -> None:
    owner, _, names = _frozen_of(type(self))
    if type(self) is owner or name in names:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
    super(owner, self).__delattr__(name)


def _frozen_getstate(self: Any) -> list[Any]:
    return [getattr(self, field.name) for field in dataclasses.fields(self)]


def _frozen_setstate(self: Any, state: list[Any]) -> None:
    for field, value in zip(dataclasses.fields(self), state, strict=False):
        object.__setattr__(self, field.name, value)

"""The instrumentation seam: a context manager around every action the driver carries out.

The default does nothing and costs one shared ``nullcontext``; tracing spans will be an
implementation of ``RunHooks``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from reverie._run.actions import Action


class RunHooks(Protocol):
    """Wraps the driver's work on each action."""

    def around(self, action: Action, /) -> AbstractContextManager[object]:
        """A context manager entered before ``action`` is carried out and left after it."""
        ...


_NOTHING: AbstractContextManager[object] = nullcontext()


class _NoHooks:
    __slots__ = ()

    def around(self, action: Action, /) -> AbstractContextManager[object]:
        return _NOTHING

    def __repr__(self) -> str:
        return "NO_HOOKS"


NO_HOOKS: RunHooks = _NoHooks()
"""Hooks that do nothing (the default)."""

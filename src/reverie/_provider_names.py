"""The provider names ``provider_options`` may use, so that a misspelt one is an error.

Every ``Provider`` subclass registers its ``name`` when the class is created, the test kit's
``MockModel`` registers ``"mock"``, and the packages under ``reverie.providers`` count as known
without being imported (a call may carry options for a provider it does not use). A name
outside these, other than the name of the model in use, is a ``UserError`` that suggests the
closest known name. This module holds names only; it does not import providers.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reverie._errors import UserError

_registered: set[str] = set()
_bundled: frozenset[str] | None = None


def register_provider_name(name: str) -> None:
    """Make ``name`` a known ``provider_options`` key (custom providers call this by subclassing)."""
    _registered.add(name)


def known_provider_names() -> frozenset[str]:
    """Every registered name and the names of the provider packages that ship with reverie."""
    return frozenset(_registered) | _bundled_names()


def check_provider_options(names: Iterable[str], *, in_use: str | None = None) -> None:
    """Raise ``UserError`` for a ``provider_options`` key that names no known provider.

    Args:
        names: The keys of ``provider_options``.
        in_use: The provider of the model the options go to, known whatever its name.
    """
    known: frozenset[str] | None = None
    for name in names:
        if name == in_use or name in _registered:
            continue
        known = known or known_provider_names()
        if name in known:
            continue
        import difflib  # only on this error path

        close = difflib.get_close_matches(name, sorted(known), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UserError(
            f"provider_options has options for {name!r}, which is no known provider; {hint}"
            f"known: {', '.join(sorted(known if in_use is None else known | {in_use}))}"
        )


def _bundled_names() -> frozenset[str]:
    global _bundled
    if _bundled is None:
        # The package directories, listed without importing them (import reverie stays light).
        root = Path(__file__).parent / "providers"
        try:
            entries = [entry.name for entry in root.iterdir() if entry.is_dir()]
        except OSError:  # not a directory (a zipped install): registered names still count
            entries = []
        _bundled = frozenset(name for name in entries if not name.startswith("_"))
    return _bundled

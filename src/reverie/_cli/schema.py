"""``reverie run --schema``: load the schema the answer must fit, and turn the object into JSON.

The argument is a JSON-schema file (``person.json``: any existing file, or a name ending in
``.json``) or an importable type written ``module:Type`` (``models:Person``,
``app.schemas:Outer.Inner``): a pydantic model, a dataclass or a ``TypedDict``. The current
directory is importable, as it is for ``python -m``.

Does not: ask the model (``run``); the agent's ``output_type`` validates the answer.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from reverie._cli.common import UsageError

Schema = type[Any] | dict[str, Any]
"""A JSON-schema dict, or a type pydantic validates."""


def load_schema(argument: str) -> Schema:
    """The schema ``--schema argument`` names.

    Raises:
        UsageError: The file cannot be read or is not a JSON object, or the type cannot be
            imported or is not a type.
    """
    path = Path(argument)
    if argument.endswith(".json") or path.is_file():
        return _schema_file(argument, path)
    module_name, colon, qualified_name = argument.partition(":")
    if not colon or not module_name or not qualified_name:
        raise UsageError(
            f"--schema {argument}: give a JSON schema file (FILE.json) or an importable type (module:Type)"
        )
    return _schema_type(argument, module_name, qualified_name)


def _schema_file(argument: str, path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--schema {argument}: cannot read the file ({error.strerror or error})") from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"--schema {argument}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(schema, dict):
        raise UsageError(f"--schema {argument}: a JSON schema is a JSON object, not {type(schema).__name__}")
    return schema  # pyright: ignore[reportUnknownVariableType] - JSON values


def _schema_type(argument: str, module_name: str, qualified_name: str) -> type[Any]:
    # A console script's sys.path starts with its own folder, not the current one: add it,
    # so that "models:Person" finds ./models.py as it would with "python -m".
    here = os.getcwd()
    if here not in sys.path:
        sys.path.insert(0, here)
    try:
        found: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"--schema {argument}: cannot import {module_name!r} ({error})") from None
    except Exception as error:  # the user's module failed while it ran
        raise UsageError(
            f"--schema {argument}: importing {module_name!r} failed ({type(error).__name__}: {error})"
        ) from None
    for name in qualified_name.split("."):
        try:
            found = getattr(found, name)
        except AttributeError:
            raise UsageError(f"--schema {argument}: {module_name!r} has no {qualified_name!r}") from None
    if not isinstance(found, type):
        raise UsageError(
            f"--schema {argument}: {qualified_name!r} is not a type "
            "(a pydantic model, dataclass or TypedDict)"
        )
    return found


def object_to_json(value: Any, schema: Schema) -> Any:
    """``value`` (an instance of ``schema``'s type, or plain JSON for a dict schema) as JSON values."""
    if isinstance(schema, dict):
        return value
    from pydantic import TypeAdapter

    return TypeAdapter(schema).dump_python(value, mode="json")

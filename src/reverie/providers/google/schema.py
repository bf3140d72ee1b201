"""JSON schema to Gemini's schema dialect (an OpenAPI 3.0 subset), for function declarations.

What changes on the way (the recorded tools become
``{"type": "OBJECT", "properties": {"location": {"type": "STRING", ...}}, "required": [...]}``):

- ``type`` is upper-cased; ``"null"`` in a type list or an ``anyOf``/``oneOf`` becomes
  ``nullable: true`` (pydantic writes ``Optional[int]`` as ``anyOf: [{type: integer}, {type: null}]``);
  a single remaining alternative is merged into its parent;
- local ``$ref`` pointers (``#/$defs/...``, ``#/definitions/...``) are inlined, a single-entry
  ``allOf`` is merged, ``oneOf`` becomes ``anyOf`` and ``const`` a one-value ``enum``;
- everything Gemini does not accept (``additionalProperties``, ``patternProperties``,
  ``not``, ``exclusiveMinimum``, recursive ``$ref`` pointers, formats other than the supported
  ones, non-string enums, ...) is dropped and reported, so that the caller can warn
  instead of sending a request the API rejects with a 400.

This module only converts schemas; it does not build requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

__all__ = ["to_gemini_schema"]

_TYPES = {
    "string": "STRING",
    "number": "NUMBER",
    "integer": "INTEGER",
    "boolean": "BOOLEAN",
    "array": "ARRAY",
    "object": "OBJECT",
}
_COPIED = frozenset(
    {
        "description",
        "title",
        "pattern",
        "required",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
        "minLength",
        "maxLength",
        "minProperties",
        "maxProperties",
        "nullable",
        "default",
        "example",
        "propertyOrdering",
    }
)
_FORMATS = frozenset({"enum", "date-time", "int32", "int64", "float", "double"})
# Annotations that say nothing to the model; dropping them loses nothing worth a warning.
_SILENT = frozenset({"$schema", "$id", "$comment", "$defs", "definitions"})


def to_gemini_schema(schema: Mapping[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """Convert a JSON schema to Gemini's dialect.

    Args:
        schema: A JSON schema, usually a tool's ``parameters`` object schema.

    Returns:
        The converted schema, or ``None`` for an object schema without properties (Gemini
        wants no ``parameters`` at all then), and the dropped features, each named with
        where it was, e.g. ``"additionalProperties at #/properties/user"``.
    """
    converter = _Converter(schema)
    converted = converter.convert(schema, "#")
    if converted.get("type") == "OBJECT" and not converted.get("properties"):
        return None, converter.dropped
    return converted, converter.dropped


class _Converter:
    __slots__ = ("dropped", "root", "stack")

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.dropped: list[str] = []
        self.stack: list[str] = []

    def drop(self, what: str, path: str) -> None:
        self.dropped.append(f"{what} at {path}")

    def convert(self, node: Any, path: str) -> dict[str, Any]:
        if not isinstance(node, Mapping):
            self.drop(f"boolean schema {node!r}", path)
            return {}
        schema = dict(cast(Mapping[str, Any], node))
        ref = schema.pop("$ref", None)
        if ref is not None:
            target = self.resolve(ref)
            if target is None or ref in self.stack:
                self.drop(f"$ref {ref!r}" + (" (recursive)" if ref in self.stack else ""), path)
            else:
                self.stack.append(ref)
                try:
                    # Sibling keywords (a field's description) override the referenced ones.
                    return self.convert({**target, **schema}, path)
                finally:
                    self.stack.pop()
        all_of = schema.pop("allOf", None)
        if all_of is not None:
            if isinstance(all_of, list) and len(cast(list[Any], all_of)) == 1:
                only = cast(list[Any], all_of)[0]
                if isinstance(only, Mapping):
                    return self.convert({**cast(Mapping[str, Any], only), **schema}, path)
            self.drop("allOf", path)
        out: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key, value in schema.items():
            if key == "type":
                self.convert_type(value, out, path)
            elif key in ("anyOf", "oneOf"):
                merged.update(self.convert_variants(key, value, out, path))
            elif key == "properties" and isinstance(value, Mapping):
                properties = cast(Mapping[str, Any], value)
                out["properties"] = {}
                for name, sub in properties.items():
                    converted = self.convert(sub, f"{path}/properties/{name}")
                    if self.typed(converted, f"{path}/properties/{name}"):
                        out["properties"][name] = converted
            elif key == "items":
                if not isinstance(value, Mapping):
                    self.drop("items (tuple form)", path)
                elif self.typed(converted := self.convert(value, f"{path}/items"), f"{path}/items"):
                    out["items"] = converted
            elif key in ("enum", "const"):
                values = cast(list[Any], value) if key == "enum" and isinstance(value, list) else [value]
                # Gemini's enum is a list of strings; other values would make the request fail.
                if all(isinstance(item, str) for item in values):
                    out["enum"] = values
                else:
                    self.drop(f"{key} with non-string values", path)
            elif key == "format":
                if value in _FORMATS:
                    out["format"] = value
                else:
                    self.drop(f"format {value!r}", path)
            elif key == "examples":
                if isinstance(value, list) and value:
                    out.setdefault("example", cast(list[Any], value)[0])
            elif key in _COPIED:
                if value is not None:  # pydantic's "default": null says nothing; no nulls on the wire
                    out[key] = value
            elif key not in _SILENT:
                self.drop(key, path)
        result = {**merged, **out}  # The parent's own keywords (its description) win.
        if "enum" in result and "type" not in result:
            result["type"] = "STRING"  # Gemini enums are string enums; a bare const/enum needs the type.
        if "required" in result and isinstance(result.get("properties"), dict):
            # Only names that survived conversion may be required.
            result["required"] = [name for name in result["required"] if name in result["properties"]]
        return result

    def typed(self, schema: dict[str, Any], path: str) -> bool:
        # Gemini requires a type on every schema, and an OBJECT needs properties ("should be
        # non-empty for OBJECT type"): an untyped schema ({} for "any value", or what is left
        # of a recursive $ref) or a free-form object (dict[str, int]) would be a 400, so it
        # is dropped instead.
        if schema.get("type") == "OBJECT" and not schema.get("properties"):
            self.drop("object without properties", path)
            return False
        if "type" in schema or "anyOf" in schema:
            return True
        self.drop("untyped schema", path)
        return False

    def convert_type(self, value: Any, out: dict[str, Any], path: str) -> None:
        names = cast(list[Any], value) if isinstance(value, list) else [value]
        if "null" in names:
            out["nullable"] = True
        kinds: list[str] = []
        for name in names:
            if name == "null":
                continue
            kind = _TYPES.get(name) if isinstance(name, str) else None
            if kind is None:
                self.drop(f"type {name!r}", path)
            else:
                kinds.append(kind)
        if len(kinds) == 1:
            out["type"] = kinds[0]
        elif kinds:
            out["anyOf"] = [{"type": kind} for kind in kinds]

    def convert_variants(self, key: str, value: Any, out: dict[str, Any], path: str) -> dict[str, Any]:
        if not isinstance(value, list):
            self.drop(key, path)
            return {}
        variants: list[dict[str, Any]] = []
        for index, variant in enumerate(cast(list[Any], value)):
            if isinstance(variant, Mapping) and cast(Mapping[str, Any], variant).get("type") == "null":
                out["nullable"] = True
                continue
            variants.append(self.convert(variant, f"{path}/{key}/{index}"))
        if len(variants) == 1:
            return variants[0]
        if variants:
            out["anyOf"] = variants
        return {}

    def resolve(self, ref: Any) -> Mapping[str, Any] | None:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return None
        node: Any = self.root
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or token not in node:
                return None
            node = cast(Mapping[str, Any], node)[token]
        return cast(Mapping[str, Any], node) if isinstance(node, Mapping) else None

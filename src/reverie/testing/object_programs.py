"""The conformance ``object`` programs: ``generate_object`` / ``stream_object`` and their checks.

A manifest entry with ``program: "object"`` asks a model for a Person or a Book (the
``object`` field: ``schema`` as a dict, ``schema_name``, ``schema_description``, ``mode``
and ``schema_form``). ``object_schema`` gives the schema in either form (the dict, or the
equivalent pydantic model of ``SCENARIOS-v041.md``); ``run_object_program`` /
``run_object_program_async`` make the call the way the entry says (``generate_object``, or
``stream_object`` iterated then ``result()``); ``check_object_program`` evaluates the entry's
assertions (``object_shape``, ``raw_text_nonempty``, ``usage_total_tokens_positive``,
``object_parts_min``, ``finish_reason_not``).

What it does not do: replay (the caller wires a ``Cassette`` into the provider, built with
``reverie.testing.scenarios.build_provider``) or agent programs (``scenarios`` runs those).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from pydantic import BaseModel, Field

from reverie._objects.results import ObjectPart, ObjectResult, ObjectStreamPart
from reverie._parts import FinishPart

__all__ = [
    "Author",
    "Book",
    "ObjectRun",
    "Person",
    "check_object_program",
    "object_arguments",
    "object_schema",
    "run_object_program",
    "run_object_program_async",
]

SchemaForm = Literal["dict", "pydantic"]

# The pydantic forms of SCENARIOS-v041.md's schemas: Person (simple_object), its Author and
# Book (complex_object). They have no docstrings, which would become schema descriptions.


class Person(BaseModel):  # noqa: D101 (a docstring would become the schema's description)
    name: str = Field(description="The person's name")
    age: int = Field(description="The person's age")
    city: str = Field(description="The city where the person lives")


class Author(BaseModel):  # noqa: D101 (a docstring would become the schema's description)
    name: str = Field(description="Author's name")
    nationality: str = Field(description="Author's nationality")


class Book(BaseModel):  # noqa: D101 (a docstring would become the schema's description)
    title: str = Field(description="The book title")
    author: Author
    genres: list[str] = Field(description="List of genres")
    published_year: int = Field(description="Year the book was published")


_MODELS: dict[str, type[BaseModel]] = {"person": Person, "book": Book}


@dataclass(slots=True, kw_only=True)
class ObjectRun:
    """What an object program produced: the result and, when it streamed, every part."""

    result: ObjectResult[Any]
    parts: list[ObjectStreamPart] = field(default_factory=list[ObjectStreamPart])


def object_schema(program: Mapping[str, Any], form: SchemaForm | None = None) -> Any:
    """The program's schema: the manifest's dict, or the equivalent pydantic model.

    Args:
        program: The entry's ``object`` field.
        form: ``dict`` or ``pydantic``; ``None`` takes the entry's ``schema_form``.
    """
    chosen = form or program.get("schema_form", "dict")
    return _MODELS[program["shape"]] if chosen == "pydantic" else program["schema"]


def object_arguments(
    prompt: str, program: Mapping[str, Any], *, max_output_tokens: int | None, form: SchemaForm | None = None
) -> dict[str, Any]:
    """The keyword arguments of ``generate_object`` / ``stream_object`` for the program."""
    return {
        "prompt": prompt,
        "schema": object_schema(program, form),
        "schema_name": program.get("schema_name"),
        "schema_description": program.get("schema_description"),
        "mode": program.get("mode", "auto"),
        "max_output_tokens": max_output_tokens,
    }


def run_object_program(model: Any, arguments: Mapping[str, Any], *, streaming: bool) -> ObjectRun:
    """Make the program's call on ``model`` (sync)."""
    if not streaming:
        return ObjectRun(result=model.generate_object(**arguments))
    stream = model.stream_object(**arguments)
    parts: list[ObjectStreamPart] = list(stream)
    return ObjectRun(result=stream.result(), parts=parts)


async def run_object_program_async(model: Any, arguments: Mapping[str, Any], *, streaming: bool) -> ObjectRun:
    """Make the program's call on ``model`` (async); see ``run_object_program``."""
    if not streaming:
        return ObjectRun(result=await model.generate_object_async(**arguments))
    stream = model.stream_object_async(**arguments)
    parts: list[ObjectStreamPart] = [part async for part in stream]
    return ObjectRun(result=await stream.result(), parts=parts)


def check_object_program(assertions: list[dict[str, Any]], run: ObjectRun) -> list[str]:
    """The assertions the run fails, as messages (empty when all hold).

    ``all_interactions_used`` and ``request_header`` are about the requests sent, the
    cassette's business (``reverie.testing.scenarios.check_requests``), and are skipped here.
    """
    failures: list[str] = []
    for assertion in assertions:
        check = _CHECKS.get(assertion["check"])
        problem = f"unknown check {assertion['check']!r}" if check is None else check(assertion, run)
        if problem:
            failures.append(f"{assertion['check']}: {problem}")
    return failures


def plain(value: Any) -> Any:
    """``value`` as plain JSON values (a validated model becomes its dict)."""
    import pydantic_core

    return pydantic_core.to_jsonable_python(value)


def _object_shape(assertion: Mapping[str, Any], run: ObjectRun) -> str | None:
    if assertion.get("of") == "last_part":
        objects = [part.object for part in run.parts if isinstance(part, ObjectPart)]
        if not objects:
            return "no object part was streamed"
        value = objects[-1]
    else:
        value = plain(run.result.object)
    if not isinstance(value, dict):
        return f"expected an object, got {type(value).__name__}"
    mapping = cast(dict[str, Any], value)
    shape: str = assertion["shape"]
    problems = _person_problems(mapping) if shape == "person" else _book_problems(mapping)
    return "; ".join(problems) or None


def _person_problems(value: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not isinstance(value.get("name"), str) or not value["name"]:
        problems.append(f"name {value.get('name')!r} is not a non-empty string")
    age = value.get("age")
    if isinstance(age, bool) or not isinstance(age, int | float) or age <= 0:
        problems.append(f"age {age!r} is not a number > 0")
    if not isinstance(value.get("city"), str):
        problems.append(f"city {value.get('city')!r} is not a string")
    return problems


def _book_problems(value: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    title = value.get("title")
    if not isinstance(title, str) or "rings" not in title.lower():
        problems.append(f"title {title!r} does not mention rings")
    author = value.get("author")
    if not isinstance(author, dict) or not {"name", "nationality"} <= set(author):  # pyright: ignore[reportUnknownArgumentType]
        problems.append(f"author {author!r} lacks name or nationality")
    genres = value.get("genres")
    if not isinstance(genres, list) or not genres or not all(isinstance(genre, str) for genre in genres):  # pyright: ignore[reportUnknownVariableType]
        problems.append(f"genres {genres!r} is not a non-empty list of strings")
    year = value.get("published_year")
    if isinstance(year, bool) or not isinstance(year, int | float) or year <= 1900:
        problems.append(f"published_year {year!r} is not > 1900")
    return problems


def _finish(run: ObjectRun) -> FinishPart | None:
    finishes = [part for part in run.parts if isinstance(part, FinishPart)]
    return finishes[-1] if finishes else None


def _raw_text_nonempty(assertion: Mapping[str, Any], run: ObjectRun) -> str | None:
    return None if run.result.raw_text.strip() else "the raw text is empty"


def _usage_total_tokens_positive(assertion: Mapping[str, Any], run: ObjectRun) -> str | None:
    finish = _finish(run)
    usage = finish.usage if finish is not None else run.result.usage
    return None if usage.total_tokens > 0 else f"total_tokens is {usage.total_tokens}"


def _object_parts_min(assertion: Mapping[str, Any], run: ObjectRun) -> str | None:
    count = sum(1 for part in run.parts if isinstance(part, ObjectPart))
    return None if count >= assertion["value"] else f"{count} object parts, expected >= {assertion['value']}"


def _finish_reason_not(assertion: Mapping[str, Any], run: ObjectRun) -> str | None:
    finish = _finish(run)
    if finish is None:
        return "no finish part"
    if finish.finish_reason == assertion["value"]:
        return f"the finish reason is {finish.finish_reason!r}"
    return None


def _about_requests(assertion: Mapping[str, Any], run: ObjectRun) -> str | None:
    return None


_CHECKS: dict[str, Callable[[Mapping[str, Any], ObjectRun], str | None]] = {
    "object_shape": _object_shape,
    "raw_text_nonempty": _raw_text_nonempty,
    "usage_total_tokens_positive": _usage_total_tokens_positive,
    "object_parts_min": _object_parts_min,
    "finish_reason_not": _finish_reason_not,
    "all_interactions_used": _about_requests,
    "request_header": _about_requests,
}

"""``BatchResult``: one item's outcome, and the output line written for it.

An output line is ``{"id", "text", "output" (only when the agent has an output type), "usage",
"cost"}`` for an answered item, ``{"id", "error"}`` for a failed one. The same line is what the
store keeps, so a resumed batch rebuilds its earlier results from it.

Does not: run items, store lines (``store``) or choose what failed for good (``work``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from reverie._content import Usage
from reverie._errors import ReverieError

if TYPE_CHECKING:
    from reverie._batch.items import ItemId
    from reverie._results import AgentResult

BatchStatus = Literal["answered", "failed"]


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What became of one batch item.

    Attributes:
        id: The item's id.
        text: The answer's text (``None`` when the item failed).
        output: The typed output when the agent has an ``output_type``; plain JSON values for
            an item answered in an earlier, resumed run; ``None`` otherwise.
        usage: Tokens over the item's run (``None`` when it failed).
        cost: US dollars over the item's run (``None``: failed, or no price known).
        error: Why the item failed (the error's message; ``None`` when answered).
        status: ``"answered"`` or ``"failed"``.
        result: The whole ``AgentResult`` when the item was answered in this process
            (``None`` for a failed item and for one read back from a journal).
    """

    id: ItemId
    status: BatchStatus
    text: str | None = None
    output: Any = None
    usage: Usage | None = None
    cost: float | None = None
    error: str | None = None
    result: AgentResult[Any] | None = field(default=None, repr=False, compare=False)


def answered(item_id: ItemId, result: AgentResult[Any], *, typed: bool) -> tuple[BatchResult, dict[str, Any]]:
    """The result and output line of an answered item; ``typed``: the agent has an output type."""
    usage = result.total_usage
    cost = result.total_cost
    text = result.text  # a property that walks the steps: read once
    line: dict[str, Any] = {"id": item_id, "text": text}
    output = None
    if typed:
        output = result.output
        line["output"] = _jsonable(output)
    line["usage"] = usage_dict(usage)
    line["cost"] = cost
    return (
        BatchResult(
            id=item_id,
            status="answered",
            text=text,
            output=output,
            usage=usage,
            cost=cost,
            result=result,
        ),
        line,
    )


def failed(item_id: ItemId, error: BaseException | str) -> tuple[BatchResult, dict[str, Any]]:
    """The result and output line of a failed item (``error``: the exception or a message)."""
    message = error if isinstance(error, str) else error_message(error)
    return BatchResult(id=item_id, status="failed", error=message), {"id": item_id, "error": message}


def from_line(line: dict[str, Any], status: BatchStatus) -> BatchResult:
    """The result a stored output line describes (an item finished in an earlier run)."""
    if status == "failed":
        return BatchResult(id=line["id"], status="failed", error=str(line.get("error")))
    usage = line.get("usage")
    return BatchResult(
        id=line["id"],
        status="answered",
        text=line.get("text"),
        output=line.get("output"),
        usage=Usage(**cast(dict[str, int], usage)) if isinstance(usage, dict) else None,
        cost=line.get("cost"),
    )


def usage_dict(usage: Usage) -> dict[str, int]:
    """``usage`` as an output line's ``usage`` (``dataclasses.asdict``, without its deep copy)."""
    return {name: getattr(usage, name) for name in _USAGE_FIELDS}


_USAGE_FIELDS = tuple(field.name for field in dataclasses.fields(Usage))


def error_message(error: BaseException) -> str:
    """What an output line says about ``error``: a reverie error's message, else its type too."""
    if isinstance(error, ReverieError):
        return str(error) or type(error).__name__
    return f"{type(error).__name__}: {error}"


def _jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python  # an output type means pydantic is loaded already

    return to_jsonable_python(value)

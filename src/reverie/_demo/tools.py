"""The tools of the recorded programs: ``weather``, ``add`` and ``multiply``.

Their names, descriptions and schemas are part of the recorded requests, so they must not
change. The demo uses them, and ``reverie.testing.scenarios`` re-exports them for the
conformance programs. Importing this module imports pydantic (for the field descriptions).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from reverie._tools.function import FunctionTool, tool

__all__ = ["TOOLS", "add", "multiply", "weather"]


@tool
def weather(location: Annotated[str, Field(description="the city")]) -> str:
    """Get weather information for a location"""  # noqa: D415 - the recorded description
    return "40 C"


@tool
def add(
    a: Annotated[int, Field(description="first number")],
    b: Annotated[int, Field(description="second number")],
) -> str:
    """Add two numbers"""  # noqa: D415
    return str(a + b)


@tool
def multiply(
    a: Annotated[int, Field(description="first number")],
    b: Annotated[int, Field(description="second number")],
) -> str:
    """Multiply two numbers"""  # noqa: D415
    return str(a * b)


TOOLS: dict[str, FunctionTool[..., Any]] = {"weather": weather, "add": add, "multiply": multiply}
"""The tools of the recorded programs, by name."""

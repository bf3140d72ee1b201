"""Callbacks that may be ``async def``: awaited by async runs, refused by sync runs.

The run machine calls every callback as a plain function. Before a run starts, the driver
adopts the agent's callbacks here: in an async run each callback is wrapped so that what it
returns, when awaitable (an ``async def`` callback's coroutine), is queued for the driver to
await before it goes on; a sync run refuses an ``async def`` callback with a ``UserError``
before any request, and any other callback that returns an awaitable when it is called.
``prepare_step`` and ``repair_tool_call`` answer with a value the run needs at once, so they
must be plain functions in both colours: an ``async def`` one is a ``UserError`` before any
request. This module does not await anything itself.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from reverie._errors import UserError
from reverie._run.config import CALLBACK_NAMES, Callbacks, RunConfig, has_callbacks

_Wrap = Callable[[str, Callable[[Any], Any]], Callable[[Any], None]]


def adopt_callbacks_async(config: RunConfig) -> tuple[RunConfig, list[Awaitable[Any]]]:
    """``config`` with callbacks whose awaitable outcomes land in the returned queue."""
    pending: list[Awaitable[Any]] = []
    if not has_callbacks(config):
        return config, pending

    def wrap(name: str, callback: Callable[[Any], Any]) -> Callable[[Any], None]:
        del name

        def queued(argument: Any) -> None:
            outcome = callback(argument)
            if outcome is not None and inspect.isawaitable(outcome):
                pending.append(outcome)

        return queued

    return _wrapped(_plain_hooks(config), wrap), pending


def adopt_callbacks(config: RunConfig) -> tuple[RunConfig, list[Awaitable[Any]]]:
    """``config`` for a sync run: an ``async def`` callback is a ``UserError`` now, not ignored later."""
    if not has_callbacks(config):
        return config, []
    for name, callback in _set_callbacks(config.callbacks):
        if _is_async(callback):
            raise _refusal(name)

    def wrap(name: str, callback: Callable[[Any], Any]) -> Callable[[Any], None]:
        def checked(argument: Any) -> None:
            outcome = callback(argument)
            if outcome is not None and inspect.isawaitable(outcome):
                close = getattr(outcome, "close", None)
                if close is not None:
                    close()  # never awaited: closing it avoids a "never awaited" warning
                raise _refusal(name)

        return checked

    return _wrapped(_plain_hooks(config), wrap), []


def _plain_hooks(config: RunConfig) -> RunConfig:
    """``config`` with ``prepare_step`` and ``repair_tool_call`` checked to answer synchronously."""
    changes: dict[str, Any] = {}
    for name in ("prepare_step", "repair_tool_call"):
        hook: Callable[..., Any] | None = getattr(config, name)
        if hook is None:
            continue
        if _is_async(hook):
            raise _hook_refusal(name)
        changes[name] = _answering(name, hook)
    return dataclasses.replace(config, **changes) if changes else config


def _answering(name: str, hook: Callable[..., Any]) -> Callable[..., Any]:
    def checked(*arguments: Any) -> Any:
        answer = hook(*arguments)
        if answer is not None and inspect.isawaitable(answer):
            close = getattr(answer, "close", None)
            if close is not None:
                close()
            raise _hook_refusal(name)
        return answer

    return checked


def _hook_refusal(name: str) -> UserError:
    return UserError(f"{name} must be a plain def: the run needs its answer at once, so it cannot be awaited")


def _is_async(callback: object) -> bool:
    return inspect.iscoroutinefunction(callback) or inspect.iscoroutinefunction(
        getattr(callback, "__call__", None)  # noqa: B004 (an object with an async __call__)
    )


def _refusal(name: str) -> UserError:
    return UserError(
        f"{name} is an async callback, which a sync run cannot await; use generate_async / "
        "stream_async, or pass a plain def"
    )


def _set_callbacks(callbacks: Callbacks) -> list[tuple[str, Callable[[Any], Any]]]:
    # The names are computed once: this runs at the start of every run.
    return [(name, value) for name in CALLBACK_NAMES if (value := getattr(callbacks, name)) is not None]


def _wrapped(config: RunConfig, wrap: _Wrap) -> RunConfig:
    present = _set_callbacks(config.callbacks)
    if not present:
        return config
    wrapped = {name: wrap(name, callback) for name, callback in present}
    return dataclasses.replace(config, callbacks=dataclasses.replace(config.callbacks, **wrapped))

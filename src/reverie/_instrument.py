"""Turning tracing on and off: ``reverie.instrument()``, ``reverie.uninstrument()``, per-agent choice.

This module holds the settings and picks the hooks of each run; it imports nothing from
OpenTelemetry itself. ``reverie._otel`` (which does) is imported only once instrumentation
is on: by ``instrument()``, by ``Agent(instrument=True)``, or by the first run that needs it.
Without either switch a run gets ``NO_HOOKS`` and records nothing, even when a global
tracer provider is set.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reverie._errors import UserError
from reverie._run.hooks import NO_HOOKS, RunHooks

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from reverie._otel.telemetry import Telemetry


@dataclass(slots=True, eq=False)
class Instrumentation:
    """Where spans and metrics go, and whether message content is recorded."""

    tracer_provider: TracerProvider | None = None
    """``None``: the global tracer provider (looked up when a span is made, so one set later is used)."""
    meter_provider: MeterProvider | None = None
    """``None``: the global meter provider (likewise)."""
    capture_content: bool = False
    """Record prompts, answers, tool arguments and tool results (as JSON) on the spans."""
    _telemetry: Telemetry | None = field(default=None, repr=False)

    def telemetry(self) -> Telemetry:
        """The tracer and instruments, made once for these settings."""
        if self._telemetry is None:
            from reverie._otel.telemetry import Telemetry

            self._telemetry = Telemetry.build(self.tracer_provider, self.meter_provider)
        return self._telemetry


_settings: Instrumentation | None = None
"""What ``instrument()`` set; ``None``: off for agents that do not ask for it."""
_default: Instrumentation | None = None
"""What ``Agent(instrument=True)`` uses while ``instrument()`` is off: global providers, no content."""


def instrument(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    capture_content: bool = False,
) -> None:
    """Record OpenTelemetry spans and metrics for the runs of every agent.

    Spans follow the OpenTelemetry GenAI semantic conventions: ``invoke_agent`` for a run,
    ``chat {model}`` for each model request (every retry its own span) and
    ``execute_tool {name}`` for each tool call, with the ``gen_ai.client.token.usage`` and
    ``gen_ai.client.operation.duration`` histograms. Needs the ``otel`` extra
    (``pip install "reverie[otel]"``). Calling it again replaces the settings;
    ``uninstrument()`` turns it off. An agent made with ``instrument=False`` is never recorded.

    Args:
        tracer_provider: Where spans go (``None``: the global tracer provider).
        meter_provider: Where metrics go (``None``: the global meter provider).
        capture_content: Also record message content (prompts, answers, tool arguments and
            results) as JSON attributes. Off by default: content may hold personal data.

    Raises:
        UserError: ``opentelemetry-api`` is not installed.
    """
    global _settings
    require_opentelemetry()
    settings = Instrumentation(
        tracer_provider=tracer_provider, meter_provider=meter_provider, capture_content=capture_content
    )
    settings.telemetry()  # make the tracer and instruments now, not during the first run
    _settings = settings


def uninstrument() -> None:
    """Stop recording the runs of agents that did not ask for it with ``Agent(instrument=True)``."""
    global _settings
    _settings = None


def require_opentelemetry() -> None:
    """Check that ``opentelemetry-api`` can be imported, without importing it.

    Raises:
        UserError: it is not installed.
    """
    try:
        found = importlib.util.find_spec("opentelemetry.trace") is not None
    except ModuleNotFoundError:  # no "opentelemetry" package at all
        found = False
    if not found:
        raise UserError('tracing needs OpenTelemetry\'s API: pip install "reverie[otel]"')


def run_hooks(instrument: bool | None, agent_name: str | None) -> RunHooks:
    """The hooks of one run of an agent made with ``instrument=`` and ``name=``.

    ``False``: none. ``None``: the settings of ``instrument()``, if it was called. ``True``:
    those settings too, else the global providers without content.
    """
    if instrument is False:
        return NO_HOOKS
    settings = _settings
    if settings is None:
        if not instrument:
            return NO_HOOKS
        settings = _default_settings()
    from reverie._otel.hooks import TracingHooks

    return TracingHooks(settings.telemetry(), agent_name=agent_name, capture_content=settings.capture_content)


def _default_settings() -> Instrumentation:
    global _default
    if _default is None:
        _default = Instrumentation()
    return _default


def current() -> Instrumentation | None:
    """The settings ``instrument()`` set, or ``None`` when it is off."""
    return _settings

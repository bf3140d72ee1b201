"""Helpers for the tracing tests (``tests/_async/test_tracing.py`` and its generated twin).

The OpenTelemetry SDK's in-memory exporter and metric reader, the global providers (which
OpenTelemetry lets a process set only once, so both colours share them), span trees as
plain data, and probe tools that start a span of their own, in both colours: an
``async def`` tool must stay async in the sync twin, so it lives here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from reverie import tool


@dataclass
class Telemetry:
    """A tracer provider and a meter provider that keep what they record in memory."""

    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    tracer_provider: TracerProvider = field(init=False)
    meter_provider: MeterProvider = field(init=False)

    def __post_init__(self) -> None:
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        """The finished spans, in the order they started."""
        return sorted(self.exporter.get_finished_spans(), key=lambda span: span.start_time or 0)

    def tree(self) -> list[tuple[str, str, str | None]]:
        """``(name, kind, parent name)`` of each span, in the order they started."""
        spans = self.spans()
        by_id = {span.context.span_id: span.name for span in spans if span.context is not None}
        return [
            (span.name, span.kind.name, by_id.get(span.parent.span_id, "?") if span.parent else None)
            for span in spans
        ]

    def metrics(self) -> dict[str, list[tuple[dict[str, Any], int | float, int]]]:
        """Each histogram's points: ``(attributes, sum, count)``, sorted by attributes."""
        found: dict[str, list[tuple[dict[str, Any], int | float, int]]] = {}
        data = self.reader.get_metrics_data()
        if data is None:
            return found
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    points = found.setdefault(metric.name, [])
                    for point in metric.data.data_points:
                        points.append((dict(point.attributes or {}), point.sum, point.count))  # type: ignore[union-attr]
        for points in found.values():
            points.sort(key=lambda point: json.dumps(point[0], sort_keys=True))
        return found


_global: Telemetry | None = None


def global_telemetry() -> Telemetry:
    """The process's global providers, set once (OpenTelemetry refuses to replace them)."""
    global _global
    if _global is None:
        _global = Telemetry()
        trace.set_tracer_provider(_global.tracer_provider)
        metrics.set_meter_provider(_global.meter_provider)
    return _global


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """A span's attributes as a plain dict (sequences as lists)."""
    return {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in (span.attributes or {}).items()
    }


probe_tracer: list[trace.Tracer] = []
"""The tracer the probe tools start their spans with (set by the test)."""


def _probe_span(name: str) -> None:
    with probe_tracer[0].start_as_current_span(name):
        pass


@tool(parallel=True)
def sync_probe(n: int) -> str:
    """Start a span inside a plain tool."""
    _probe_span(f"inside sync {n}")
    return f"sync {n}"


@tool(parallel=True)
async def async_probe(n: int) -> str:
    """Start a span inside an async tool."""
    _probe_span(f"inside async {n}")
    return f"async {n}"

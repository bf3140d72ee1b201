"""The tracer and the two GenAI client histograms, made once per set of providers.

``None`` providers mean the global ones: OpenTelemetry's proxies follow a global provider
set after this point, so nothing is looked up again per run. This module records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry import metrics, trace

from reverie._version import __version__

SCOPE = "reverie"
"""The instrumentation scope name of every span and metric reverie records."""

TOKEN_USAGE = "gen_ai.client.token.usage"
OPERATION_DURATION = "gen_ai.client.operation.duration"

# The bucket boundaries the GenAI semantic conventions advise for each histogram.
_TOKEN_BUCKETS = [
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
]  # fmt: skip
_DURATION_BUCKETS = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
]  # fmt: skip


@dataclass(slots=True, frozen=True)
class Telemetry:
    """Where one run's spans and measurements go."""

    tracer: trace.Tracer
    token_usage: metrics.Histogram
    operation_duration: metrics.Histogram

    @classmethod
    def build(
        cls,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
    ) -> Telemetry:
        """The tracer and instruments of ``reverie`` on these providers (``None``: the global ones)."""
        tracer = trace.get_tracer(SCOPE, __version__, tracer_provider=tracer_provider)
        meter = metrics.get_meter(SCOPE, __version__, meter_provider=meter_provider)
        return cls(
            tracer=tracer,
            token_usage=meter.create_histogram(
                TOKEN_USAGE,
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS,
            ),
            operation_duration=meter.create_histogram(
                OPERATION_DURATION,
                unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=_DURATION_BUCKETS,
            ),
        )

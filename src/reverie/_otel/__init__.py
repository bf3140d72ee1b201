"""OpenTelemetry tracing of agent runs, after the GenAI semantic conventions.

Imported only once instrumentation is on (``reverie._instrument``); it is the one place
reverie imports ``opentelemetry`` (the API only, never the SDK). ``telemetry`` makes the
tracer and the instruments, ``attributes`` names and computes the ``gen_ai.*`` attributes,
``content`` turns messages into the conventions' JSON, and ``hooks`` records the spans of
one run through the run's instrumentation seam (``reverie._run.hooks``).
"""

"""INIT with slow imports and user phases; the outer phase starts before any TracerProvider."""

import time

import otel_lambda_init
from otel_lambda_init import init_phase

with init_phase("configure"):  # no TracerProvider exists yet: buffered
    time.sleep(0.02)
    import colorsys  # noqa: F401 - a fast stdlib import: no span

    import slow_outer  # noqa: F401 - 50 ms, and slow_inner (30 ms) inside it

    with init_phase("load model"):
        time.sleep(0.03)

    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "anatomy-app"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def handler(event, context):
    import sys

    from otel_lambda_init._owner import sandbox
    from otel_lambda_init._probes.imports import ImportTracer

    tracer = sandbox().import_tracer
    return {
        "import_tracing_active": tracer is not None and tracer.tracing,
        "tracers_on_meta_path": sum(isinstance(f, ImportTracer) for f in sys.meta_path),
        "slow_outer_loader": type(sys.modules["slow_outer"].__loader__).__name__,
    }

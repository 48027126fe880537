"""An entry point that does not always reach the decorated function: it answers warm-up
pings itself, and an outer middleware may raise before the decorated function runs."""

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def traced(event, context):
    return {"served": True}


def handler(event, context):
    if isinstance(event, dict) and event.get("warmup"):
        return {"warm": True}
    if isinstance(event, dict) and event.get("middleware_raises"):
        raise PermissionError("the outer middleware refused the request")
    return traced(event, context)

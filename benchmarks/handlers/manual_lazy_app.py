"""The manual route with the OTLP exporter imported and built on its first export."""

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init
from otel_lambda_init import LazySpanExporter

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(LazySpanExporter()))
trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def handler(event, context):
    return {"ok": True, "n": event.get("n") if isinstance(event, dict) else None}

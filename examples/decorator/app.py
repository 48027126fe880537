"""The manual route: your own TracerProvider, one decorator on the handler."""

import otel_lambda_init  # first: imports made before it cannot be traced (INIT anatomy)

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

# Name the service (or set OTEL_SERVICE_NAME): backends show unknown_service:python3 otherwise.
provider = TracerProvider(resource=Resource.create({"service.name": "orders"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def handler(event, context):
    return {"ok": True}

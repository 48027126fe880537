"""The manual route as the README asks: ``import otel_lambda_init`` first, then the rest."""

import otel_lambda_init  # noqa: I001 - first: it traces the imports after it

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import respkg

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def handler(event, context):
    return {"loader_is_real": respkg.LOADER_IS_REAL, "has_data": respkg.HAS_DATA}

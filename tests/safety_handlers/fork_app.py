"""A function on the manual route that does CPU work in a fork-started pool."""

from fork_pool import work
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def handler(event, context):
    return work(event)

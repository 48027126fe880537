"""instrument_handler with keyword options: they win over OTEL_LAMBDA_INIT_* variables."""

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init

# A provider of your own, not the global one: pass it explicitly.
provider = TracerProvider(resource=Resource.create({"service.name": "orders"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))


@otel_lambda_init.instrument_handler(
    tracer_provider=provider,
    flush="sync",  # export before returning, whatever OTEL_LAMBDA_INIT_FLUSH says
    trace_mode="first-invocation",  # the init span always joins the first invocation's trace
    attributes={"app.tier": "gold"},  # added to every invocation span
)
def handler(event, context):
    return {"ok": True}

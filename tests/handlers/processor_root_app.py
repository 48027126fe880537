"""A function with our processor on its provider (as beside another instrumentor) and our
decorator, whose handler starts a SERVER span of its own in a new trace: that span is the
handler's work, not the invocation (the decorator's span is), and must not be decorated."""

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

import otel_lambda_init

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
otel_lambda_init.ensure_processor(provider)
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("processor-root-app")


@otel_lambda_init.instrument_handler
def handler(event, context_):
    span = tracer.start_span("own root", context=context.Context(), kind=SpanKind.SERVER)
    span.end()
    return {"n": event.get("n")}

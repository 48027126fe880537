"""The upstream aws-lambda instrumentor around a handler that also uses our decorator, with
no processor of ours on the provider."""

import otel_lambda_init  # noqa: I001 - first: it traces the imports after it

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def handler(event, context):
    return {"ok": True}


AwsLambdaInstrumentor().instrument(tracer_provider=provider)

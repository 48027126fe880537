"""The processor route: the upstream aws-lambda instrumentor makes the invocation span, our
processor on the provider decorates it (no decorator of ours)."""

import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
otel_lambda_init.ensure_processor(provider)
trace.set_tracer_provider(provider)


def handler(event, context):
    time.sleep(float(event.get("sleep_s", 0)))
    return {"n": event.get("n")}


AwsLambdaInstrumentor().instrument(tracer_provider=provider)

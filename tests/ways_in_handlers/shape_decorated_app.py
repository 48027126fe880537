"""The decorator route of the span-shape matrix: the user's provider, our decorator, an
INIT of SHAPE_INIT_S seconds (default 0.1) after our import."""

import os  # noqa: I001 - otel_lambda_init first: it traces the imports after it
import time

import otel_lambda_init
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

with otel_lambda_init.init_phase("load model"):
    time.sleep(float(os.environ.get("SHAPE_INIT_S", "0.1")))


@otel_lambda_init.instrument_handler
def handler(event, context):
    time.sleep(0.02)
    return {"ok": True}

"""INIT of SLOW_INIT_S seconds (default 2.5) after our import: longer than a scaled cap."""

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

with otel_lambda_init.init_phase("warm caches"):
    time.sleep(float(os.environ.get("SLOW_INIT_S", "2.5")))


@otel_lambda_init.instrument_handler
def handler(event, context):
    return {"pid": os.getpid()}

"""A user's function on the manual route: SDK set up at module level, one decorator."""

import sys
import time

FIRST_LINE_NS = time.time_ns()
RUNTIME_CLIENT_FIRST = "awslambdaric.bootstrap" in sys.modules  # it imported this module

import os  # noqa: E402

from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.resources import Resource  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402

import otel_lambda_init  # noqa: E402

provider = TracerProvider(resource=Resource.create({"service.name": "manual-app"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

time.sleep(float(os.environ.get("TEST_INIT_SLEEP_S", "0")))


@otel_lambda_init.instrument_handler
def handler(event, context):
    if isinstance(event, dict) and event.get("raise"):
        raise ValueError("the handler failed on purpose")
    if isinstance(event, dict) and event.get("sleep_s"):
        time.sleep(float(event["sleep_s"]))
    with trace.get_tracer("manual-app").start_as_current_span("work"):
        pass
    return {
        "ok": True,
        "first_line_ns": FIRST_LINE_NS,
        "runtime_client_loaded_first": RUNTIME_CLIENT_FIRST,
        "n": event.get("n"),
    }

"""A function that patches the stdlib with eventlet at the top of its module (manual route)."""

import eventlet

eventlet.monkey_patch()

import socket  # noqa: E402

from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402

import otel_lambda_init  # noqa: E402

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)


@otel_lambda_init.instrument_handler
def handler(event, context):
    with trace.get_tracer("eventlet-app").start_as_current_span("work"):
        patched = eventlet.patcher.is_monkey_patched("socket")
    return {"patched": patched, "socket": socket.socket.__module__}

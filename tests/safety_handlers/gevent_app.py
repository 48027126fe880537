"""A function that patches the stdlib with gevent at the top of its module (manual route)."""

from gevent import monkey

monkey.patch_all()

import socket  # noqa: E402
import threading  # noqa: E402

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
    with trace.get_tracer("gevent-app").start_as_current_span("work"):
        patched = monkey.is_module_patched("socket") and monkey.is_module_patched("threading")
    return {"patched": patched, "socket": socket.socket.__module__, "lock": repr(threading.Lock)}

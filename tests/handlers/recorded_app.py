"""A user's function that uses the invocation span the way users do: attributes and an
event on the current span, a child span of its own, context injected into an outgoing
request, an exception recorded. Returns what it saw so tests can compare with the export."""

import time

from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init

provider = TracerProvider(resource=Resource.create({"service.name": "recorded-app"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("recorded-app")


@otel_lambda_init.instrument_handler
def handler(event, context):
    current = trace.get_current_span()
    current.set_attribute("app.order_id", "o-42")
    current.add_event("validated", {"app.items": 3})
    current.update_name("handle order")
    with tracer.start_as_current_span("charge") as child:
        parent = getattr(child, "parent", None)  # an unsampled child is not an SDK span
        child_parent = parent.span_id if parent else None
    headers = {}
    propagate.inject(headers)
    if event.get("recorded_error"):
        try:
            raise KeyError("missing sku")
        except KeyError as error:
            current.record_exception(error)
    if event.get("raise"):
        raise ValueError("the handler failed on purpose")
    if event.get("sleep_s"):
        time.sleep(float(event["sleep_s"]))
    return {
        "span_id": format(current.get_span_context().span_id, "016x"),
        "trace_id": format(current.get_span_context().trace_id, "032x"),
        "recording": current.is_recording(),
        "child_parent": format(child_parent, "016x") if child_parent else None,
        "traceparent": headers.get("traceparent"),
        "n": event.get("n"),
    }

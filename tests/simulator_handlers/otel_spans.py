"""Creates spans with the plain OTel SDK and exports them over OTLP/HTTP before returning."""

import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

provider = TracerProvider(resource=Resource.create({"faas.name": "demo-fn"}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter()))
tracer = provider.get_tracer("simulator.test")

with tracer.start_as_current_span("module import") as init_span:
    init_span.set_attribute("phase", "init")
    time.sleep(0.01)
INIT_CONTEXT = init_span.get_span_context()


def handler(event, context):
    link = trace.Link(INIT_CONTEXT, {"reason": "init"})
    with tracer.start_as_current_span(
        "handle",
        kind=trace.SpanKind.SERVER,
        links=[link],
        attributes={"faas.coldstart": True, "n": 3, "ratio": 0.5, "tags": ["a", "b"]},
    ) as span:
        span.add_event("working", {"step": 1})
        with tracer.start_as_current_span("child"):
            time.sleep(0.005)
        if event.get("fail"):
            span.set_status(trace.Status(trace.StatusCode.ERROR, "asked to fail"))
    return {"trace_id": format(span.get_span_context().trace_id, "032x")}

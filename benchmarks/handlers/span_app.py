"""No package: the function makes one SDK span itself (no exporter). The floor any
instrumentation with a live span pays per invocation in a sandbox."""

from opentelemetry.sdk.trace import TracerProvider

tracer = TracerProvider().get_tracer("bench")


def handler(event, context):
    with tracer.start_as_current_span("bench-fn"):
        return {"ok": True, "n": event.get("n") if isinstance(event, dict) else None}

"""A function that never mentions any instrumentation, reporting (for the test only) whether
OpenTelemetry had been imported in its process when it ran. ``lazy`` makes it import and use
OpenTelemetry inside the call, as handlers that trace their own work lazily do; ``raise``
makes it fail; ``consume`` makes it empty its event, as handlers that pop what they read do."""

import sys

OTEL_AT_IMPORT = "opentelemetry" in sys.modules


def handler(event, context):
    loaded_when_called = "opentelemetry" in sys.modules
    if event.get("lazy"):
        from opentelemetry import trace

        with trace.get_tracer("user-code").start_as_current_span("user work"):
            pass
    if event.get("raise"):
        raise ValueError("the handler failed on purpose")
    if event.pop("consume", False):
        event.clear()
    return {"otel_at_import": OTEL_AT_IMPORT, "otel_when_called": loaded_when_called}

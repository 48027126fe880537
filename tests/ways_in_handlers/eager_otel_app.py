"""A function whose module uses OpenTelemetry at import time: INIT must build the provider
while the module loads, as if nothing were deferred."""

import sys

from opentelemetry import trace

tracer = trace.get_tracer("user-code")
with tracer.start_as_current_span("load config"):
    pass


def handler(event, context):
    with tracer.start_as_current_span("user work"):
        return {"otel_when_called": "opentelemetry" in sys.modules}

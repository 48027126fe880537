"""Sets up the SDK, then raises at import (an INIT error), or imports a missing module."""

import os  # noqa: I001 - otel_lambda_init first: it traces the imports after it

import otel_lambda_init  # noqa: F401
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)

if os.environ.get("RAISE_HOW") == "missing-module":
    import no_such_module_for_the_test  # noqa: F401
else:
    raise RuntimeError("cannot connect to the database at import time")


def handler(event, context):  # pragma: no cover - never reached
    return "unreachable"

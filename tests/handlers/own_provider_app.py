"""A function with its own TracerProvider handed to the decorator, never set globally (the
provider-drift case): every span of ours must reach it, the INIT error's and SnapStart's
publish-time init span included."""

import os  # noqa: I001 - otel_lambda_init first: it traces the imports after it

import otel_lambda_init
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider(resource=Resource.create({"service.name": "own-provider"}))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))


@otel_lambda_init.instrument_handler(tracer_provider=provider)
def handler(event, context):
    return {"ok": True}


if os.environ.get("RAISE_AT_INIT") == "true":
    raise RuntimeError("cannot connect to the database at import time")

"""Demo Lambda function: an orders API with a slow INIT, instrumented with otel-lambda-init.

This is user code running inside the (simulated) sandbox. It sets up the OTel SDK the usual
way (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT) and decorates the handler; the INIT of this
module becomes the `init demo-fn` span. SIM_INIT_MS and SIM_HANDLER_MS (set by a
scenario's init_ms and handler_ms) choose how long INIT and the handler take.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import otel_lambda_init

_resource = {
    "service.name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "demo-fn"),
    "faas.name": os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "demo-fn"),
    "cloud.provider": "aws",
    "cloud.platform": "aws_lambda",
    "cloud.region": os.environ.get("AWS_REGION", "us-east-1"),
}
if os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME"):
    _resource["faas.instance"] = os.environ["AWS_LAMBDA_LOG_STREAM_NAME"]
provider = TracerProvider(resource=Resource.create(_resource))
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)
tracer = trace.get_tracer("demo.orders")

_INIT_S = float(os.environ.get("SIM_INIT_MS", "600")) / 1000.0
_WORK_S = float(os.environ.get("SIM_HANDLER_MS", "100")) / 1000.0


def _phase(name: str) -> Any:
    """otel_lambda_init.init_phase when this version has it (it times a named INIT step)."""
    phase = getattr(otel_lambda_init, "init_phase", None)
    return phase(name) if phase is not None else contextlib.nullcontext()


with _phase("load config"):
    time.sleep(_INIT_S * 0.25)
with _phase("load model"):
    time.sleep(_INIT_S * 0.75)
    MODEL = {"discount": 0.1}


@otel_lambda_init.instrument_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    work_s = _WORK_S
    with tracer.start_as_current_span("load order") as span:
        span.set_attribute("order.path", str(event.get("path", "/")))
        time.sleep(work_s * 0.6)
    with tracer.start_as_current_span("price order"):
        time.sleep(work_s * 0.4)
    return {"statusCode": 200, "body": f"priced {event.get('path', '/')}", "pid": os.getpid()}

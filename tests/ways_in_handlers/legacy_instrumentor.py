"""An instrumentor shaped like opentelemetry-instrumentation-aws-lambda before 0.61b0: its
span is named ``module.handler``, is a CONSUMER for queue events, and gets its ``faas.*``
attributes only after it started. Its scope name is its own, so only the runtime window
can tell our processor that this span is the invocation span."""

import importlib
import os

from opentelemetry import trace
from opentelemetry.trace import SpanKind

_module_name, _function_name = os.environ["ORIG_HANDLER"].rsplit(".", 1)
_original = getattr(importlib.import_module(_module_name), _function_name)
_tracer = trace.get_tracer("legacy_lambda_instrumentor")


def lambda_handler(event, context):
    records = event.get("Records") if isinstance(event, dict) else None
    kind = SpanKind.CONSUMER if records else SpanKind.SERVER
    with _tracer.start_as_current_span(os.environ["ORIG_HANDLER"], kind=kind) as span:
        span.set_attribute("faas.invocation_id", context.aws_request_id)
        span.set_attribute("faas.id", context.invoked_function_arn)
        with _tracer.start_as_current_span("inner work", kind=SpanKind.SERVER):
            pass  # a SERVER child of a local span is never an invocation span
        result = _original(event, context)
    trace.get_tracer_provider().force_flush(5000)
    return result

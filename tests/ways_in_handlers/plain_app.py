"""A user's function with no mention of any instrumentation: only environment variables
(the exec wrapper, or the OpenTelemetry layer's route) may trace it."""

import sys
import time

FIRST_LINE_NS = time.time_ns()


def handler(event, context):
    if isinstance(event, dict) and event.get("raise"):
        raise ValueError("the handler failed on purpose")
    timeline = sys.modules.get("otel_lambda_init.timeline")
    early = sys.modules.get("otel_lambda_init.auto.early")
    return {
        "ok": True,
        "n": event.get("n") if isinstance(event, dict) else None,
        "first_line_ns": FIRST_LINE_NS,
        # Measurement only (the function never imports the package): when our code first
        # ran in this process, and which way in started it.
        "package_imported_ns": getattr(timeline, "IMPORTED_NS", None),
        "started_by": early.started_by() if early else None,
        "our_first_line_ns": early.first_line_ns() if early else None,
        "runtime_client_loaded_first": early.runtime_client_was_loaded() if early else None,
        "request_id": getattr(context, "aws_request_id", None),
    }

"""A user's function with no mention of any instrumentation: only environment variables
(the exec wrapper, or the OpenTelemetry layer's route) may trace it."""

import sys
import time

FIRST_LINE_NS = time.time_ns()


def handler(event, context):
    if isinstance(event, dict) and event.get("raise"):
        raise ValueError("the handler failed on purpose")
    owner_module = sys.modules.get("otel_lambda_init._owner")
    owner = owner_module.sandbox() if owner_module else None
    return {
        "ok": True,
        "n": event.get("n") if isinstance(event, dict) else None,
        "first_line_ns": FIRST_LINE_NS,
        # Measurement only (the function never imports the package): when our code first
        # ran in this process, and which way in started it.
        "started_by": owner.started_by if owner else None,
        "our_first_line_ns": owner.timeline.init.first_line_ns if owner else None,
        "runtime_client_loaded_first": owner.runtime_client_was_loaded if owner else None,
        "request_id": getattr(context, "aws_request_id", None),
    }

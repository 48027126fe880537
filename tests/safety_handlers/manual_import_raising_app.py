"""A function on the manual route whose module imports one that raises at import time."""

import os

if os.environ.get("WITH_OTEL_LAMBDA_INIT"):
    import otel_lambda_init  # noqa: F401

import raising_dep  # noqa: E402, F401


def handler(event, context):  # pragma: no cover - never reached
    return "unreachable"

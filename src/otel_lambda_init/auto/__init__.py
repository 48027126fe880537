"""Ways in without code changes: the exec wrapper and its handler shim, the
``opentelemetry-instrument`` entry points, and the Lambda layer build."""

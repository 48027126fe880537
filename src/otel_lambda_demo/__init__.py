"""The demo function `otel-lambda-init demo` runs (handler `app.handler` in this directory).

User code that runs inside simulated sandboxes, so it imports the instrumentation; that is why
it is its own package rather than part of `otel_lambda_sim`, which never imports it. Like the
simulator, it is not shipped in the Lambda layer.
"""

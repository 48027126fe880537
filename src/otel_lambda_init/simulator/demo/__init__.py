"""The demo function `otel-lambda-init demo` runs: user code, so it may use the instrumentation."""

"""What of otel-lambda-init runs in this process: threads, import finders, runtime hooks."""

import sys
import threading


def footprint() -> dict:
    client = sys.modules.get("awslambdaric.lambda_runtime_client")
    methods = vars(getattr(client, "LambdaRuntimeClient", object)).values()
    return {
        "threads": sorted(t.name for t in threading.enumerate()),
        "finders": [type(f).__module__ for f in sys.meta_path if "otel_lambda_init" in repr(f)],
        "hooked": any(hasattr(m, "__otel_lambda_init_hook__") for m in methods),
        "ours": sorted(m for m in sys.modules if m.startswith("otel_lambda_init")),
        "opentelemetry": "opentelemetry.trace" in sys.modules,
    }

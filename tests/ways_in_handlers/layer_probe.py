"""Reports where the instrumentation was imported from (a layer test's witness)."""

import importlib.util
import sys


def handler(event, context):
    def origin(name):
        module = sys.modules.get(name)
        if module is not None:
            return getattr(module, "__file__", None)
        spec = importlib.util.find_spec(name)  # not loaded yet (e.g. a lazily built exporter)
        return spec.origin if spec else None

    owner_module = sys.modules.get("otel_lambda_init._owner")
    owner = owner_module.sandbox() if owner_module else None
    return {
        "otel_lambda_init": origin("otel_lambda_init"),
        "opentelemetry.sdk.trace": origin("opentelemetry.sdk.trace"),
        "requests": origin("requests"),
        "sys_path": list(sys.path),
        "started_by": owner.started_by if owner else None,
    }

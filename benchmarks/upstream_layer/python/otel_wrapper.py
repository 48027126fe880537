"""The layer's handler shim, minimal: expose the user's handler that the upstream aws-lambda
instrumentor (loaded by opentelemetry-instrument) has already wrapped.

The real layer's shim also configures a MeterProvider and botocore instrumentation; leaving
them out makes the upstream row a lower bound of what the layer costs.
"""

import importlib
import os

_module_name, _function_name = os.environ["ORIG_HANDLER"].rsplit(".", 1)
lambda_handler = getattr(importlib.import_module(_module_name.replace("/", ".")), _function_name)

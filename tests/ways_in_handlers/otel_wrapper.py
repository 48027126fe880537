"""Stand-in for the opentelemetry-lambda layer's ``otel_wrapper`` module (the handler its
``otel-instrument`` wrapper points ``_HANDLER`` at): instrument with the upstream
AwsLambdaInstrumentor, then expose the function named by ``ORIG_HANDLER``.

Written for these tests from the layer's documented behaviour; under
``opentelemetry-instrument`` the instrumentor has already run and ``instrument()`` is a no-op.
"""

import importlib
import os

from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor

AwsLambdaInstrumentor().instrument()

_module_name, _function_name = os.environ["ORIG_HANDLER"].rsplit(".", 1)
lambda_handler = getattr(importlib.import_module(_module_name.replace("/", ".")), _function_name)

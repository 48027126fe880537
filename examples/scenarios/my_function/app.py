"""A plain function with no instrumentation in its code: the template scenario runs it.

Run it under the exec wrapper (zero-code) and read its output in the sandbox logs:
    otel-lambda-init simulate examples/scenarios/my-function.yaml \
        --env AWS_LAMBDA_EXEC_WRAPPER=otel-lambda-init-wrapper
"""

import json
import time

print("loading my function", flush=True)  # INIT: shows in otel-lambda-init-out/logs/
time.sleep(0.3)  # stands for your imports and setup
TABLE = {"1": "pending", "2": "shipped"}


def handler(event, context):
    order = str(event.get("order", "1"))
    print(json.dumps({"order": order, "request_id": context.aws_request_id}), flush=True)
    time.sleep(0.05)
    return {"order": order, "status": TABLE.get(order, "unknown")}

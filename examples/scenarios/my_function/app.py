"""A plain function with no instrumentation in its code: the template scenario runs it.

An HTTP API (payload v2) handler with a slow INIT (300 ms of module-level work) and a fast
handler. Run it under the exec wrapper (zero-code) and read its output in the sandbox logs:
    otel-lambda-init simulate examples/scenarios/my-function.yaml \
        --env AWS_LAMBDA_EXEC_WRAPPER=otel-lambda-init-wrapper
"""

import json
import time

print("loading my function", flush=True)  # INIT: shows in the run's sandbox logs
time.sleep(0.3)  # stands for your imports and setup
ORDERS = {"1": "pending", "2": "shipped"}


def lambda_handler(event, context):
    order = event.get("rawPath", "/orders/1").rsplit("/", 1)[-1]
    print(json.dumps({"order": order, "request_id": context.aws_request_id}), flush=True)
    body = {"order": order, "status": ORDERS.get(order, "unknown")}
    return {"statusCode": 200, "body": json.dumps(body)}

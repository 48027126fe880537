"""A FastAPI app on Lambda behind the AWS Lambda Web Adapter, traced by otel-lambda-init."""

from fastapi import FastAPI

from otel_lambda_init.web import OtelLambdaInitMiddleware

api = FastAPI()


@api.get("/")
def ready() -> dict[str, str]:
    return {"status": "ok"}  # the adapter's readiness check (AWS_LWA_READINESS_CHECK_PATH)


@api.get("/orders/{order_id}")
def order(order_id: str) -> dict[str, str]:
    return {"order": order_id}


# Around the whole app: the invocation span is the parent of what the framework traces.
app = OtelLambdaInitMiddleware(api)

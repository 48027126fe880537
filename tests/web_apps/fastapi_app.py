"""A FastAPI app as a user instruments it for the Lambda Web Adapter (docs/web-apps.md)."""

import sys

from fastapi import FastAPI, Response

from otel_lambda_init.web import OtelLambdaInitMiddleware

api = FastAPI()


@api.get("/")
def ready() -> dict[str, str]:
    print("readiness probe served", file=sys.stderr, flush=True)
    return {"status": "ok"}


@api.get("/orders/{order_id}")
def order(order_id: str) -> dict[str, str]:
    return {"order": order_id}


@api.get("/fail")
def fail() -> Response:
    return Response("nope", status_code=503)


# Around the whole app (not app.add_middleware): the invocation span is then the parent of
# whatever the framework traces itself (FastAPI's own server span included).
app = OtelLambdaInitMiddleware(api)

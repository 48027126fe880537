"""A FastAPI app as a user instruments it for the Lambda Web Adapter (docs/web-apps.md)."""

from fastapi import FastAPI, Response

from otel_lambda_init.web import OtelLambdaInitMiddleware

app = FastAPI()


@app.get("/")
def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders/{order_id}")
def order(order_id: str) -> dict[str, str]:
    return {"order": order_id}


@app.get("/fail")
def fail() -> Response:
    return Response("nope", status_code=503)


app.add_middleware(OtelLambdaInitMiddleware)

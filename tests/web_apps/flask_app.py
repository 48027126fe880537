"""A Flask app as a user instruments it for the Lambda Web Adapter (docs/web-apps.md)."""

import sys

from flask import Flask

from otel_lambda_init.web import OtelLambdaInitWSGIMiddleware

app = Flask(__name__)


@app.get("/")
def ready() -> dict[str, str]:
    print("readiness probe served", file=sys.stderr, flush=True)
    return {"status": "ok"}


@app.get("/orders/<order_id>")
def order(order_id: str) -> dict[str, str]:
    return {"order": order_id}


app.wsgi_app = OtelLambdaInitWSGIMiddleware(app.wsgi_app)  # type: ignore[method-assign]

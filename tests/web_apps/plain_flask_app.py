"""A Flask app without instrumentation: run through otel-lambda-init-web."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders/<order_id>")
def order(order_id: str) -> dict[str, str]:
    return {"order": order_id}

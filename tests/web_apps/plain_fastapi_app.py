"""The same FastAPI app without instrumentation: the benchmark's baseline."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def ready() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/orders/{order_id}")
def order(order_id: str) -> dict[str, str]:
    return {"order": order_id}

"""INIT anatomy: user phases around the slow parts of INIT, some before the SDK exists.

Run it through the local simulator (no AWS account needed):

    python examples/init_phases/run.py
"""

import time

import otel_lambda_init  # first: imports after this one are traced during INIT
from otel_lambda_init import init_phase

with init_phase("read config"):  # no TracerProvider yet: the timing is buffered
    time.sleep(0.02)  # e.g. fetch parameters from SSM
    CONFIG = {"model": "tiny"}

with init_phase("telemetry setup"):
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


@init_phase("load model")  # also a decorator
def load_model(name: str) -> dict:
    with init_phase("download weights"):  # nests under "load model"
        time.sleep(0.05)
    time.sleep(0.01)
    return {"name": name}


MODEL = load_model(CONFIG["model"])


@otel_lambda_init.instrument_handler
def handler(event, context):
    return {"model": MODEL["name"]}

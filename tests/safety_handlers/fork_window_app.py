"""A child the function forks gets SIGTERM before it is ready (a pool's terminate on a loaded
host): sent here from an at-fork callback the function registered before the package's own."""

import multiprocessing
import os
import signal
import time


def _sigterm_before_the_child_is_ready() -> None:
    if os.environ.get("FORK_WINDOW_SIGTERM"):
        os.kill(os.getpid(), signal.SIGTERM)


os.register_at_fork(after_in_child=_sigterm_before_the_child_is_ready)

from opentelemetry import trace  # noqa: E402 - the callback must be registered first
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: E402

import otel_lambda_init  # noqa: E402

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(provider)


def _child() -> None:
    time.sleep(60)  # only the default disposition of SIGTERM ends it early


@otel_lambda_init.instrument_handler
def handler(event, context):
    os.environ["FORK_WINDOW_SIGTERM"] = "1"
    try:
        child = multiprocessing.get_context("fork").Process(target=_child)
        child.start()
        child.join(30)
        return {"exitcode": child.exitcode}
    finally:
        del os.environ["FORK_WINDOW_SIGTERM"]

"""CPU work in a fork-started multiprocessing pool, as functions do it."""

import multiprocessing
import os


def square(n: int) -> int:
    if os.environ.get("FORK_APP_CHILD_SPAN"):
        from opentelemetry import trace

        with trace.get_tracer("fork-app").start_as_current_span("square"):
            return n * n
    return n * n


def work(event: dict) -> dict:
    with multiprocessing.get_context("fork").Pool(2) as pool:
        squares = pool.map(square, range(4))
    return {"squares": squares, "pid": os.getpid()}

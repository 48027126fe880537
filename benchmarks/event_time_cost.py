"""What reading the trigger's time of receipt costs an invocation, hostile events included.

Times ``received_ns_from_event`` per call on typical and hostile events against two baselines
measured in the same run: ``trigger_of`` (the event-shape check every wrapped invocation
already does) and one whole warm invocation through ``instrument_handler`` (SDK provider,
in-memory exporter). Usage:
    python benchmarks/event_time_cost.py
"""

from __future__ import annotations

import sys
import time
import timeit
from types import SimpleNamespace
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init import instrument_handler
from otel_lambda_init._core.event_time import received_ns_from_event
from otel_lambda_init._sdk.invocation import trigger_of

NOW_MS = time.time_ns() // 1_000_000
EVENTS: dict[str, Any] = {
    "HTTP API": {"version": "2.0", "requestContext": {"timeEpoch": NOW_MS, "http": {}}},
    "REST": {"resource": "/", "requestContext": {"requestTimeEpoch": NOW_MS}},
    "VPC Lattice v2": {"requestContext": {"timeEpoch": str(NOW_MS * 1000)}},
    "SQS, 10 records": {"Records": [{"eventSource": "aws:sqs", "body": "x" * 1000}] * 10},
    "HTTP API, 6 MB body": {
        "requestContext": {"timeEpoch": NOW_MS},
        "body": "x" * 6_000_000,
    },
    "hostile: 1M-digit string": {"requestContext": {"timeEpoch": "9" * 1_000_000}},
    "hostile: 10**4000": {"requestContext": {"requestTimeEpoch": 10**4000}},
    "hostile: 100k-key context": {"requestContext": {str(i): i for i in range(100_000)}},
    "not a dict": ["requestContext"] * 1000,
}


def per_call_ns(fn: Any, arg: Any, number: int = 20_000) -> float:
    return min(timeit.repeat(lambda: fn(arg), number=number, repeat=5)) / number * 1e9


def main() -> int:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    context = SimpleNamespace(aws_request_id="r", invoked_function_arn="arn:aws:lambda:::fn")

    @instrument_handler(tracer_provider=provider)
    def handler(event: Any, ctx: Any) -> int:
        return 1

    handler(EVENTS["HTTP API"], context)  # the first invocation (INIT span) out of the way

    def warm(event: Any) -> None:
        handler(event, context)
        memory.clear()

    invocation = per_call_ns(warm, EVENTS["HTTP API"], number=2_000)
    print(f"one warm instrumented invocation: {invocation / 1000:.1f} µs")
    print(f"{'event':<28}{'read time':>12}{'trigger_of':>12}{'read / invocation':>20}")
    for name, event in EVENTS.items():
        ours = per_call_ns(received_ns_from_event, event)
        shape = per_call_ns(trigger_of, event)
        print(f"{name:<28}{ours:>9.0f} ns{shape:>9.0f} ns{100 * ours / invocation:>18.2f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())

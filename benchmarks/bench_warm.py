"""Warm per-invocation overhead, in process: the wrapped handler called directly.

Rows: the bare function; the same function inside one SDK span (the floor any instrumentation
pays); our ``instrument_handler`` on its after-response hot path (the handler only hands its
provider to delivery; the export runs after the runtime's post, outside the timed region)
and in ``sync`` mode; the upstream ``opentelemetry-instrumentation-aws-lambda`` (which calls
``force_flush`` in every invocation). Once with an in-memory exporter, once with OTLP/HTTP to
a local receiver. Each run times a batch of calls; variants alternate in rounds.

    python benchmarks/bench_warm.py [--quick] [--rounds N]
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any

from _bench import (
    HERE,
    alternate,
    fmt,
    machine_line,
    median,
    parse_args,
    print_table,
    ratio,
    write_figures,
)

FUNCTION = "bench-fn"
os.environ.update(
    {
        "AWS_LAMBDA_FUNCTION_NAME": FUNCTION,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        "AWS_REGION": "us-east-1",
        "ORIG_HANDLER": "warm_app.upstream_handler",
        "OTEL_METRICS_EXPORTER": "none",
    }
)
os.environ.pop("AWS_LAMBDA_RUNTIME_API", None)
sys.path.insert(0, str(HERE / "handlers"))

import warm_app  # noqa: E402
from opentelemetry import trace  # noqa: E402
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.instrumentation.aws_lambda import AwsLambdaInstrumentor  # noqa: E402
from opentelemetry.sdk.metrics import MeterProvider  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SimpleSpanProcessor,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

from otel_lambda_init import instrument_handler  # noqa: E402
from otel_lambda_init._owner import sandbox  # noqa: E402
from otel_lambda_sim.receiver import OtlpReceiver  # noqa: E402

EVENT = {
    "resource": "/orders",
    "path": "/orders",
    "httpMethod": "GET",
    "headers": {"host": "example.com", "user-agent": "bench"},
    "requestContext": {"stage": "prod", "requestId": "r", "resourcePath": "/orders"},
    "body": None,
}


# What our invocation span carries on a warm API Gateway call (identifiers only).
OUR_ATTRIBUTES = {
    "faas.trigger": "http",
    "faas.name": FUNCTION,
    "faas.invocation_id": "8f5e2c51-7a0c-4f6b-9d7e-0c1d2e3f4a5b",
    "aws.lambda.invoked_arn": f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}",
    "cloud.resource_id": f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}",
    "cloud.account.id": "123456789012",
    "faas.instance": "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
    "lambda_init.sandbox_invocation": 2,
    "faas.coldstart": False,
}


class Context:
    function_name = FUNCTION
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
    memory_limit_in_mb = 128
    aws_request_id = "8f5e2c51-7a0c-4f6b-9d7e-0c1d2e3f4a5b"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


CONTEXT = Context()


def timed_batch(
    fn: Callable[[Any, Any], Any], calls: int, before: Callable[[], None], after: Callable[[], None]
) -> Callable[[], float]:
    def run() -> float:
        before()
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            fn(EVENT, CONTEXT)
        elapsed = time.perf_counter_ns() - t0
        after()
        return elapsed / calls / 1000.0  # us per call

    return run


def set_flush(mode: str) -> Callable[[], None]:
    return lambda: sandbox().apply_overrides(flush=mode)


def nothing() -> None:
    return None


def section(
    title: str, provider: TracerProvider, clear: Callable[[], None], calls: int, rounds: int
) -> dict[str, dict[str, float]]:
    tracer = provider.get_tracer("bench")

    def one_span(event: Any, context: Any) -> Any:
        with tracer.start_as_current_span(FUNCTION, kind=trace.SpanKind.SERVER):
            return warm_app.handler(event, context)

    def one_span_attributes(event: Any, context: Any) -> Any:
        with tracer.start_as_current_span(
            FUNCTION, kind=trace.SpanKind.SERVER, attributes=OUR_ATTRIBUTES
        ):
            return warm_app.handler(event, context)

    def one_span_flushed(event: Any, context: Any) -> Any:
        with tracer.start_as_current_span(FUNCTION, kind=trace.SpanKind.SERVER):
            result = warm_app.handler(event, context)
        provider.force_flush()
        return result

    ours = instrument_handler(warm_app.handler, tracer_provider=provider)
    instrumentor = AwsLambdaInstrumentor()
    instrumentor.instrument(tracer_provider=provider, meter_provider=MeterProvider())
    try:
        upstream = warm_app.upstream_handler  # wrapped in place by the instrumentor

        def after_response_export() -> None:
            # What the runtime's thread does once the response is posted: export.
            provider.force_flush()
            clear()

        for mode in ("after-response", "sync"):  # first invocation (init span) off the clock
            set_flush(mode)()
            ours(EVENT, CONTEXT)
        upstream(EVENT, CONTEXT)
        variants = [
            ("bare function", timed_batch(warm_app.handler, calls, nothing, clear)),
            ("one SDK span", timed_batch(one_span, calls, nothing, after_response_export)),
            (
                "one SDK span, our 9 attributes",
                timed_batch(one_span_attributes, calls, nothing, after_response_export),
            ),
            (
                "one SDK span + force_flush",
                timed_batch(one_span_flushed, calls, nothing, clear),
            ),
            (
                "ours, after-response (hot path)",
                timed_batch(ours, calls, set_flush("after-response"), after_response_export),
            ),
            ("ours, sync flush", timed_batch(ours, calls, set_flush("sync"), clear)),
            ("upstream aws-lambda instrumentor", timed_batch(upstream, calls, nothing, clear)),
        ]
        results = alternate(variants, rounds)
    finally:
        instrumentor.uninstrument()
    bare = median(results["bare function"])
    span_added = median(results["one SDK span"]) - bare
    up_added = median(results["upstream aws-lambda instrumentor"]) - bare
    rows = []
    for name, _ in variants:
        m = median(results[name])
        added = m - bare
        rows.append(
            [
                name,
                fmt(m),
                fmt(added) if name != "bare function" else "-",
                ratio(added, span_added) if name != "bare function" else "-",
                ratio(added, up_added) if name != "bare function" else "-",
            ]
        )
    print_table(
        f"{title}: {calls} calls per run, {rounds} runs each (us per invocation, medians)",
        ["variant", "us/call", "added over bare", "added / one span's", "added / upstream's"],
        rows,
    )
    return {name: {"us": median(results[name])} for name, _ in variants}


def as_after_response() -> Any:
    """The sandbox's owner with after-response delivery as in a sandbox (nothing registered):
    the handler hands its provider to delivery, and what runs after the runtime's post (the
    export) is done by the benchmark outside the timed region."""
    owner = sandbox()
    owner.delivery.started = True
    owner.delivery.after_post = True
    return owner


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=15, quick_rounds=2)
    print(f"Warm invocation benchmark: {machine_line()}")
    as_after_response()
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    figures = section(
        "In-memory exporter (SimpleSpanProcessor)",
        provider,
        memory.clear,
        20 if args.quick else 500,
        args.rounds,
    )
    with OtlpReceiver() as receiver:
        otlp_provider = TracerProvider()
        otlp_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=receiver.endpoint + "/v1/traces"))
        )
        section(
            "OTLP/HTTP to a local receiver (BatchSpanProcessor)",
            otlp_provider,
            receiver.clear,
            5 if args.quick else 40,
            args.rounds,
        )
        otlp_provider.shutdown()
    write_figures(args.json, figures)
    print(
        "\n'ours, after-response' is what the caller waits for in Lambda's default mode: the "
        "export runs after the response (bench_latency.py measures that end to end)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where a warm decorated invocation's time goes, by subtraction: the hot path measured
whole, then with one piece at a time replaced by a constant, beside one SDK span (with and
without our attributes). What a piece costs is what removing it saves.

In process, after-response mode (the handler hands its provider to delivery; the export runs
after the response), in-memory exporter, an API Gateway event without trace headers. Pieces:
parent extraction (the global propagator over the event's headers), event classification
(``faas.trigger`` and span kind), our attributes (context, ARN, counters), the claims that
keep a handler wrapped twice to one span, the open-invocation bookkeeping (for timeouts at
SIGTERM) and the hand-off to delivery.

    python benchmarks/hot_path_profile.py [--quick] [--rounds N]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import bench_warm as bw
from _bench import fmt, machine_line, parse_args, print_table, write_figures
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init._sdk import handler as handler_module


@contextmanager
def replaced(target: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        setattr(target, name, original)


def nothing(*_args: Any, **_kwargs: Any) -> None:
    return None


def main() -> int:
    args = parse_args(__doc__.splitlines()[0], default_rounds=31, quick_rounds=2)
    calls = 100 if args.quick else 1_000
    owner = bw.as_after_response()
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench")
    ours = bw.instrument_handler(bw.warm_app.handler, tracer_provider=provider)
    owner.apply_overrides(flush="after-response")
    ours(bw.EVENT, bw.CONTEXT)  # the first invocation (init span) off the clock
    memory.clear()

    def one_span(event: Any, context: Any) -> Any:
        with tracer.start_as_current_span(bw.FUNCTION, kind=trace.SpanKind.SERVER):
            return bw.warm_app.handler(event, context)

    def one_span_attributes(event: Any, context: Any) -> Any:
        with tracer.start_as_current_span(
            bw.FUNCTION, kind=trace.SpanKind.SERVER, attributes=bw.OUR_ATTRIBUTES
        ):
            return bw.warm_app.handler(event, context)

    claims = owner.claims
    pieces: list[tuple[str, Callable[[], Any]]] = [
        ("parent extraction", lambda: replaced(handler_module, "parent_context_of", nothing)),
        (
            "event classification",
            lambda: replaced(
                handler_module, "trigger_of", lambda _e: ("http", trace.SpanKind.SERVER)
            ),
        ),
        (
            "our attributes",
            lambda: replaced(handler_module, "invocation_attributes", lambda *_a: {}),
        ),
        ("claims (wrapped twice -> one span)", lambda: _stub_claims(claims)),
        ("open-invocation bookkeeping", lambda: _stub_open(owner)),
        ("hand-off to delivery", lambda: replaced(owner, "invocation_finished", nothing)),
    ]

    def timed(fn: Callable[[Any, Any], Any], stub: Callable[[], Any] | None) -> float:
        # The collector off while timing: finished spans pile up in the in-memory exporter,
        # and a collection landing in one variant's run would be charged to it.
        gc.collect()
        gc.disable()
        try:
            with stub() if stub is not None else _noop():
                t0 = time.perf_counter_ns()
                for _ in range(calls):
                    fn(bw.EVENT, bw.CONTEXT)
                elapsed = time.perf_counter_ns() - t0
        finally:
            gc.enable()
            memory.clear()
        return elapsed / calls / 1000.0

    variants: list[tuple[str, Callable[[Any, Any], Any], Callable[[], Any] | None]] = [
        ("bare function", bw.warm_app.handler, None),
        ("ours, whole hot path", ours, None),
        ("one SDK span", one_span, None),
        ("one SDK span, our 9 attributes", one_span_attributes, None),
    ] + [(f"ours without {name}", ours, stub) for name, stub in pieces]
    results: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    for r in range(args.rounds):
        order = variants[r % len(variants) :] + variants[: r % len(variants)]
        for name, fn, stub in order:
            results[name].append(timed(fn, stub))
    med = {name: statistics.median(values) for name, values in results.items()}
    whole = med["ours, whole hot path"]
    span = med["one SDK span"]
    rows = [
        [name, fmt(m, 1), fmt(m / span, 2) + "x", fmt(whole - m, 1) if "without" in name else "-"]
        for name, m in med.items()
    ]
    print(f"Hot path profile: {machine_line()}")
    print_table(
        f"{calls} calls per run, {args.rounds} runs each (us per invocation, medians)",
        ["variant", "us/call", "vs one SDK span", "the piece costs (us)"],
        rows,
    )
    write_figures(args.json, {name: {"us": m} for name, m in med.items()})
    return 0


@contextmanager
def _noop() -> Iterator[None]:
    yield


@contextmanager
def _stub_claims(claims: Any) -> Iterator[None]:
    with (
        replaced(claims, "decorated", lambda _id: None),
        replaced(claims, "hold", nothing),
        replaced(claims, "release", nothing),
    ):
        yield


@contextmanager
def _stub_open(owner: Any) -> Iterator[None]:
    with (
        replaced(owner.spans, "invocation_opened", nothing),
        replaced(owner.spans, "invocation_closed", nothing),
    ):
        yield


if __name__ == "__main__":
    sys.exit(main())

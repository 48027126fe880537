"""The init span's children and cost: the runtime's boot, our setup, slow imports, user
phases and failed attempts (buffered as records during INIT), CPU time and billing."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace

from .._core import classify
from .._core import vocabulary as v
from .._core.config import Config
from .._core.environment import SandboxEnvironment
from .._core.records import RUNTIME_SPAN_NAME, ChildRecord, ChildRecords
from .._core.timeline import InitRecord
from .._core.vocabulary import CHILD_RUNTIME, PHASE_RESTORE


def init_cost_attributes(
    init: InitRecord, end_ns: int, config: Config, env: SandboxEnvironment, records: ChildRecords
) -> dict[str, Any]:
    """CPU, billed duration, estimated cost, our overhead and what earlier processes did."""
    attrs: dict[str, Any] = {}
    if init.phase != PHASE_RESTORE and init.cpu_ns is not None:
        attrs[v.CPU_MS] = round(init.cpu_ns / classify.NS_PER_MS, 3)
    price = classify.price_per_gb_second(
        config.architecture, config.price_x86_64, config.price_arm64
    )
    duration_ms = (end_ns - init.start_ns) / classify.NS_PER_MS
    attrs.update(classify.cost_attributes(duration_ms, env.memory_mb, price))
    attrs[v.OVERHEAD_MS] = round(records.overhead_ns / classify.NS_PER_MS, 3)
    attrs.update(init.history)
    if records.dropped:
        attrs[v.CHILDREN_DROPPED] = records.dropped
    return attrs


def runtime_record(init: InitRecord) -> ChildRecord | None:
    """The runtime's boot: process start to our first line (not for a restore)."""
    first = init.first_line_ns
    if first is None or init.phase == PHASE_RESTORE or first < init.start_ns:
        return None
    runtime = ChildRecord(RUNTIME_SPAN_NAME, CHILD_RUNTIME, init.start_ns, end_ns=first)
    if init.handler_code_before_us:
        # Manual route: the handler module had started before it imported us, so its code
        # up to ``import otel_lambda_init`` is inside this bar.
        runtime.attributes[v.RUNTIME_INCLUDES_HANDLER_CODE] = True
    return runtime


def emit_children(tracer: trace.Tracer, init_span: trace.Span, records: list[ChildRecord]) -> None:
    """Child spans for ``records`` (parents listed before children) under ``init_span``."""
    made: dict[int, trace.Span] = {}
    for record in records:
        if record.end_ns is None:
            continue
        parent = record.parent
        while parent is not None and id(parent) not in made:
            parent = parent.parent
        parent_span = made[id(parent)] if parent is not None else init_span
        child = tracer.start_span(
            record.name,
            context=trace.set_span_in_context(parent_span),
            kind=trace.SpanKind.INTERNAL,
            start_time=record.start_ns,
            attributes={v.CHILD: record.kind, **record.attributes},
        )
        if record.error:
            child.set_status(trace.Status(trace.StatusCode.ERROR, record.error))
        child.end(end_time=record.end_ns)
        made[id(record)] = child

"""The init span's children as SDK spans: the runtime's boot, our setup, slow imports, user
phases and failed attempts (buffered as records during INIT; ``_core.init_span`` says which)."""

from __future__ import annotations

from opentelemetry import trace

from .._core.init_span import with_parents
from .._core.records import ChildRecord


def emit_children(tracer: trace.Tracer, init_span: trace.Span, records: list[ChildRecord]) -> None:
    """Child spans for ``records`` (parents listed before children) under ``init_span``."""
    made: dict[int, trace.Span] = {}
    for record, parent, attributes in with_parents(records):
        parent_span = made[id(parent)] if parent is not None else init_span
        child = tracer.start_span(
            record.name,
            context=trace.set_span_in_context(parent_span),
            kind=trace.SpanKind.INTERNAL,
            start_time=record.start_ns,
            attributes=attributes,
        )
        if record.error:
            child.set_status(trace.Status(trace.StatusCode.ERROR, record.error))
        child.end(end_time=record.end_ns)
        made[id(record)] = child

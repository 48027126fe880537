"""At SIGTERM, an INIT nobody used leaves through a sender that fits the shutdown grace.

A provider whose OTLP/HTTP exporter nothing has used yet would import the exporter module,
urllib3 and the proto packages inside the grace, which does not fit at a small function's
CPU share; for a plain-HTTP loopback collector (the collector extension in Lambda) the spans
are encoded by ``otlp_wire`` (standard library) and posted on one local connection, with the
standard ``OTEL_EXPORTER_OTLP_(TRACES_)*`` settings. See docs/safety.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .loopback import LoopbackCollector, loopback_collector, request_headers
from .otlp_wire import (
    SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE,
    SPAN_FLAGS_CONTEXT_IS_REMOTE,
    WireEvent,
    WireLink,
    WireScope,
    WireSpan,
    export_request,
)


class ShutdownSpanSender(SpanExporter):
    """OTLP/HTTP protobuf to a loopback collector, bounded by the shutdown grace."""

    def __init__(self, collector: LoopbackCollector, deadline: float) -> None:
        self._collector = collector
        self._deadline = deadline
        self._headers = request_headers(collector, os.environ)

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        body = self._collector.encode(export_request(wire_scopes(spans)))
        if self._collector.post(body, self._headers, self._deadline):
            return SpanExportResult.SUCCESS
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def _flags(context: Any) -> int:
    remote = SPAN_FLAGS_CONTEXT_IS_REMOTE if context is not None and context.is_remote else 0
    return SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE | remote


def _wire_span(span: Any) -> WireSpan:
    """An SDK ``ReadableSpan`` as ``otlp_wire`` carries it (the fields the SDK encodes)."""
    ctx, parent, status = span.get_span_context(), span.parent, span.status
    state = ",".join(f"{k}={val}" for k, val in ctx.trace_state.items()) if ctx.trace_state else ""
    return WireSpan(
        ctx.trace_id.to_bytes(16, "big"),
        ctx.span_id.to_bytes(8, "big"),
        parent.span_id.to_bytes(8, "big") if parent is not None else b"",
        span.name,
        span.start_time,
        span.end_time,
        span.attributes,
        (status.status_code.value, status.description),
        kind=span.kind.value + 1,  # the API's INTERNAL is 0, OTLP's 1
        trace_state=state,
        events=[
            WireEvent(e.timestamp, e.name, e.attributes, getattr(e.attributes, "dropped", 0))
            for e in span.events
        ],
        links=[
            WireLink(
                k.context.trace_id.to_bytes(16, "big"),
                k.context.span_id.to_bytes(8, "big"),
                k.attributes,
                getattr(k.attributes, "dropped", 0),
                _flags(k.context),
            )
            for k in span.links
        ],
        dropped=(span.dropped_attributes, span.dropped_events, span.dropped_links),
        flags=_flags(parent),
    )


def wire_scopes(spans: Sequence[Any]) -> list[WireScope]:
    """The spans grouped as the SDK's encoder groups them: by Resource, then by scope."""
    groups: dict[tuple[int, Any], WireScope] = {}
    resources: dict[int, Any] = {}  # one attributes object per Resource: one ResourceSpans
    for span in spans:
        scope = span.instrumentation_scope
        key = (id(span.resource), scope)
        group = groups.get(key)
        if group is None:
            group = groups[key] = WireScope(
                resources.setdefault(id(span.resource), span.resource.attributes),
                scope.name if scope is not None else "",
                scope.version if scope is not None else None,
                [],
                getattr(scope, "attributes", None),
                (span.resource.schema_url or "", getattr(scope, "schema_url", None) or ""),
            )
        group.spans.append(_wire_span(span))  # type: ignore[attr-defined]
    return list(groups.values())


def shutdown_sender(budget_s: float) -> ShutdownSpanSender | None:
    """The sender for the configured collector, or None when the exporter is needed."""
    collector = loopback_collector()
    if collector is None:
        return None
    return ShutdownSpanSender(collector, time.monotonic() + budget_s)

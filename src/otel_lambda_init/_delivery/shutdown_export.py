"""At SIGTERM, an INIT nobody used leaves through a sender that fits the shutdown grace.

A provider whose OTLP/HTTP exporter nothing has used yet would import the exporter module
and urllib3 inside the grace (~60% of a build's CPU), which does not fit at a small function's
CPU share; for a plain-HTTP loopback collector (the collector extension in Lambda) the spans
are encoded by the exporter package's own encoder and posted on one local connection, with
the standard ``OTEL_EXPORTER_OTLP_(TRACES_)*`` settings. See docs/safety.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .loopback import LoopbackCollector, loopback_collector, request_headers


class ShutdownSpanSender(SpanExporter):
    """OTLP/HTTP protobuf to a loopback collector, bounded by the shutdown grace."""

    def __init__(self, collector: LoopbackCollector, deadline: float) -> None:
        self._collector = collector
        self._deadline = deadline
        self._headers = request_headers(collector, os.environ)

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        body = self._collector.encode(encode_spans(spans).SerializePartialToString())
        if self._collector.post(body, self._headers, self._deadline):
            return SpanExportResult.SUCCESS
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def shutdown_sender(budget_s: float) -> ShutdownSpanSender | None:
    """The sender for the configured collector, or None when the exporter is needed."""
    collector = loopback_collector()
    if collector is None:
        return None
    return ShutdownSpanSender(collector, time.monotonic() + budget_s)

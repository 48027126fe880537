"""A span processor for after-response delivery: spans wait in memory until a flush.

Ended spans are kept in a list and exported on the flushing thread itself, only when
delivery flushes (after the response, at the export cadence, at SIGTERM, before a snapshot):
no worker thread and no timer firing inside a later invocation, as ``BatchSpanProcessor``
would have. See docs/delivery.md.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .._core.report import report_once
from .._probes.fork_guard import on_fork

_monotonic = time.monotonic
DEFAULT_MAX_QUEUE_SIZE = 2048
DEFAULT_MAX_EXPORT_BATCH_SIZE = 512


def _env_int(name: str, default: int) -> int:
    try:
        value = int(os.environ.get(name) or default)
    except ValueError:
        return default
    return value if value > 0 else default


class AfterResponseSpanProcessor(SpanProcessor):
    """Ended, sampled spans wait (at most ``OTEL_BSP_MAX_QUEUE_SIZE``; later ones are
    dropped and said once); ``force_flush`` exports them in batches of
    ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE`` on the calling thread (delivery bounds the wait)."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter
        self._max_queue = _env_int("OTEL_BSP_MAX_QUEUE_SIZE", DEFAULT_MAX_QUEUE_SIZE)
        self._batch = _env_int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", DEFAULT_MAX_EXPORT_BATCH_SIZE)
        self._spans: list[ReadableSpan] = []
        self._lock = threading.Lock()
        self._closed = False
        self.dropped = 0
        on_fork(self._reinit_in_child)

    def _reinit_in_child(self) -> None:
        """A child the function forks has one thread: a lock a flush held at the fork would
        never be released there, and its first ended span would wait forever."""
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if self._closed or context is None or not context.trace_flags.sampled:
            return
        with self._lock:
            if len(self._spans) < self._max_queue:
                self._spans.append(span)
                return
            self.dropped += 1
        report_once(
            "window-queue-full",
            f"more than {self._max_queue} spans waiting for an export "
            "(OTEL_BSP_MAX_QUEUE_SIZE); dropping the rest until the next one",
            exc_info=False,
        )

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export what waits, batch by batch, while ``timeout_millis`` lasts; what the time
        left no room for waits for the next flush (False then, as for a failed export)."""
        deadline = _monotonic() + timeout_millis / 1000.0
        # Not serialised behind an export in flight: at SIGTERM the spans queued behind an
        # export stuck on a slow collector leave beside it (each batch is taken once).
        with self._lock:
            waiting, self._spans = self._spans, []
        return self._export(waiting, deadline)

    def _export(self, spans: Sequence[ReadableSpan], deadline: float) -> bool:
        ok = True
        for i in range(0, len(spans), self._batch):
            if _monotonic() >= deadline:
                with self._lock:  # first in the queue again, before what ended meanwhile
                    self._spans[:0] = spans[i:]
                return False
            try:
                result = self._exporter.export(spans[i : i + self._batch])
            except Exception:
                report_once("window-export", "the span exporter raised")
                result = SpanExportResult.FAILURE
            ok = ok and result == SpanExportResult.SUCCESS
        return ok

    def shutdown(self) -> None:
        if self._closed:
            return
        self.force_flush()
        self._closed = True
        self._exporter.shutdown()

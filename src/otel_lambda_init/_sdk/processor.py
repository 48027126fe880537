"""A SpanProcessor that puts the init span beside another instrumentor's invocation span.

It recognises the invocation span (``opentelemetry-instrumentation-aws-lambda``'s or any
instrumentor's) in ``on_start`` and adds what our own handler wrapper adds: the init span, the
link and the attributes on the first invocation, ``lambda_init.sandbox_invocation`` on every
one; it never creates an invocation span. Every hook is guarded (the SDK's multi-processor
would let an exception reach the handler) and ignores re-entrant calls. What counts as an
invocation span: docs/upstream.md.
"""

from __future__ import annotations

import threading
import time

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from .._core import vocabulary as v
from .._core.report import report_once
from .foreign_span import (
    INVOCATION_KEYS,
    INVOCATION_KINDS,
    UPSTREAM_SCOPE,
    Decoration,
    decorate_invocation_span,
    scope_name,
)

TYPE_CHECKING = False  # the host protocol is for the type checker only
if TYPE_CHECKING:
    from .host import InvocationHost


class InvocationSpanDecorator(SpanProcessor):
    """Decorates invocation spans made by other instrumentors; see the module docstring."""

    def __init__(self, host: InvocationHost) -> None:
        self._host = host
        self._local = threading.local()
        self._adopted: int | None = None

    def on_start(self, span: Span, parent_context: context_api.Context | None = None) -> None:
        if getattr(self._local, "busy", False):
            return
        self._local.busy = True
        try:
            self._on_start(span, parent_context)
        except Exception:
            report_once("processor-on-start", "could not decorate an invocation span")
        finally:
            self._local.busy = False

    def _on_start(self, span: Span, parent_context: context_api.Context | None) -> None:
        if span.kind not in INVOCATION_KINDS:
            return
        host = self._host
        attributes = span.attributes or {}
        if scope_name(span) == v.TRACER_NAME:
            if v.SANDBOX_INVOCATION in attributes:
                host.claims.claim_window_only()  # our handler wrapper made this invocation's span
            return
        ctx = parent_context if parent_context is not None else context_api.get_current()
        parent = trace.get_current_span(ctx).get_span_context()
        if parent.is_valid and not parent.is_remote:
            return  # a span inside the invocation, not the invocation itself
        if not (
            any(key in attributes for key in INVOCATION_KEYS)
            or scope_name(span) == UPSTREAM_SCOPE
            or host.claims.in_invocation()
        ):
            return
        decoration = decorate_invocation_span(host, span, ctx, adopt_into_root=True)
        if decoration is Decoration.NOT_OURS:
            return
        if decoration is Decoration.ADOPTED:
            self._adopted = span.get_span_context().span_id  # its end ends the root
        host.invocation_opened(span)  # a function timeout (SIGTERM) ends it, as our wrapper's

    def on_end(self, span: ReadableSpan) -> None:
        try:
            context = span.get_span_context()
            if context is not None:
                self._host.invocation_closed(span)  # type: ignore[arg-type] # the SDK's Span
                if self._adopted is not None and context.span_id == self._adopted:
                    self._adopted = None
                    self._host.close_root(span.end_time or time.time_ns())
        except Exception:
            report_once("processor-on-end", "could not release an invocation span")

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

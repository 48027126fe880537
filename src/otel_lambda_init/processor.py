"""A SpanProcessor that puts the init span beside another instrumentor's invocation span.

With ``opentelemetry-instrumentation-aws-lambda`` (or any instrumentor) creating the
invocation span, this processor recognises that span in ``on_start`` and does what our own
handler wrapper does: the first invocation gets the init span (placed per
``OTEL_LAMBDA_INIT_TRACE``), the link and the attributes; every invocation gets
``lambda_init.sandbox_invocation``. It never creates an invocation span of its own.

Recognised as an invocation span: kind SERVER or CONSUMER, not a child of a local span, and
either carrying ``faas.invocation_id``/``faas.trigger`` at start, or made by the upstream
aws-lambda instrumentation (whose versions before 0.61b0 set their attributes only after
start), or started while the runtime is serving an invocation and nothing took it yet.
The SDK's multi-processor lets an exception in ``on_start`` reach the code starting the
span (the user's handler), so every hook is guarded, and re-entrant calls (the init span we
start from inside ``on_start``) are ignored.
"""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind

from . import _claims
from ._safety import report_once
from .spans import TRACER_NAME

UPSTREAM_SCOPE = "opentelemetry.instrumentation.aws_lambda"
_INVOCATION_KINDS = (SpanKind.SERVER, SpanKind.CONSUMER)
_INVOCATION_KEYS = ("faas.invocation_id", "faas.trigger", "faas.execution")


def _scope_name(span: Any) -> str:
    scope = getattr(span, "instrumentation_scope", None) or getattr(
        span, "instrumentation_info", None
    )
    return getattr(scope, "name", "") or ""


class InitSpanProcessor(SpanProcessor):
    """Decorates invocation spans made by other instrumentors; see the module docstring."""

    def __init__(self, tracer_provider: Any = None) -> None:
        self._provider_ref = weakref.ref(tracer_provider) if tracer_provider is not None else None
        self._local = threading.local()
        _claims.watch_runtime_window()

    def _provider(self) -> Any:
        provider = self._provider_ref() if self._provider_ref is not None else None
        return provider if provider is not None else trace.get_tracer_provider()

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
        if span.kind not in _INVOCATION_KINDS:
            return
        attributes = span.attributes or {}
        if _scope_name(span) == TRACER_NAME:
            if "lambda_init.sandbox_invocation" in attributes:
                _claims.claim_window_only()  # our handler wrapper made this invocation's span
            return
        ctx = parent_context if parent_context is not None else context_api.get_current()
        parent = trace.get_current_span(ctx).get_span_context()
        if parent.is_valid and not parent.is_remote:
            return  # a span inside the invocation, not the invocation itself
        if not (
            any(key in attributes for key in _INVOCATION_KEYS)
            or _scope_name(span) == UPSTREAM_SCOPE
            or _claims.in_invocation()
        ):
            return
        from .state import sandbox_state

        state = sandbox_state()
        if state.config.disabled or not _claims.claim(span):
            return
        start_ns = span.start_time or time.time_ns()
        number = state.timeline.begin_invocation()
        extra: dict[str, Any] = state.timeline.invocation_attributes(number)
        if number == 1:
            extra.update(state.emitter.on_first_invocation(self._provider(), span, ctx, start_ns))
        span.set_attributes(extra)

    def on_end(self, span: ReadableSpan) -> None:
        try:
            context = span.get_span_context()
            if context is not None:
                _claims.release(context.span_id)
        except Exception:
            report_once("processor-on-end", "could not release an invocation span")

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


_installed: weakref.WeakSet[Any] = weakref.WeakSet()
_installed_lock = threading.Lock()


def ensure_processor(tracer_provider: Any) -> InitSpanProcessor | None:
    """Add one ``InitSpanProcessor`` to an SDK TracerProvider (never twice). Returns None for
    providers that take no processors (the API's no-op or proxy provider)."""
    add = getattr(tracer_provider, "add_span_processor", None)
    if add is None:
        return None
    with _installed_lock:
        if tracer_provider in _installed:
            return None
        processor = InitSpanProcessor(tracer_provider)
        add(processor)
        _installed.add(tracer_provider)
    return processor

"""Emits the init span: where it goes, what it says, and the link from the first invocation.

The invocation span always exists first (ours or another instrumentor's); the init span is
created back-dated, then linked with ``Span.add_link``, so one code path serves both.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from . import classify
from ._safety import report_once
from .config import Config
from .environment import SandboxEnvironment
from .flush import flusher
from .timeline import SandboxTimeline

TRACER_NAME = "otel_lambda_init"
TRACER_VERSION = "0.1.0"


def init_span_name(env: SandboxEnvironment, phase: str = "init") -> str:
    """``init {faas.name}``; a SnapStart sandbox's cold start is ``restore {faas.name}``."""
    return f"{'restore' if phase == classify.PHASE_RESTORE else 'init'} {env.function_name}"


def init_tracer(provider: Any, record_unsampled: bool) -> trace.Tracer:
    """A tracer for init spans; with ``record_unsampled`` it ignores the user's sampler.

    The SDK tracer keeps its sampler in a public attribute: a shallow copy with ALWAYS_ON
    records init spans without touching how the user's invocations are sampled.
    """
    tracer = provider.get_tracer(TRACER_NAME, TRACER_VERSION)
    if record_unsampled and hasattr(tracer, "sampler"):
        from opentelemetry.sdk.trace.sampling import ALWAYS_ON

        tracer = copy.copy(tracer)
        tracer.sampler = ALWAYS_ON
    return tracer


class InitSpanEmitter:
    """Owns the init span of this sandbox: created once, linked from the first invocation."""

    def __init__(self, config: Config, env: SandboxEnvironment, timeline: SandboxTimeline):
        self.config = config
        self.env = env
        self.timeline = timeline
        self._lock = threading.Lock()
        self._separate_span: Span | None = None
        self._separate_token: object | None = None
        self._emitted: trace.SpanContext | None = None
        self._get_provider: Callable[[], Any] = trace.get_tracer_provider

    # -- separate mode: opened during INIT, exported when INIT ends ----------------------
    def open_during_init(self, get_provider: Callable[[], Any]) -> None:
        """In ``separate`` mode, start the init span now and make it current during INIT, so
        spans other instrumentations create at import time nest under it. Without a
        TracerProvider yet, the span is created at INIT end instead."""
        if self.config.trace_mode != "separate" or self.timeline.init.end_ns is not None:
            return
        provider = get_provider()
        with self._lock:
            if self._separate_span is not None or self._emitted is not None:
                return
            self._get_provider = get_provider
            if not isinstance(provider, trace.ProxyTracerProvider):
                span = self._start_separate(provider)
                self._separate_token = context_api.attach(trace.set_span_in_context(span))
        self.timeline.on_init_end(self._close_separate)

    def _start_separate(self, provider: Any) -> Span:
        span = self._start_span(provider, context_api.Context(), self._base_attributes())
        self._separate_span = span
        self._emitted = span.get_span_context()
        return span

    def _close_separate(self, end_ns: int) -> None:
        provider = self._get_provider()
        with self._lock:
            span = self._separate_span
            if span is None and self._emitted is None:
                span = self._start_separate(provider)
            token = self._separate_token
            self._separate_span = self._separate_token = None
        if span is None:
            return
        if token is not None:
            with contextlib.suppress(Exception):  # INIT ended in another context
                context_api.detach(token)  # type: ignore[arg-type]
        span.set_attribute(
            "lambda_init.duration_ms",
            round((end_ns - self.timeline.init.start_ns) / classify.NS_PER_MS, 3),
        )
        self._end_span(provider, span, end_ns)
        flusher.flush(provider, self.config.flush_timeout_ms / 1000.0)

    # -- first invocation -----------------------------------------------------------------
    def on_first_invocation(
        self,
        provider: Any,
        invocation_span: Span,
        parent_context: context_api.Context | None,
        start_ns: int,
    ) -> dict[str, Any]:
        """Emit (or reuse) the init span, link the invocation to it, and return the
        attributes the first invocation span should carry."""
        init = self.timeline.init
        end_ns = init.end_ns if init.end_ns is not None else start_ns
        timeline = classify.InitTimeline(init.start_ns, end_ns, init.phase)
        verdict = classify.classify_first_invocation(
            timeline,
            start_ns,
            self.env.initialization_type,
            self.config.proactive_threshold_ms,
        )
        attributes = classify.init_attributes(verdict)
        self._record_metrics(verdict)
        with self._lock:
            init_ctx = self._emitted
            if init_ctx is None:
                init_ctx = self._emit(provider, invocation_span, parent_context, timeline, verdict)
                self._emitted = init_ctx
        if init_ctx is not None and init_ctx.is_valid:
            try:
                invocation_span.add_link(init_ctx, {"lambda_init.link": "init"})
            except Exception:
                report_once("add-link", "could not add the link to the init span")
        return attributes

    def _emit(
        self,
        provider: Any,
        invocation_span: Span,
        parent_context: context_api.Context | None,
        timeline: classify.InitTimeline,
        verdict: classify.InitVerdict,
    ) -> trace.SpanContext:
        place = classify.placement(verdict, self.config.trace_mode)
        inv_ctx = invocation_span.get_span_context()
        if place == classify.PLACE_INVOCATION_TRACE and not inv_ctx.trace_flags.sampled:
            # Inside an unsampled trace the span would vanish: give it its own trace.
            place = classify.PLACE_OWN_TRACE
        if place == classify.PLACE_OWN_TRACE:
            ctx = context_api.Context()
        else:
            remote = trace.get_current_span(parent_context).get_span_context()
            if parent_context is not None and remote.is_valid and remote.is_remote:
                ctx = parent_context  # sibling of the invocation under the remote parent
            else:
                ctx = trace.set_span_in_context(invocation_span, context_api.Context())
        attributes = {**self._base_attributes(), **classify.init_attributes(verdict)}
        span = self._start_span(provider, ctx, attributes)
        return self._end_span(provider, span, timeline.end_ns)

    def emit_unused(self, provider: Any, now_ns: int) -> bool:
        """At shutdown, export the init span of a sandbox that never served an invocation,
        as its own trace with ``lambda_init.unused=true``. Returns False if it was emitted."""
        with self._lock:
            if self._emitted is not None:
                return False
            init = self.timeline.init
            end_ns = init.end_ns if init.end_ns is not None else now_ns
            timeline = classify.InitTimeline(init.start_ns, end_ns, init.phase)
            verdict = classify.classify_first_invocation(
                timeline, now_ns, self.env.initialization_type, self.config.proactive_threshold_ms
            )
            attributes = {**self._base_attributes(), **classify.init_attributes(verdict)}
            attributes.pop("lambda_init.gap_ms", None)  # there is no first invocation
            attributes["faas.coldstart"] = False
            attributes["lambda_init.unused"] = True
            span = self._start_span(provider, context_api.Context(), attributes)
            self._emitted = self._end_span(provider, span, end_ns)
            return True

    def on_init_error(self, now_ns: int, error: Mapping[str, Any]) -> None:
        """INIT raised: end the init span with ERROR and the runtime's view of the exception,
        and export it (bounded) before the runtime reports the error and exits."""
        provider = self._get_provider()
        with self._lock:
            span, token = self._separate_span, self._separate_token
            self._separate_span = self._separate_token = None
            if span is None:
                if self._emitted is not None or isinstance(provider, trace.ProxyTracerProvider):
                    return  # already exported, or nothing to export with
                span = self._start_span(provider, context_api.Context(), self._base_attributes())
                self._emitted = span.get_span_context()
        if token is not None:
            with contextlib.suppress(Exception):
                context_api.detach(token)  # type: ignore[arg-type]
        error_type = str(error.get("errorType") or "Runtime.Unknown")
        message = str(error.get("errorMessage") or "")
        stack = error.get("stackTrace")
        stacktrace = "".join(map(str, stack)) if isinstance(stack, list) else str(stack or "")
        span.add_event(
            "exception",
            {
                "exception.type": error_type,
                "exception.message": message[:1024],
                "exception.stacktrace": stacktrace[:4096],
            },
            timestamp=now_ns,
        )
        span.set_status(Status(StatusCode.ERROR, f"{error_type}: {message}"[:256]))
        start_ns = self.timeline.init.start_ns
        span.set_attribute(
            "lambda_init.duration_ms", round((now_ns - start_ns) / classify.NS_PER_MS, 3)
        )
        self._end_span(provider, span, now_ns)
        flusher.flush(provider, self.config.flush_timeout_ms / 1000.0)

    def emit_own_trace(self, provider: Any, end_ns: int) -> bool:
        """Export the init span now, as its own trace (SnapStart's publish-time INIT, reported
        once before the snapshot). Returns False if it was already exported."""
        with self._lock:
            if self._emitted is not None or isinstance(provider, trace.ProxyTracerProvider):
                return False
            start_ns = self.timeline.init.start_ns
            attributes = {
                **self._base_attributes(),
                "faas.coldstart": False,  # nobody waits for a publish-time INIT
                "lambda_init.duration_ms": round((end_ns - start_ns) / classify.NS_PER_MS, 3),
            }
            span = self._start_span(provider, context_api.Context(), attributes)
            self._emitted = self._end_span(provider, span, end_ns)
            return True

    def begin_restore(self) -> None:
        """A SnapStart sandbox was restored: its restore is a new cold start to report."""
        with self._lock:
            self._emitted = None
            self._separate_span = self._separate_token = None

    def _record_metrics(self, verdict: classify.InitVerdict) -> None:
        """INIT metrics, only with a MeterProvider; independent of trace sampling."""
        try:
            from .metrics import record_init

            record_init(verdict)
        except Exception:
            report_once("init-metrics", "could not record the INIT metrics")

    def _anatomy(self, provider: Any, span: Span, start_ns: int, end_ns: int) -> None:
        """Children (runtime, setup, imports, phases, failed attempts), cost and CPU."""
        try:
            from .anatomy import decorate_init_span

            decorate_init_span(self, provider, span, start_ns, end_ns)
        except Exception:
            report_once("init-anatomy", "could not add the INIT's children and cost")

    def _start_span(
        self, provider: Any, context: context_api.Context, attributes: dict[str, Any]
    ) -> Span:
        """Start the (back-dated) init span under ``context``; every placement uses this."""
        tracer = init_tracer(provider, self.config.record_unsampled_init)
        return tracer.start_span(
            init_span_name(self.env, self.timeline.init.phase),
            context=context,
            kind=SpanKind.INTERNAL,
            start_time=self.timeline.init.start_ns,
            attributes=attributes,
        )

    def _end_span(self, provider: Any, span: Span, end_ns: int) -> trace.SpanContext:
        """Add the children, cost and CPU, then end the init span at INIT end."""
        self._anatomy(provider, span, self.timeline.init.start_ns, end_ns)
        span.end(end_time=end_ns)
        return span.get_span_context()

    def _base_attributes(self) -> dict[str, Any]:
        init = self.timeline.init
        attrs: dict[str, Any] = {
            "faas.name": self.env.function_name,
            "lambda_init.initialization_type": self.env.initialization_type,
            "lambda_init.phase": init.phase,
            "lambda_init.start_source": init.start_source,
        }
        if self.env.log_stream_name:
            attrs["faas.instance"] = self.env.log_stream_name
        if init.end_source:
            attrs["lambda_init.end_source"] = init.end_source
        return attrs


def record_handler_error(span: Span, error: BaseException) -> None:
    """Record a handler's exception on its span without changing the exception."""
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"[:256]))

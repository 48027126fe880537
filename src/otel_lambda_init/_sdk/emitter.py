"""Emits the init span and links it from the first invocation; where it goes and why each
span lies within its parent: docs/init-anatomy.md and docs/index.md ("What you get"). The
emitter never flushes: the owner hands what it emitted to the delivery policy."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, TracerProvider

from .._compat import can_move_span, move_span
from .._core import classify, init_span
from .._core import vocabulary as v
from .._core.config import Config
from .._core.environment import SandboxEnvironment
from .._core.records import ChildRecords
from .._core.report import report_once
from .._core.timeline import SandboxTimeline
from .._core.vocabulary import TRACE_SEPARATE
from .spans import (
    detach_quietly,
    id_attributes,
    init_tracer,
    record_runtime_error,
)
from .verdict import first_invocation_verdict

ProviderGetter = Callable[[], TracerProvider]


class InitSpanEmitter:
    """Owns the init span of this sandbox: created once, linked from the first invocation."""

    def __init__(
        self,
        config: Callable[[], Config],
        env: SandboxEnvironment,
        timeline: SandboxTimeline,
        records: ChildRecords,
        provider: ProviderGetter,
        on_verdict: Callable[[classify.InitVerdict], None] | None = None,
        extensions_present: Callable[[], bool] | None = None,
    ) -> None:
        self._config = config
        self.env = env
        self.timeline = timeline
        self.records = records
        self._provider = provider
        self._on_verdict = on_verdict
        self._lock = threading.Lock()
        self._separate_span: Span | None = None
        self._separate_token: object | None = None
        self._emitted: trace.SpanContext | None = None
        self._extensions_present = extensions_present
        self._root: Span | None = None  # the first invocation's root, when there is one

    # -- separate mode: opened during INIT, ended when INIT ends ---------------------------
    def open_during_init(self) -> None:
        """In ``separate`` mode, start the init span now and make it current during INIT, so
        spans other instrumentations create at import time nest under it. Without a
        TracerProvider yet, the span is created at INIT end instead."""
        if self._config().trace_mode != TRACE_SEPARATE or self.timeline.init_over:
            return
        provider = self._provider()
        with self._lock:
            if self._separate_span is not None or self._emitted is not None:
                return
            if not isinstance(provider, trace.ProxyTracerProvider):
                span = self._start_separate(provider)
                self._separate_token = context_api.attach(trace.set_span_in_context(span))

    def _start_separate(self, provider: TracerProvider) -> Span:
        span = self._start_span(provider, context_api.Context(), self._base_attributes())
        self._separate_span = span
        self._emitted = span.get_span_context()
        return span

    def close_separate(self, end_ns: int) -> bool:
        """INIT ended: in ``separate`` mode end (or create and end) the init span. True when
        a span was ended and needs delivery."""
        if self._config().trace_mode != TRACE_SEPARATE:
            return False
        provider = self._provider()
        with self._lock:
            span = self._separate_span
            if span is None and self._emitted is None:
                if isinstance(provider, trace.ProxyTracerProvider):
                    return False  # no provider yet: the first invocation emits it
                span = self._start_separate(provider)
            token = self._separate_token
            self._separate_span = self._separate_token = None
        if span is None:
            return False
        detach_quietly(token)
        span.set_attribute(v.DURATION_MS, self._duration_ms(end_ns))
        self._end_span(provider, span, end_ns)
        return True

    # -- first invocation -----------------------------------------------------------------
    def verdict(self, first_invocation_start_ns: int) -> classify.InitVerdict:
        """The decision table applied to this sandbox's INIT and its first invocation."""
        return first_invocation_verdict(
            self._config(),
            self.env,
            self.timeline.init,
            first_invocation_start_ns,
            self._extensions_present,
            self._span_start_ns(),  # an INIT re-run after the cap: the first attempt's start
        )

    def reports_init(self, config: Config) -> bool:
        """Inside a Lambda sandbox; outside one only when asked for (unit tests, scripts)."""
        return bool(self.env.runtime_api) or config.init_span_outside_lambda

    def open_root(
        self,
        tracer: trace.Tracer,
        parent_context: context_api.Context | None,
        start_ns: int,
    ) -> Span | None:
        """Before the first invocation span starts: when the init span will join its trace
        and no remote parent holds them, start the root that will hold both (INIT start to
        invocation end). The caller parents the invocation span on it and ends it through
        ``close_root``. None when no root is needed."""
        if self._emitted is not None or self._root is not None:
            return None
        if not self.reports_init(self._config()):
            return None
        remote = trace.get_current_span(parent_context).get_span_context()
        if parent_context is not None and remote.is_valid:
            return None  # siblings under the caller's span
        verdict = self.verdict(start_ns)
        if classify.placement(verdict, self._config().trace_mode) != v.PLACE_INVOCATION_TRACE:
            return None
        # Only the name: the verdict lives on the init and invocation spans, so no counter of
        # spans carrying faas.coldstart sees this root as an invocation.
        attributes = {v.FAAS_NAME: self.env.function_name}
        label = "cold start" if verdict.coldstart else "first invocation"
        root = tracer.start_span(
            f"{label} {self.env.function_name}",
            context=context_api.Context(),
            kind=SpanKind.INTERNAL,
            start_time=min(self._span_start_ns(), start_ns),
            attributes=attributes,
        )
        self._root = root
        return root

    def adopt_into_root(self, span: Span) -> bool:
        """Processor route: another instrumentor started the first invocation span before we
        could parent it. From inside ``on_start`` (before anything has seen its ids) move it
        under a root that starts at INIT start: the root is made first, then the span takes
        the root's trace id and the root as parent. Only for the SDK's spans, both sampled;
        otherwise False and the init span gets its own trace."""
        start_ns = getattr(span, "start_time", None)
        ctx = span.get_span_context()
        if not isinstance(start_ns, int) or not ctx.trace_flags.sampled:
            return False
        if not self.reports_init(self._config()):
            return False
        if not can_move_span(span):
            return False
        provider = self._provider()
        root = self.open_root(provider.get_tracer(v.TRACER_NAME, v.VERSION), None, start_ns)
        if root is None:
            return False
        root_ctx = root.get_span_context()
        if not root_ctx.trace_flags.sampled:
            self._root = None
            return False
        moved = trace.SpanContext(
            root_ctx.trace_id, ctx.span_id, False, ctx.trace_flags, ctx.trace_state
        )
        return move_span(span, moved, root_ctx)

    def close_root(self, end_ns: int) -> None:
        """End the root opened by ``open_root`` (at the invocation's end), if any."""
        root, self._root = self._root, None
        if root is not None:
            root.end(end_time=end_ns)

    def on_first_invocation(
        self,
        invocation_span: Span,
        parent_context: context_api.Context | None,
        start_ns: int,
    ) -> dict[str, Any]:
        """Emit (or reuse) the init span, link the invocation to it, and return the
        attributes the first invocation span should carry (the init span's ids included)."""
        config = self._config()
        if not self.reports_init(config):
            return {}  # not a Lambda sandbox: no INIT to report unless asked for
        verdict = self.verdict(start_ns)
        attributes: dict[str, Any] = classify.init_attributes(verdict)
        if self._on_verdict is not None:
            try:
                self._on_verdict(verdict)
            except Exception:
                report_once("init-metrics", "could not record the INIT metrics")
        with self._lock:
            init_ctx = self._emitted
            if init_ctx is None:
                init_ctx = self._emit(invocation_span, parent_context, verdict, config, start_ns)
                self._emitted = init_ctx
        if init_ctx is not None and init_ctx.is_valid:
            attributes.update(id_attributes(init_ctx, v.INIT_TRACE_ID, v.INIT_SPAN_ID))
            try:
                invocation_span.add_link(init_ctx, {v.LINK: "init"})
            except Exception:
                report_once("add-link", "could not add the link to the init span")
        return attributes

    def _emit(
        self,
        invocation_span: Span,
        parent_context: context_api.Context | None,
        verdict: classify.InitVerdict,
        config: Config,
        start_ns: int,
    ) -> trace.SpanContext:
        place = classify.placement(verdict, config.trace_mode)
        inv_ctx = invocation_span.get_span_context()
        if place == v.PLACE_INVOCATION_TRACE and not inv_ctx.trace_flags.sampled:
            # Inside an unsampled trace the span would vanish: give it its own trace.
            place = v.PLACE_OWN_TRACE
        root = self._root
        if place == v.PLACE_OWN_TRACE:
            ctx = context_api.Context()
        elif root is not None and root.get_span_context().trace_id == inv_ctx.trace_id:
            ctx = trace.set_span_in_context(root, context_api.Context())
        else:
            remote = trace.get_current_span(parent_context).get_span_context()
            if parent_context is not None and remote.is_valid and remote.is_remote:
                ctx = parent_context  # sibling of the invocation under the remote parent
            else:
                # No root could be placed before the invocation span started: a child that
                # starts before its parent is misdrawn, so the INIT gets its own trace.
                ctx = context_api.Context()
        attributes = {
            **self._base_attributes(),
            **classify.init_attributes(verdict),
            **id_attributes(inv_ctx, v.INVOCATION_TRACE_ID, v.INVOCATION_SPAN_ID),
        }
        provider = self._provider()
        span = self._start_span(provider, ctx, attributes)
        init = self.timeline.init
        end_ns = init.end_ns if init.end_ns is not None else start_ns
        return self._end_span(provider, span, end_ns)

    # -- INITs no invocation will report: their own trace, ended now -----------------------
    def emit_unused(self, now_ns: int) -> bool:
        """At shutdown, export the init span of a sandbox that never served an invocation,
        as its own trace with ``lambda_init.unused=true``. False if it was emitted already."""
        init = self.timeline.init
        attributes = init_span.unused_attributes(self.verdict(now_ns))
        return self._emit_now(init.end_ns if init.end_ns is not None else now_ns, attributes)

    def emit_own_trace(self, end_ns: int) -> bool:
        """Export the init span now, as its own trace (SnapStart's publish-time INIT, reported
        once before the snapshot). False if it was already emitted."""
        return self._emit_now(
            end_ns,
            {
                v.FAAS_COLDSTART: False,  # nobody waits for a publish-time INIT
                v.DURATION_MS: self._duration_ms(end_ns),
            },
        )

    def on_init_error(self, now_ns: int, error: Mapping[str, Any]) -> bool:
        """INIT raised: end the init span (``separate`` mode's open one, else a new one) with
        ERROR and the runtime's view of the exception. True when a span was ended and needs
        delivery (before the runtime reports and exits)."""
        return self._emit_now(
            now_ns, {v.DURATION_MS: self._duration_ms(now_ns)}, error=error, take_separate=True
        )

    def _emit_now(
        self,
        end_ns: int,
        attributes: dict[str, Any],
        error: Mapping[str, Any] | None = None,
        take_separate: bool = False,
    ) -> bool:
        """The one "own trace, end now" path: start the init span in a trace of its own (or
        take ``separate`` mode's open one), end it at ``end_ns``. False when it was emitted
        already or there is no provider to emit with."""
        provider = self._provider()
        token = None
        with self._lock:
            span = self._separate_span if take_separate else None
            if span is not None:
                token = self._separate_token
                self._separate_span = self._separate_token = None
                span.set_attributes(attributes)
            else:
                if self._emitted is not None or isinstance(provider, trace.ProxyTracerProvider):
                    return False
                attributes = {**self._base_attributes(), **attributes}
                span = self._start_span(provider, context_api.Context(), attributes)
            self._emitted = span.get_span_context()
        detach_quietly(token)
        if error is not None:
            record_runtime_error(span, error, end_ns, self._config().record_exception_messages)
        self._end_span(provider, span, end_ns)
        return True

    def _duration_ms(self, end_ns: int) -> float:
        return round((end_ns - self.timeline.init.start_ns) / classify.NS_PER_MS, 3)

    def begin_restore(self) -> None:
        """A SnapStart sandbox was restored: its restore is a new cold start to report."""
        with self._lock:
            self._emitted = None
            self._root = None
            self._separate_span = self._separate_token = None

    # -- one way to start and end an init span ---------------------------------------------
    def _start_span(
        self, provider: TracerProvider, context: context_api.Context, attributes: dict[str, Any]
    ) -> Span:
        """Start the (back-dated) init span under ``context``; every placement uses this."""
        tracer = init_tracer(provider, self._config().record_unsampled_init)
        return tracer.start_span(
            init_span.init_span_name(self.env, self.timeline.init.phase),
            context=context,
            kind=SpanKind.INTERNAL,
            start_time=self._span_start_ns(),
            attributes=attributes,
        )

    def _span_start_ns(self) -> int:
        """INIT start; for an INIT re-run after a timeout, the failed attempt's start, so its
        child (the failed attempt) lies within it: the caller waited through both."""
        return init_span.span_start_ns(self.timeline.init, self.records)

    def _end_span(self, provider: TracerProvider, span: Span, end_ns: int) -> trace.SpanContext:
        """Add the children, cost and CPU, then end the init span at INIT end."""
        try:
            from .children import emit_children

            init = self.timeline.init
            span.set_attributes(
                init_span.init_cost_attributes(init, end_ns, self._config(), self.env, self.records)
            )
            records = init_span.child_records(init, self.records, end_ns)
            tracer = init_tracer(provider, self._config().record_unsampled_init)
            emit_children(tracer, span, records)
        except Exception:
            report_once("init-anatomy", "could not add the INIT's children and cost")
        span.end(end_time=end_ns)
        return span.get_span_context()

    def _base_attributes(self) -> dict[str, Any]:
        return init_span.base_attributes(self.env, self.timeline.init)

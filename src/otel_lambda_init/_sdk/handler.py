"""Our handler wrapper: one invocation span per call, the init span on the first.

Everything the wrapper does around the user's handler is guarded: a failure in here is
logged once and the handler still runs exactly once and returns (or raises) unchanged.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any, Literal, TypeVar

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, TracerProvider

from .._core import vocabulary as v
from .._core.claims import NESTED, NestedCall
from .._core.event_time import received_ns_from_event
from .._core.report import report_once
from .foreign_span import (
    Decoration,
    decorate_invocation_span,
    is_upstream_invocation_span,
    scope_name,
)
from .invocation import invocation_attributes, parent_context_of, trigger_of
from .spans import record_error

TYPE_CHECKING = False  # the host protocol is for the type checker only
if TYPE_CHECKING:
    from .host import InvocationHost

F = TypeVar("F", bound=Callable[..., Any])


class _Outer(Enum):
    NONE = "none"
    """No span of ours or another instrumentor's is this call's: start our own."""


_NO_OUTER = _Outer.NONE


class _Invocation:
    """What the wrapper keeps between the start and the end of one call; ``owned`` is False
    when the span is an outer instrumentor's that we only decorated."""

    __slots__ = ("span", "token", "provider", "owned", "has_root")

    def __init__(
        self,
        span: Span,
        token: object,
        provider: TracerProvider,
        owned: bool = True,
        has_root: bool = False,
    ):
        self.span = span
        self.token = token
        self.provider = provider
        self.owned = owned  # False: another instrumentor's span, decorated, not ended here
        self.has_root = has_root  # the emitter's root ends with this span


class HandlerInstrumentation:
    """The state behind one decorated handler; the decorator is a thin shell around it."""

    def __init__(self, host: InvocationHost, attributes: Mapping[str, Any] | None = None):
        self.host = host
        self._attributes = dict(attributes or {})
        self._tracer: trace.Tracer | None = None
        self._tracer_of: Any = None
        # Fallback INIT end when the runtime's next call cannot be observed: the handler was
        # decorated while its module was being imported.
        self._ready_ns = time.time_ns()

    def tracer(self, provider: TracerProvider) -> trace.Tracer:
        if self._tracer is None or self._tracer_of is not provider:
            self._tracer = provider.get_tracer(v.TRACER_NAME, v.VERSION)
            self._tracer_of = provider
        return self._tracer

    def start(
        self, event: Any, context: Any, start_ns: int | None = None
    ) -> _Invocation | NestedCall | None:
        """The invocation span started (or decorated), None when none could be, ``NESTED``
        inside an outer wrapper of ours. ``start_ns`` is given when a deferred first
        invocation is built after the fact."""
        host = self.host
        current_span = trace.get_current_span()
        if current_span is not trace.INVALID_SPAN:  # something is current: whose is it?
            outer = self._outer(current_span)
            if outer is not _NO_OUTER:
                return outer
        if start_ns is None:
            start_ns = time.time_ns()
        number = host.timeline.begin_invocation()
        if number == 1:
            # INIT is over before the invocation's parent is chosen: in ``separate`` mode this
            # ends the init span and detaches its context, when the runtime's next was not seen.
            host.end_init(self._ready_ns, v.END_HANDLER_IMPORT)  # no-op if INIT end was seen
            if host.timeline.init.request_received_ns is None:
                host.timeline.init.request_received_ns = received_ns_from_event(event)
        provider = host.provider()
        parent = parent_context_of(event)
        trigger, kind = trigger_of(event)
        tracer = self.tracer(provider)
        attrs = self._attributes_of(context, trigger, number)
        root = None
        span_parent = parent
        if number == 1:
            # A root covering INIT and this invocation, when the init span joins this trace.
            root = host.open_root(tracer, parent, start_ns)
            if root is not None:
                span_parent = trace.set_span_in_context(root, context_api.Context())
        span = tracer.start_span(
            host.env.function_name,
            context=span_parent,
            kind=kind,
            start_time=start_ns,
            attributes=attrs,
        )
        if number == 1:
            span.set_attributes(host.first_invocation(span, parent, start_ns, provider))
        token = context_api.attach(trace.set_span_in_context(span, parent))
        host.invocation_opened(span)  # held; ended at SIGTERM if the platform times it out
        return _Invocation(span, token, provider, has_root=root is not None)

    def _outer(self, current_span: Span) -> _Invocation | NestedCall | Literal[_Outer.NONE] | None:
        """What to do when a span is current as the call starts: ``NESTED`` inside an outer
        wrapper of ours, the upstream instrumentor's span decorated, None when an outer
        instrumentor's span was decorated already, ``_NO_OUTER`` to start our own."""
        host = self.host
        current = current_span.get_span_context()
        outer_span = host.claims.decorated(current.span_id)
        if outer_span is not None:
            if outer_span is current_span and scope_name(current_span) == v.TRACER_NAME:
                return NESTED  # an outer wrapper of ours traces and delivers this call
            return None  # an outer instrumentor's span, already decorated by our processor
        if current.is_valid and is_upstream_invocation_span(current_span):
            # The upstream instrumentor wrapped first and no processor of ours saw its span:
            # it is this invocation's span; decorate it rather than start a second one.
            parent = getattr(current_span, "parent", None)
            outer = trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else None
            if decorate_invocation_span(host, current_span, outer) is not Decoration.NOT_OURS:
                return _Invocation(current_span, None, host.provider(), owned=False)
            return None
        return _NO_OUTER

    def _attributes_of(self, context: Any, trigger: str, number: int) -> dict[str, Any]:
        """The invocation span's start attributes: identifiers from the context object, the
        sandbox counters, the decorator's own."""
        host = self.host
        env = host.env
        attrs = invocation_attributes(context, trigger, env.function_name, env.log_stream_name)
        attrs.update(host.timeline.invocation_attributes(number))
        attrs.update(self._attributes)
        return attrs

    def finish(
        self,
        invocation: _Invocation | None,
        error: BaseException | None,
        end_ns: int | None = None,
        deliver: bool = True,
    ) -> None:
        """End the span, then hand it to delivery; delivery always hears that the handler
        finished, even when the span could not be created. A deferred first invocation,
        built after the fact, passes its end time and is already being delivered."""
        if self.host.forked:
            return  # a child the function forked leaves the handler: the span is the parent's
        provider = None
        try:
            if invocation is not None and not invocation.owned:
                provider = invocation.provider
                self.host.claims.release(invocation.span.get_span_context().span_id)
            elif invocation is not None:
                provider = invocation.provider
                self.host.invocation_closed(invocation.span)
                try:
                    if error is not None:
                        with_message = self.host.config.record_exception_messages
                        record_error(invocation.span, error, end_ns, with_message)
                finally:  # whatever recording did, the span ends and the context goes back
                    try:
                        invocation.span.end(end_time=end_ns)
                        if invocation.has_root:
                            ended = getattr(invocation.span, "end_time", None)
                            self.host.close_root(
                                ended if isinstance(ended, int) else time.time_ns()
                            )
                    finally:
                        # (not contextlib.suppress: three more calls on every invocation)
                        try:  # noqa: SIM105
                            context_api.detach(invocation.token)  # type: ignore[arg-type]
                        except Exception:  # the handler switched contexts
                            pass
        finally:
            if deliver:
                self.host.invocation_finished(
                    provider if provider is not None else self.host.provider()
                )


def wrap_handler(fn: F, instrumentation: HandlerInstrumentation) -> F:
    """``fn`` traced by ``instrumentation``; runs exactly once per call, result unchanged.
    A coroutine function stays one, and its span lasts until it is awaited to the end."""
    if inspect.iscoroutinefunction(fn):
        return _wrap_coroutine_function(fn, instrumentation)

    @functools.wraps(fn)
    def traced_handler(event: Any, context: Any) -> Any:
        invocation = _start_quietly(instrumentation, event, context)
        if invocation is NESTED:
            return fn(event, context)
        try:
            result = fn(event, context)
        except BaseException as error:
            _finish_quietly(instrumentation, invocation, error)
            raise
        _finish_quietly(instrumentation, invocation, None)
        return result

    traced_handler.__otel_lambda_init__ = True  # type: ignore[attr-defined]
    return traced_handler  # type: ignore[return-value]


def _wrap_coroutine_function(fn: F, instrumentation: HandlerInstrumentation) -> F:
    @functools.wraps(fn)
    async def traced_handler(event: Any, context: Any) -> Any:
        invocation = _start_quietly(instrumentation, event, context)
        if invocation is NESTED:
            return await fn(event, context)
        try:
            result = await fn(event, context)
        except BaseException as error:
            _finish_quietly(instrumentation, invocation, error)
            raise
        _finish_quietly(instrumentation, invocation, None)
        return result

    traced_handler.__otel_lambda_init__ = True  # type: ignore[attr-defined]
    return traced_handler  # type: ignore[return-value]


def _start_quietly(
    instrumentation: HandlerInstrumentation, event: Any, context: Any
) -> _Invocation | NestedCall | None:
    try:
        return instrumentation.start(event, context)
    except Exception:
        report_once("invocation-start", "could not start the invocation span")
        return None


def _finish_quietly(
    instrumentation: HandlerInstrumentation,
    invocation: _Invocation | None,
    error: BaseException | None,
) -> None:
    try:
        instrumentation.finish(invocation, error)
    except Exception:
        report_once("invocation-finish", "could not end or flush the invocation span")

"""Our handler wrapper: one invocation span per call, the init span on the first.

Everything the wrapper does around the user's handler is guarded: a failure in here is
logged once and the handler still runs exactly once and returns (or raises) unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, TracerProvider

from .._core import vocabulary as v
from .._core.claims import InvocationClaims
from .._core.config import Config
from .._core.environment import SandboxEnvironment
from .._core.report import report_once
from .._core.timeline import SandboxTimeline
from .emitter import InitSpanEmitter, record_error
from .invocation import invocation_attributes, parent_context_of, trigger_of

F = TypeVar("F", bound=Callable[..., Any])


class InvocationHost(Protocol):
    """What the wrapper needs of the sandbox's owner (handed in, never looked up)."""

    @property
    def config(self) -> Config: ...
    @property
    def env(self) -> SandboxEnvironment: ...
    @property
    def timeline(self) -> SandboxTimeline: ...
    @property
    def claims(self) -> InvocationClaims: ...
    @property
    def emitter(self) -> InitSpanEmitter: ...
    def provider(self) -> TracerProvider: ...
    def end_init(self, end_ns: int, source: v.EndSource) -> None: ...
    def invocation_finished(self, request_id: str | None, provider: TracerProvider) -> None: ...


class _Invocation:
    """What the wrapper keeps between the start and the end of one call."""

    __slots__ = ("span", "token", "provider", "has_root")

    def __init__(self, span: Span, token: object, provider: TracerProvider, has_root: bool):
        self.span = span
        self.token = token
        self.provider = provider
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

    def start(self, event: Any, context: Any) -> _Invocation | None:
        host = self.host
        current = trace.get_current_span().get_span_context()
        if host.claims.decorated(current.span_id) is not None:
            return None  # an outer instrumentor's invocation span, already decorated by us
        start_ns = time.time_ns()
        number = host.timeline.begin_invocation()
        provider = host.provider()
        parent = parent_context_of(event)
        trigger, kind = trigger_of(event)
        env = host.env
        attrs = invocation_attributes(context, trigger, env.function_name, env.log_stream_name)
        attrs.update(host.timeline.invocation_attributes(number))
        attrs.update(self._attributes)
        tracer = self.tracer(provider)
        root = None
        span_parent = parent
        if number == 1:
            host.end_init(self._ready_ns, v.END_HANDLER_IMPORT)  # no-op if INIT end was seen
            # A root covering INIT and this invocation, when the init span joins this trace.
            root = host.emitter.open_root(tracer, parent, start_ns)
            if root is not None:
                span_parent = trace.set_span_in_context(root, context_api.Context())
        span = tracer.start_span(
            env.function_name, context=span_parent, kind=kind, start_time=start_ns, attributes=attrs
        )
        if number == 1:
            span.set_attributes(host.emitter.on_first_invocation(span, parent, start_ns))
        token = context_api.attach(trace.set_span_in_context(span, parent))
        return _Invocation(span, token, provider, root is not None)

    def finish(
        self, invocation: _Invocation | None, context: Any, error: BaseException | None
    ) -> None:
        """End the span, then hand it to delivery; delivery always hears that the handler
        finished, even when the span could not be created."""
        provider = None
        try:
            if invocation is not None:
                provider = invocation.provider
                if error is not None:
                    record_error(invocation.span, error)
                invocation.span.end()
                if invocation.has_root:
                    end_ns = getattr(invocation.span, "end_time", None)
                    self.host.emitter.close_root(
                        end_ns if isinstance(end_ns, int) else time.time_ns()
                    )
                with contextlib.suppress(Exception):  # handler switched contexts: nothing to undo
                    context_api.detach(invocation.token)  # type: ignore[arg-type]
        finally:
            request_id = getattr(context, "aws_request_id", None)
            self.host.invocation_finished(
                request_id if isinstance(request_id, str) else None,
                provider if provider is not None else self.host.provider(),
            )


def wrap_handler(fn: F, instrumentation: HandlerInstrumentation) -> F:
    """``fn`` traced by ``instrumentation``; runs exactly once per call, result unchanged."""

    @functools.wraps(fn)
    def traced_handler(event: Any, context: Any) -> Any:
        invocation = None
        try:
            invocation = instrumentation.start(event, context)
        except Exception:
            report_once("invocation-start", "could not start the invocation span")
        try:
            result = fn(event, context)
        except BaseException as error:
            _finish_quietly(instrumentation, invocation, context, error)
            raise
        _finish_quietly(instrumentation, invocation, context, None)
        return result

    traced_handler.__otel_lambda_init__ = True  # type: ignore[attr-defined]
    return traced_handler  # type: ignore[return-value]


def _finish_quietly(
    instrumentation: HandlerInstrumentation,
    invocation: _Invocation | None,
    context: Any,
    error: BaseException | None,
) -> None:
    try:
        instrumentation.finish(invocation, context, error)
    except Exception:
        report_once("invocation-finish", "could not end or flush the invocation span")

"""Our handler wrapper: one invocation span per call, the init span on the first.

Everything the wrapper does around the user's handler is guarded: a failure in here is
logged once and the handler still runs exactly once and returns (or raises) unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from . import _claims
from ._safety import report_once
from .flush import flusher
from .spans import TRACER_NAME, TRACER_VERSION, record_handler_error
from .state import SandboxState, sandbox_state

F = TypeVar("F", bound=Callable[..., Any])

_PUBSUB_SOURCES = {"aws:sqs", "aws:sns", "aws:kinesis"}
_DATASOURCE_SOURCES = {"aws:dynamodb", "aws:s3"}


def trigger_of(event: Any) -> tuple[str, SpanKind]:
    """Semantic-convention ``faas.trigger`` and span kind guessed from the event's shape."""
    if not isinstance(event, Mapping):
        return "other", SpanKind.SERVER
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], Mapping):
        source = records[0].get("eventSource") or records[0].get("EventSource")
        if source in _PUBSUB_SOURCES:
            return "pubsub", SpanKind.CONSUMER
        if source in _DATASOURCE_SOURCES:
            return "datasource", SpanKind.CONSUMER
    if "requestContext" in event or "httpMethod" in event or "routeKey" in event:
        return "http", SpanKind.SERVER
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return "timer", SpanKind.SERVER
    return "other", SpanKind.SERVER


class _LowerCaseGetter:
    """Reads propagation headers case-insensitively (API Gateway keeps the client's case)."""

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier.keys())


_getter = _LowerCaseGetter()


def parent_context_of(event: Any) -> context_api.Context | None:
    """The caller's context: HTTP headers in the event first, then Lambda's X-Ray header.

    Both go through the global propagator, so ``_X_AMZN_TRACE_ID`` is only used when the
    user configured an X-Ray propagator (``OTEL_PROPAGATORS=xray`` or similar).
    """
    from opentelemetry import propagate

    headers = event.get("headers") if isinstance(event, Mapping) else None
    if isinstance(headers, Mapping) and headers:
        carrier = {str(k).lower(): v for k, v in headers.items() if isinstance(v, str)}
        ctx = propagate.extract(carrier, getter=_getter)  # type: ignore[arg-type]
        if trace.get_current_span(ctx).get_span_context().is_valid:
            return ctx
    xray = os.environ.get("_X_AMZN_TRACE_ID")
    if xray and _reads_xray(propagate.get_global_textmap()):
        ctx = propagate.extract({"x-amzn-trace-id": xray}, getter=_getter)  # type: ignore[arg-type]
        if trace.get_current_span(ctx).get_span_context().is_valid:
            return ctx
    return None


_xray_readers: dict[int, bool] = {}


def _reads_xray(propagator: Any) -> bool:
    """Whether the global propagator reads the X-Ray header (asked once per propagator)."""
    key = id(propagator)
    known = _xray_readers.get(key)
    if known is None:
        try:
            known = "x-amzn-trace-id" in {f.lower() for f in propagator.fields}
        except Exception:
            known = True  # a propagator that cannot say: let it try
        _xray_readers.clear()  # only the current global propagator matters
        _xray_readers[key] = known
    return known


@functools.lru_cache(maxsize=8)
def _arn_attributes(arn: str) -> tuple[tuple[str, str], ...]:
    """``cloud.*`` attributes of an invoked ARN; the same ARN arrives on every invocation."""
    attrs = [("aws.lambda.invoked_arn", arn[:256])]
    parts = arn.split(":")
    if len(parts) >= 7:
        attrs.append(("cloud.resource_id", ":".join(parts[:7])[:256]))
        attrs.append(("cloud.account.id", parts[4][:256]))
    return tuple(attrs)


def invocation_attributes(context: Any, trigger: str, state: SandboxState) -> dict[str, Any]:
    """Span attributes from the Lambda context object: identifiers only, never payloads."""
    attrs: dict[str, Any] = {"faas.trigger": trigger, "faas.name": state.env.function_name}
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str):
        attrs["faas.invocation_id"] = request_id[:256]
    arn = getattr(context, "invoked_function_arn", None)
    if isinstance(arn, str) and arn:
        attrs.update(_arn_attributes(arn))
    if state.env.log_stream_name:
        attrs["faas.instance"] = state.env.log_stream_name[:256]
    return attrs


class _Invocation:
    """What the wrapper keeps between the start and the end of one call."""

    __slots__ = ("span", "token", "provider")

    def __init__(self, span: Span, token: object, provider: Any):
        self.span = span
        self.token = token
        self.provider = provider


class HandlerInstrumentation:
    """The state behind one decorated handler; the decorator is a thin shell around it."""

    def __init__(
        self,
        state: SandboxState,
        tracer_provider: Any = None,
        attributes: Mapping[str, Any] | None = None,
    ):
        self.state = state
        self._provider = tracer_provider
        self._attributes = dict(attributes or {})
        self._tracer: trace.Tracer | None = None
        self._tracer_of: Any = None
        # Fallback INIT end when the runtime's next call cannot be observed: the handler was
        # decorated while its module was being imported.
        self._ready_ns = time.time_ns()

    def provider(self) -> Any:
        return self._provider if self._provider is not None else trace.get_tracer_provider()

    def tracer(self, provider: Any) -> trace.Tracer:
        if self._tracer is None or self._tracer_of is not provider:
            self._tracer = provider.get_tracer(TRACER_NAME, TRACER_VERSION)
            self._tracer_of = provider
        return self._tracer

    def start(self, event: Any, context: Any) -> _Invocation | None:
        if _claims.decorated_current_span() is not None:
            return None  # an outer instrumentor's invocation span, already decorated by us
        start_ns = time.time_ns()
        state = self.state
        number = state.timeline.begin_invocation()
        provider = self.provider()
        parent = parent_context_of(event)
        trigger, kind = trigger_of(event)
        attrs = invocation_attributes(context, trigger, state)
        attrs.update(state.timeline.invocation_attributes(number))
        attrs.update(self._attributes)
        span = self.tracer(provider).start_span(
            state.env.function_name,
            context=parent,
            kind=kind,
            start_time=start_ns,
            attributes=attrs,
        )
        if number == 1:
            state.timeline.mark_init_end(self._ready_ns, "handler-import")  # no-op if seen
            first = state.emitter.on_first_invocation(provider, span, parent, start_ns)
            span.set_attributes(first)
        token = context_api.attach(trace.set_span_in_context(span, parent))
        return _Invocation(span, token, provider)

    def finish(
        self, invocation: _Invocation | None, context: Any, error: BaseException | None
    ) -> None:
        """End the span, then hand it to the flush mode; the extension is always told the
        handler finished, even when the span could not be created."""
        provider = self.provider()
        try:
            if invocation is not None:
                provider = invocation.provider
                if error is not None:
                    record_handler_error(invocation.span, error)
                invocation.span.end()
                with contextlib.suppress(Exception):  # handler switched contexts: nothing to undo
                    context_api.detach(invocation.token)  # type: ignore[arg-type]
        finally:
            flush = self.state.config.flush
            extension = None
            if flush == "after-response":
                from .extension import active_extension

                extension = active_extension()
            request_id = getattr(context, "aws_request_id", None)
            if extension is not None and isinstance(request_id, str):
                extension.handler_finished(request_id, provider)
            elif flush != "none":
                flusher.flush(provider, self.state.config.flush_timeout_ms / 1000.0)


@overload
def instrument_handler(handler: F) -> F: ...


@overload
def instrument_handler(
    handler: None = None,
    *,
    tracer_provider: Any = None,
    flush: str | None = None,
    trace_mode: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Callable[[F], F]: ...


def instrument_handler(
    handler: F | None = None,
    *,
    tracer_provider: Any = None,
    flush: str | None = None,
    trace_mode: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> F | Callable[[F], F]:
    """Trace a Lambda handler: an invocation span per call, and the sandbox's INIT as a span
    linked to the first one. Keyword arguments win over ``OTEL_LAMBDA_INIT_*`` variables."""

    def decorate(fn: F) -> F:
        try:
            state = sandbox_state()
            state.apply_overrides(flush=flush, trace_mode=trace_mode)
            if state.config.disabled:
                return fn
            instrumentation = HandlerInstrumentation(state, tracer_provider, attributes)
            state.get_provider = instrumentation.provider
            state.emitter.open_during_init(instrumentation.provider)
            state.start_delivery()
        except Exception as error:
            if isinstance(error, ValueError) and (flush or trace_mode):
                raise  # a bad keyword is the caller's bug, said at decoration time
            report_once("setup", "setup failed; the handler runs uninstrumented")
            return fn
        return _wrap(fn, instrumentation)

    if handler is not None:
        return decorate(handler)
    return decorate


def _wrap(fn: F, instrumentation: HandlerInstrumentation) -> F:
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

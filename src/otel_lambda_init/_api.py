"""The public decorator, ``instrument_handler``.

Loaded on first use (``otel_lambda_init.__getattr__``), never at package import. It needs
the OpenTelemetry API only: the SDK is imported by whoever configures one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from opentelemetry.trace import TracerProvider

from ._core.report import report_once
from ._core.vocabulary import FlushMode, TraceMode
from ._owner import sandbox
from ._sdk.handler import HandlerInstrumentation, wrap_handler

__all__ = ["instrument_handler"]

F = TypeVar("F", bound=Callable[..., Any])


@overload
def instrument_handler(handler: F) -> F: ...


@overload
def instrument_handler(
    handler: None = None,
    *,
    tracer_provider: TracerProvider | None = None,
    flush: FlushMode | None = None,
    trace_mode: TraceMode | None = None,
    attributes: Mapping[str, Any] | None = None,
    init_span_outside_lambda: bool | None = None,
) -> Callable[[F], F]: ...


def instrument_handler(
    handler: F | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
    flush: FlushMode | None = None,
    trace_mode: TraceMode | None = None,
    attributes: Mapping[str, Any] | None = None,
    init_span_outside_lambda: bool | None = None,
) -> F | Callable[[F], F]:
    """Trace a Lambda handler: an invocation span per call, and the sandbox's INIT as a span
    linked to the first one. Keyword arguments win over ``OTEL_LAMBDA_INIT_*`` variables;
    ``init_span_outside_lambda=True`` emits the init span in a process that is not a Lambda
    runtime too (a test that asserts it)."""

    def decorate(fn: F) -> F:
        try:
            owner = sandbox()
            owner.apply_overrides(
                flush=flush,
                trace_mode=trace_mode,
                init_span_outside_lambda=init_span_outside_lambda,
            )
            if owner.config.disabled:
                return fn
            owner.use_provider(tracer_provider)
            instrumentation = HandlerInstrumentation(owner, attributes)
            if owner.init_in_progress:
                owner.emitter.open_during_init()
            owner.start_delivery()
        except Exception as error:
            if isinstance(error, ValueError) and (flush or trace_mode):
                raise  # a bad keyword is the caller's bug, said at decoration time
            report_once("setup", "setup failed; the handler runs uninstrumented")
            return fn
        return wrap_handler(fn, instrumentation)

    if handler is not None:
        return decorate(handler)
    return decorate

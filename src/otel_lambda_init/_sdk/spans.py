"""Small span helpers of the SDK adapters: the init span's name and tracer, and what an
exception, an INIT error or a platform timeout leaves on a span."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, TracerProvider

from .._compat import tracer_with_sampler
from .._core import vocabulary as v
from .._core.report import report_once


def init_tracer(provider: TracerProvider, record_unsampled: bool) -> trace.Tracer:
    """The tracer for init spans. A provider built with ``InitSpanSampler`` (the wrapper
    route does) records init spans already; for an SDK provider the user built with another
    sampler, our tracer gets ``InitSpanSampler`` around it (``_compat.tracer_with_sampler``).
    Only a tracer that has a sampler (the SDK is loaded) makes us import the sampler module."""
    tracer = provider.get_tracer(v.TRACER_NAME, v.VERSION)
    sampler = getattr(tracer, "sampler", None)
    if not record_unsampled or sampler is None:
        return tracer
    from .sampler import InitSpanSampler

    if isinstance(sampler, InitSpanSampler):
        return tracer
    copied: trace.Tracer | None = tracer_with_sampler(tracer, InitSpanSampler)
    return copied if copied is not None else tracer


def record_error(
    span: Span, error: BaseException, timestamp: int | None = None, with_message: bool = True
) -> None:
    """Record an exception on a span without changing the exception; every string bounded
    (see ``_core.exceptions``), the message left out unless ``with_message``. Never raises."""
    try:
        import traceback  # error path only: neither is paid for by a call that succeeds

        from .._core.exceptions import exception_attributes, message_of, status_description

        type_name = type(error).__name__
        message = message_of(error) if with_message else None
        frames = "".join(traceback.format_tb(error.__traceback__))
        span.add_event(
            "exception", exception_attributes(type_name, message, frames), timestamp=timestamp
        )
        span.set_status(Status(StatusCode.ERROR, status_description(type_name, message)))
    except Exception:
        report_once("record-error", "could not record an exception on a span")


def end_timed_out(span: Span, end_ns: int) -> None:
    """End an invocation span the platform stopped (SIGTERM after the function timeout):
    ERROR with ``error.type=timeout``, so no exported span points at a parent never ended."""
    span.set_attribute(v.ERROR_TYPE, "timeout")
    span.set_status(Status(StatusCode.ERROR, "the invocation did not finish before its deadline"))
    span.end(end_time=end_ns)


def record_runtime_error(
    span: Span, error: Mapping[str, Any], timestamp: int, with_message: bool = True
) -> None:
    """The runtime's view of an INIT error (its JSON: type, message, stack) on the span."""
    from .._core.exceptions import exception_attributes, status_description

    error_type = str(error.get("errorType") or "Runtime.Unknown")
    message = str(error.get("errorMessage") or "") if with_message else None
    stack = error.get("stackTrace")
    stacktrace = "".join(map(str, stack)) if isinstance(stack, list) else str(stack or "")
    span.add_event(
        "exception", exception_attributes(error_type, message, stacktrace), timestamp=timestamp
    )
    span.set_status(Status(StatusCode.ERROR, status_description(error_type, message)))


def id_attributes(ctx: trace.SpanContext, trace_key: str, span_key: str) -> dict[str, str]:
    """A span's ids as attributes: found by attribute search where links are dropped."""
    return {
        trace_key: trace.format_trace_id(ctx.trace_id),
        span_key: trace.format_span_id(ctx.span_id),
    }


def detach_quietly(token: object | None) -> None:
    if token is not None:
        with contextlib.suppress(Exception):  # INIT ended in another context
            context_api.detach(token)  # type: ignore[arg-type]

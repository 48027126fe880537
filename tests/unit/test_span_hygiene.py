"""Span hygiene (issue 13, item 9): exception events are bounded and never repeat the message
in the stack, a hostile ``__str__`` leaves nothing open, async handlers stay async."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace

import pytest
from in_process import provider_for
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init import init_phase, instrument_handler
from otel_lambda_init._owner import reset_sandbox_for_tests

CONTEXT = SimpleNamespace(aws_request_id="req-1", invoked_function_arn="arn:aws:lambda:r:1:f:fn")
SECRET = "hunter2-the-password"
MAX_MESSAGE, MAX_STACKTRACE = 256, 4096  # what the README promises

pytestmark = pytest.mark.usefixtures("own_once_reports")


def _deep(n: int) -> None:
    if n == 0:
        padding = "x" * 20_000
        raise ValueError(f"{padding} field 'password' rejected: {SECRET!r}")
    _deep(n - 1)


def test_a_huge_exception_is_cut_and_its_message_is_not_repeated_in_the_stack(
    exporter: InMemorySpanExporter,
) -> None:
    @instrument_handler(tracer_provider=provider_for(exporter))
    def handler(event: dict, context: object) -> None:
        _deep(300)  # a 20 KB message and a stack of hundreds of frames

    with pytest.raises(ValueError) as raised:
        handler({}, CONTEXT)
    assert SECRET in str(raised.value)  # the user's exception is unchanged
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "fn"]
    (event,) = [e for e in span.events if e.name == "exception"]
    message = event.attributes["exception.message"]
    stack = event.attributes["exception.stacktrace"]
    assert len(message) <= MAX_MESSAGE and len(stack) <= MAX_STACKTRACE
    assert SECRET not in message and SECRET not in stack
    assert "_deep" in stack and "raise ValueError" in stack  # the innermost frames are kept
    assert len(span.status.description or "") <= MAX_MESSAGE


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


def test_an_exception_whose_str_raises_ends_the_span_and_restores_the_context(
    exporter: InMemorySpanExporter,
) -> None:
    @instrument_handler(tracer_provider=provider_for(exporter))
    def handler(event: dict, context: object) -> str:
        if event.get("raise"):
            raise _Unprintable()
        return "ok"

    with pytest.raises(_Unprintable):
        handler({"raise": True}, CONTEXT)
    assert not trace.get_current_span().get_span_context().is_valid  # context detached
    assert handler({}, CONTEXT) == "ok"
    first, second = [s for s in exporter.get_finished_spans() if s.name == "fn"]
    assert first.status.status_code == trace.StatusCode.ERROR
    assert second.parent is None  # not a child of the failed invocation
    assert first.context.trace_id != second.context.trace_id


def test_an_init_phase_whose_exception_str_raises_still_closes_the_phase(
    exporter: InMemorySpanExporter,
) -> None:
    reset_sandbox_for_tests().use_provider(provider_for(exporter))
    with pytest.raises(_Unprintable), init_phase("load model"):
        raise _Unprintable()
    assert not trace.get_current_span().get_span_context().is_valid
    (phase,) = exporter.get_finished_spans()  # ended, with the error on it
    assert phase.name == "load model" and phase.status.status_code == trace.StatusCode.ERROR


def test_an_async_handler_stays_a_coroutine_function_and_its_span_covers_the_await(
    exporter: InMemorySpanExporter,
) -> None:
    @instrument_handler(tracer_provider=provider_for(exporter))
    async def handler(event: dict, context: object) -> str:
        await asyncio.sleep(0.2)
        return "done"

    assert inspect.iscoroutinefunction(handler)
    assert asyncio.run(handler({}, CONTEXT)) == "done"
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "fn"]
    assert span.end_time is not None and span.start_time is not None
    assert span.end_time - span.start_time >= 200_000_000

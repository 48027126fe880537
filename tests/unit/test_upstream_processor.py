"""The SpanProcessor beside other instrumentors, in process: what it takes, what it leaves,
and that its own failures never reach the code starting a span."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from otel_lambda_init import InitSpanProcessor, ensure_processor
from otel_lambda_init._owner import reset_sandbox_for_tests
from otel_lambda_init._sdk import processor as processor_module


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimpleNamespace]:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "unit-fn")
    monkeypatch.setenv("OTEL_LAMBDA_INIT_FLUSH", "none")
    monkeypatch.setenv("OTEL_LAMBDA_INIT_SPAN_OUTSIDE_LAMBDA", "true")  # a unit test: opt in
    reset_sandbox_for_tests()
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    added = ensure_processor(provider)
    yield SimpleNamespace(provider=provider, exporter=exporter, processor=added)
    reset_sandbox_for_tests()


def test_processor_is_added_once_per_provider(setup: SimpleNamespace) -> None:
    assert isinstance(setup.processor, InitSpanProcessor)
    assert ensure_processor(setup.provider) is None
    assert ensure_processor(trace.NoOpTracerProvider()) is None


def test_server_span_with_invocation_id_gets_init_span_link_and_counter(
    setup: SimpleNamespace,
) -> None:
    tracer = setup.provider.get_tracer("some.instrumentor")
    for request in ("r1", "r2"):
        with (
            tracer.start_as_current_span(
                "unit-fn", kind=SpanKind.SERVER, attributes={"faas.invocation_id": request}
            ),
            tracer.start_as_current_span("child", kind=SpanKind.SERVER),
        ):
            pass
    spans = {
        (s.name, s.attributes.get("faas.invocation_id")): s
        for s in setup.exporter.get_finished_spans()
    }
    init = spans[("init unit-fn", None)]
    first, second = spans[("unit-fn", "r1")], spans[("unit-fn", "r2")]
    assert [link.context.span_id for link in first.links] == [init.context.span_id]
    assert first.attributes["lambda_init.sandbox_invocation"] == 1
    assert second.attributes["lambda_init.sandbox_invocation"] == 2
    assert second.attributes["faas.coldstart"] is False
    children = [s for s in setup.exporter.get_finished_spans() if s.name == "child"]
    assert all("lambda_init.sandbox_invocation" not in c.attributes for c in children)
    assert len([s for s in setup.exporter.get_finished_spans() if s.name.startswith("init ")]) == 1


def test_internal_and_unmarked_spans_are_left_alone(setup: SimpleNamespace) -> None:
    tracer = setup.provider.get_tracer("some.instrumentor")
    with tracer.start_as_current_span(
        "job", kind=SpanKind.INTERNAL, attributes={"faas.trigger": "x"}
    ):
        pass
    with tracer.start_as_current_span("http", kind=SpanKind.SERVER):
        pass  # no faas.* and no runtime window: not an invocation span
    names = [s.name for s in setup.exporter.get_finished_spans()]
    assert names == ["job", "http"]


def test_a_bug_in_the_processor_never_reaches_the_code_starting_the_span(
    setup: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("processor bug")

    monkeypatch.setattr(type(setup.processor._host.timeline), "begin_invocation", broken)
    tracer = setup.provider.get_tracer("some.instrumentor")
    with tracer.start_as_current_span(
        "unit-fn", kind=SpanKind.SERVER, attributes={"faas.invocation_id": "r1"}
    ):
        pass  # would raise here if on_start let the error through
    assert [s.name for s in setup.exporter.get_finished_spans()] == ["unit-fn"]


def test_span_started_inside_on_start_is_not_decorated_again(setup: SimpleNamespace) -> None:
    seen: list[str] = []
    original = processor_module.InvocationSpanDecorator._on_start

    def spy(self, span, parent_context):  # type: ignore[no-untyped-def]
        seen.append(span.name)
        return original(self, span, parent_context)

    processor_module.InvocationSpanDecorator._on_start = spy  # type: ignore[method-assign]
    try:
        tracer = setup.provider.get_tracer("some.instrumentor")
        with tracer.start_as_current_span(
            "unit-fn", kind=SpanKind.SERVER, attributes={"faas.invocation_id": "r1"}
        ):
            pass
    finally:
        processor_module.InvocationSpanDecorator._on_start = original  # type: ignore[method-assign]
    assert seen == ["unit-fn"]  # the init span started inside on_start was not re-entered

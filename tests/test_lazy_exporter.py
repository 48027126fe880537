"""LazySpanExporter: nothing built before the first export, then the real exporter does the
work; shutdown and flush never build it; a failing build is contained."""

from __future__ import annotations

import sys

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init._sdk.lazy_exporter import LazySpanExporter, otlp_exporter_factory
from otel_lambda_sim.receiver import OtlpReceiver


def test_the_real_exporter_is_built_at_the_first_export_not_before() -> None:
    built: list[InMemorySpanExporter] = []

    def factory() -> InMemorySpanExporter:
        built.append(InMemorySpanExporter())
        return built[-1]

    lazy = LazySpanExporter(factory)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(lazy))
    provider.get_tracer("t").start_span("one").end()
    assert built == [] and not lazy.built
    assert provider.force_flush()
    assert [s.name for s in built[0].get_finished_spans()] == ["one"]
    provider.get_tracer("t").start_span("two").end()
    provider.force_flush()
    assert len(built) == 1
    assert [s.name for s in built[0].get_finished_spans()] == ["one", "two"]


def test_shutdown_and_flush_before_any_export_build_nothing() -> None:
    lazy = LazySpanExporter(lambda: (_ for _ in ()).throw(AssertionError("built")))
    assert lazy.force_flush() is True
    lazy.shutdown()
    assert not lazy.built
    assert lazy.export([]) is SpanExportResult.FAILURE


def test_shutdown_reaches_the_real_exporter_and_stops_exports() -> None:
    real = InMemorySpanExporter()
    lazy = LazySpanExporter(lambda: real)
    assert lazy.export([]) is SpanExportResult.SUCCESS
    lazy.shutdown()
    assert real._stopped  # the SDK's in-memory exporter marks itself stopped
    assert lazy.export([]) is SpanExportResult.FAILURE


def test_a_failing_build_drops_spans_without_raising_and_is_not_retried() -> None:
    calls = []

    def factory() -> InMemorySpanExporter:
        calls.append(1)
        raise ImportError("no exporter installed")

    lazy = LazySpanExporter(factory)
    assert lazy.export([]) is SpanExportResult.FAILURE
    assert lazy.export([]) is SpanExportResult.FAILURE
    assert calls == [1]


def test_default_factory_sends_otlp_http_protobuf_to_the_configured_endpoint(monkeypatch) -> None:
    with OtlpReceiver() as receiver:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_PROTOCOL", raising=False)
        monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", raising=False)
        sys.modules.pop("opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
        lazy = LazySpanExporter(otlp_exporter_factory())
        assert "opentelemetry.exporter.otlp.proto.http.trace_exporter" not in sys.modules
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(lazy))
        provider.get_tracer("t").start_span("over-the-wire").end()
        provider.force_flush()
        spans = receiver.wait_for(lambda s: any(x.name == "over-the-wire" for x in s), 10)
        provider.shutdown()
    assert [s.name for s in spans] == ["over-the-wire"]


def test_an_unknown_protocol_falls_back_to_http_protobuf(monkeypatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")
    exporter = otlp_exporter_factory()()
    assert type(exporter).__module__ == "opentelemetry.exporter.otlp.proto.http.trace_exporter"
    exporter.shutdown()

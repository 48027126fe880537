"""LazySpanExporter: nothing built before the first export, then the real exporter does the
work; shutdown and flush never build it; a failing build is contained."""

from __future__ import annotations

import sys

import pytest
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


def test_a_loopback_collector_is_reached_without_reading_proxy_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A proxy variable nobody meant for localhost: the environment is not consulted for the
    # collector on this machine (and not scanned on every export), so the export goes direct.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with OtlpReceiver() as receiver:
        lazy = LazySpanExporter(
            otlp_exporter_factory("http/protobuf", endpoint=receiver.endpoint + "/v1/traces")
        )
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(lazy))
        provider.get_tracer("t").start_span("direct").end()
        assert provider.force_flush()
        spans = receiver.wait_for(lambda s: bool(s), timeout=10)
    assert [s.name for s in spans] == ["direct"]


@pytest.mark.parametrize(
    ("endpoint", "own_session"),
    [
        ("http://localhost:4318/v1/traces", True),
        ("http://127.0.0.1:4318", True),
        ("https://localhost:4318", False),  # TLS: CA settings from the environment may matter
        ("http://collector.internal:4318", False),
        ("not a url", False),
    ],
)
def test_only_plain_http_loopback_endpoints_get_the_environment_free_session(
    endpoint: str, own_session: bool
) -> None:
    from otel_lambda_init._sdk.lazy_exporter import _loopback_session

    session = _loopback_session(endpoint)
    assert (session is not None) == own_session
    if session is not None:
        assert session.trust_env is False


def test_a_loopback_collector_is_reached_without_importing_requests() -> None:
    """The exporter's urllib3 transport: gzip and the OTEL_EXPORTER_OTLP_HEADERS header
    still arrive, and ``requests`` is never imported for the export."""
    import os
    import subprocess
    import textwrap

    pytest.importorskip("opentelemetry.exporter.http.transport")
    with OtlpReceiver() as receiver:
        code = """
            import sys
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import SimpleSpanProcessor
            from otel_lambda_init._sdk.lazy_exporter import LazySpanExporter
            provider = TracerProvider()
            provider.add_span_processor(SimpleSpanProcessor(LazySpanExporter()))
            provider.get_tracer("t").start_span("over urllib3").end()
            print("requests imported:", "requests" in sys.modules)
        """
        env = {
            **os.environ,
            "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
            "OTEL_EXPORTER_OTLP_COMPRESSION": "gzip",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-team=orders",
        }
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        spans = receiver.wait_for(lambda s: bool(s), timeout=10)
        (request,) = receiver.requests
    assert "requests imported: False" in done.stdout
    assert [s.name for s in spans] == ["over urllib3"]
    assert request.headers.get("content-encoding") == "gzip"
    assert request.headers.get("x-team") == "orders"


def test_over_the_urllib3_transport_a_503_is_retried_after_its_retry_after() -> None:
    """The OTLP spec's retry: a retryable status is sent again after the server's
    Retry-After (the exporter's own client does it, whatever the transport)."""
    import threading
    import time

    from otel_lambda_sim.receiver import Behaviour

    pytest.importorskip("opentelemetry.exporter.http.transport")
    with OtlpReceiver(Behaviour(status=503, retry_after_s=1)) as receiver:
        lazy = LazySpanExporter(
            otlp_exporter_factory("http/protobuf", endpoint=receiver.endpoint + "/v1/traces")
        )

        def recover() -> None:  # answer 200 once the first attempt has been refused
            deadline = time.monotonic() + 10
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.01)
            receiver.behaviour = Behaviour()

        helper = threading.Thread(target=recover)
        helper.start()
        span = TracerProvider().get_tracer("t").start_span("retried")
        span.end()
        result = lazy.export([span])
        helper.join()
        statuses = [r.status for r in receiver.requests]
    assert result is SpanExportResult.SUCCESS
    assert statuses == [503, 200]

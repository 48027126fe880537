"""The SIGTERM sender of an unused deferred INIT (``_delivery/shutdown_export.py``) sends what
the OTLP/HTTP exporter sends: same spans (names, ids, attributes, resource), same settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_lambda_init._delivery.shutdown_export import shutdown_sender
from otel_lambda_sim.receiver import OtlpReceiver

_OTLP = [
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[OtlpReceiver]:
    for name in _OTLP:
        monkeypatch.delenv(name, raising=False)
    with OtlpReceiver() as r:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", r.endpoint)
        yield r


def _init_spans() -> list:  # type: ignore[type-arg]
    memory = InMemorySpanExporter()
    resource = Resource.create({"faas.name": "fn", "cloud.provider": "aws"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("otel_lambda_init")
    with (
        tracer.start_as_current_span("init fn", attributes={"lambda_init.unused": True}),
        tracer.start_as_current_span("import app", attributes={"n": 3}),
    ):
        pass
    return list(memory.get_finished_spans())


@pytest.mark.parametrize("compression", ["none", "gzip", "deflate"])
def test_the_sender_sends_what_the_exporter_sends(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-team=init%20spans,x-k=v")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", compression)
    spans = _init_spans()
    sender = shutdown_sender(2.0)
    assert sender is not None
    assert sender.export(spans) == SpanExportResult.SUCCESS
    ours = receiver.requests[-1]
    assert OTLPSpanExporter().export(spans) == SpanExportResult.SUCCESS
    theirs = receiver.requests[-1]
    received = receiver.spans()
    assert received[:2] == received[2:]  # names, ids, times, attributes, resource, scope
    assert ours.path == theirs.path == "/v1/traces"
    for name in ("x-team", "x-k", "content-type", "content-encoding"):
        assert ours.headers.get(name) == theirs.headers.get(name), name
    assert ours.headers["x-team"] == "init spans"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://127.0.0.1:4318/v1/traces"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector.example:4318/v1/traces"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", "/ca.pem"),
    ],
)
def test_anything_but_plain_http_on_loopback_is_left_to_the_exporter(
    receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    assert shutdown_sender(2.0) is None


def test_the_sender_gives_up_when_the_grace_is_spent(receiver: OtlpReceiver) -> None:
    sender = shutdown_sender(0.0)
    assert sender is not None
    assert sender.export(_init_spans()) == SpanExportResult.FAILURE
    assert receiver.requests == []


def test_a_collector_that_is_gone_is_said_once_and_the_export_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://127.0.0.1:9/v1/traces")
    sender = shutdown_sender(1.0)
    assert sender is not None
    assert sender.export(_init_spans()) == SpanExportResult.FAILURE

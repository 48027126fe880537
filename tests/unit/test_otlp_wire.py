"""The standard-library OTLP encoding of the shutdown exports (``_delivery/otlp_wire.py``)
is the OpenTelemetry exporter's, field by field as a receiver decodes it, for spans of every
kind, with events, links, trace state, statuses, dropped counts and every attribute type."""

from __future__ import annotations

from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from otel_lambda_init._delivery.otlp_wire import export_request
from otel_lambda_init._delivery.shutdown_export import wire_scopes


def _without_flags(value: Any) -> Any:
    """Span and link flags are new in the encoder (SDK 1.24 writes none); ours always has them."""
    if isinstance(value, dict):
        return {k: _without_flags(v) for k, v in value.items() if k != "flags"}
    if isinstance(value, list):
        return [_without_flags(v) for v in value]
    return value


def _decoded(body: bytes) -> Any:
    return _without_flags(MessageToDict(ExportTraceServiceRequest.FromString(body)))


def _spans() -> list[Any]:
    memory = InMemorySpanExporter()
    resource = Resource.create({"service.name": "orders", "faas.max_memory": 134217728})
    limits = SpanLimits(max_span_attributes=6, max_events=1, max_links=1)
    provider = TracerProvider(resource=resource, span_limits=limits)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    ours = provider.get_tracer("otel_lambda_init", "0.4.0")
    theirs = provider.get_tracer("app")  # no version
    remote = SpanContext(
        0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1),
        trace_state=trace.TraceState([("vendor", "x1"), ("b", "2")]),
    )  # fmt: skip
    with ours.start_as_current_span(
        "init orders",
        attributes={"s": "é", "b": True, "i": -7, "f": 0.25, "l": ["a", "b"], "raw": b"\x00\x01"},
    ) as init:
        init.set_attribute("over the limit", 1)
        init.add_event("phase", {"n": 1}, timestamp=1_790_000_000_000_000_123)
        init.add_event("dropped by the limit")
    with theirs.start_as_current_span(
        "GET /orders",
        context=trace.set_span_in_context(trace.NonRecordingSpan(remote)),
        kind=SpanKind.SERVER,
        links=[Link(remote, {"link": "init"}), Link(init.get_span_context())],
    ) as server:
        server.set_status(Status(StatusCode.ERROR, "boom"))
        with theirs.start_as_current_span("db", kind=SpanKind.CLIENT) as client:
            client.set_status(Status(StatusCode.OK))
    for kind in (SpanKind.PRODUCER, SpanKind.CONSUMER):
        ours.start_span(kind.name, kind=kind).end()
    return list(memory.get_finished_spans())


def test_the_wire_encoding_is_the_exporters() -> None:
    spans = _spans()
    expected = _decoded(encode_spans(spans).SerializeToString())
    assert _decoded(export_request(wire_scopes(spans))) == expected
    (resource_spans,) = expected["resourceSpans"]
    assert len(resource_spans["scopeSpans"]) == 2
    (server,) = [s for s in resource_spans["scopeSpans"][1]["spans"] if s["name"] == "GET /orders"]
    assert server["traceState"] and server["droppedLinksCount"] == 1  # what it covers


def test_an_unencodable_value_is_left_out_as_the_exporter_leaves_it_out() -> None:
    spans = _spans()
    spans[0]._attributes._dict["huge"] = 2**70  # past int64
    expected = _decoded(encode_spans(spans).SerializeToString())
    assert _decoded(export_request(wire_scopes(spans))) == expected

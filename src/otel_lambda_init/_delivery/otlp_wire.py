"""OTLP's ``ExportTraceServiceRequest`` in protobuf's wire format, for spans made of plain
data, with nothing but the standard library.

Only the shutdown export of an INIT nobody used needs it: on the deferred wrapper route the
SDK is not loaded then, and at 128 MB its import (and the proto packages') does not fit the
runtime's share of the shutdown grace (docs/safety.md). Everything else is encoded by the
OpenTelemetry exporter packages. Field numbers: opentelemetry-proto, ``trace/v1/trace.proto``,
``common/v1/common.proto``, ``resource/v1/resource.proto``.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing costs ms at import; this module is on the shutdown path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

SPAN_KIND_INTERNAL = 1
STATUS_CODE_ERROR = 2
SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100  # the parent's remoteness is known (it is not)

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class WireSpan:
    """One span as OTLP carries it: ids as bytes, times in ns since the epoch."""

    __slots__ = (
        "trace_id", "span_id", "parent_span_id", "name", "start_ns", "end_ns", "attributes",
        "error",
    )  # fmt: skip

    def __init__(
        self,
        trace_id: bytes,
        span_id: bytes,
        parent_span_id: bytes,
        name: str,
        start_ns: int,
        end_ns: int,
        attributes: Mapping[str, Any],
        error: str | None = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_span_id = parent_span_id
        self.name = name
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.attributes = attributes
        self.error = error  # the status description of a span that ended with ERROR


def _varint(value: int) -> bytes:
    value &= 0xFFFFFFFFFFFFFFFF  # negative int64s are ten bytes, as protobuf writes them
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _message(field: int, payload: bytes) -> bytes:
    return _key(field, _BYTES) + _varint(len(payload)) + payload


def _text(field: int, value: str) -> bytes:
    return _message(field, value.encode("utf-8", "replace"))


def _any_value(value: Any) -> bytes:
    """``AnyValue``: bool 2, int 3, double 4, array 5, string 1 (anything else as its str)."""
    if isinstance(value, bool):
        return _key(2, _VARINT) + _varint(int(value))
    if isinstance(value, int):
        return _key(3, _VARINT) + _varint(value)
    if isinstance(value, float):
        return _key(4, _FIXED64) + struct.pack("<d", value)
    if isinstance(value, (list, tuple)):
        return _message(5, b"".join(_message(1, _any_value(item)) for item in value))
    return _text(1, str(value))


def _attributes(field: int, attributes: Mapping[str, Any]) -> bytes:
    """Repeated ``KeyValue`` (key 1, value 2); None values are left out, as the SDK does."""
    return b"".join(
        _message(field, _text(1, key) + _message(2, _any_value(value)))
        for key, value in attributes.items()
        if value is not None
    )


def _span(span: WireSpan) -> bytes:
    out = _message(1, span.trace_id) + _message(2, span.span_id)
    if span.parent_span_id:
        out += _message(4, span.parent_span_id)
    out += _text(5, span.name) + _key(6, _VARINT) + _varint(SPAN_KIND_INTERNAL)
    out += _key(7, _FIXED64) + struct.pack("<Q", span.start_ns)
    out += _key(8, _FIXED64) + struct.pack("<Q", span.end_ns)
    out += _attributes(9, span.attributes)
    status = b""  # unset: an empty Status, as the SDK's encoder writes it
    if span.error is not None:
        status = _text(2, span.error) + _key(3, _VARINT) + _varint(STATUS_CODE_ERROR)
    out += _message(15, status)
    return out + _key(16, _FIXED32) + struct.pack("<I", SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE)


def export_request(
    resource: Mapping[str, Any], scope: tuple[str, str], spans: Sequence[WireSpan]
) -> bytes:
    """One ``ResourceSpans`` (resource 1, scope spans 2) of one ``ScopeSpans`` (scope 1 with
    name 1 and version 2, spans 2)."""
    name, version = scope
    scope_spans = _message(1, _text(1, name) + _text(2, version))
    scope_spans += b"".join(_message(2, _span(span)) for span in spans)
    resource_spans = _message(1, _attributes(1, resource)) + _message(2, scope_spans)
    return _message(1, resource_spans)

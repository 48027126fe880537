"""OTLP's ``ExportTraceServiceRequest`` in protobuf's wire format, with nothing but the
standard library.

Only the shutdown exports use it: inside the runtime's shutdown grace at a small function's
CPU share, importing the SDK or the OpenTelemetry proto packages (~20-45 ms of CPU, ~300-600
ms of wall time at 128 MB) loses the spans (docs/safety.md); everything else is encoded by
the OpenTelemetry exporter packages. A test compares both encodings field by field. Field
numbers: opentelemetry-proto, ``trace/v1/trace.proto``, ``common/v1/common.proto``,
``resource/v1/resource.proto``.
"""

from __future__ import annotations

import struct

TYPE_CHECKING = False  # typing costs ms at import; this module is on the shutdown path
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

SPAN_KIND_INTERNAL = 1
STATUS_CODE_ERROR = 2
SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100  # the parent's remoteness is known
SPAN_FLAGS_CONTEXT_IS_REMOTE = 0x200
_INT64 = (-(2**63), 2**63 - 1)

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


class WireEvent:
    """A span event: when, its name and attributes."""

    __slots__ = ("time_ns", "name", "attributes", "dropped")

    def __init__(
        self, time_ns: int, name: str, attributes: Mapping[str, Any], dropped: int = 0
    ) -> None:
        self.time_ns, self.name, self.attributes, self.dropped = time_ns, name, attributes, dropped


class WireLink:
    """A link to another span."""

    __slots__ = ("trace_id", "span_id", "attributes", "dropped", "flags")

    def __init__(
        self,
        trace_id: bytes,
        span_id: bytes,
        attributes: Mapping[str, Any],
        dropped: int = 0,
        flags: int = SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE,
    ) -> None:
        self.trace_id, self.span_id, self.attributes = trace_id, span_id, attributes
        self.dropped, self.flags = dropped, flags


class WireSpan:
    """One span as OTLP carries it: ids as bytes, times in ns since the epoch; ``status`` is
    (code, description): 0 unset, 1 ok, 2 error."""

    __slots__ = (
        "trace_id", "span_id", "parent_span_id", "name", "start_ns", "end_ns", "attributes",
        "status", "kind", "trace_state", "events", "links", "dropped", "flags",
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
        status: tuple[int, str | None] = (0, None),
        *,
        kind: int = SPAN_KIND_INTERNAL,
        trace_state: str = "",
        events: Sequence[WireEvent] = (),
        links: Sequence[WireLink] = (),
        dropped: tuple[int, int, int] = (0, 0, 0),  # attributes, events, links
        flags: int = SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE,
    ) -> None:
        self.trace_id, self.span_id, self.parent_span_id = trace_id, span_id, parent_span_id
        self.name, self.start_ns, self.end_ns = name, start_ns, end_ns
        self.attributes, self.status, self.kind = attributes, status, kind
        self.trace_state, self.events, self.links = trace_state, events, links
        self.dropped, self.flags = dropped, flags


class WireScope:
    """The spans of one instrumentation scope, under one Resource."""

    __slots__ = ("resource", "name", "version", "spans", "attributes", "schema_urls")

    def __init__(
        self,
        resource: Mapping[str, Any],
        name: str,
        version: str | None,
        spans: Sequence[WireSpan],
        attributes: Mapping[str, Any] | None = None,
        schema_urls: tuple[str, str] = ("", ""),  # the Resource's, the scope's
    ) -> None:
        self.resource, self.name, self.version, self.spans = resource, name, version, spans
        self.attributes, self.schema_urls = attributes, schema_urls


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


def _count(field: int, value: int) -> bytes:
    return _key(field, _VARINT) + _varint(value) if value else b""


def _fixed64(field: int, value: int) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<Q", value)


def _any_value(value: Any) -> bytes:
    """``AnyValue``: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7; what
    none of them is raises, and the attribute is left out (as the SDK's encoder does)."""
    if isinstance(value, bool):
        return _key(2, _VARINT) + _varint(int(value))
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise ValueError("not an int64")
        return _key(3, _VARINT) + _varint(value)
    if isinstance(value, float):
        return _key(4, _FIXED64) + struct.pack("<d", value)
    if isinstance(value, str):
        return _text(1, value)
    if isinstance(value, bytes):
        return _message(7, value)
    if isinstance(value, (list, tuple)):
        return _message(5, b"".join(_message(1, _any_value(item)) for item in value))
    if hasattr(value, "items"):
        return _message(6, _attributes(1, value))
    raise ValueError(f"{type(value).__name__} is not an attribute value")


def _attributes(field: int, attributes: Mapping[str, Any] | None) -> bytes:
    """Repeated ``KeyValue`` (key 1, value 2); None and unencodable values are left out."""
    out = []
    for key, value in (attributes or {}).items():
        if value is None:
            continue
        try:
            out.append(_message(field, _text(1, key) + _message(2, _any_value(value))))
        except (ValueError, RecursionError):
            continue
    return b"".join(out)


def _event(event: WireEvent) -> bytes:
    out = _fixed64(1, event.time_ns) + _text(2, event.name)
    return out + _attributes(3, event.attributes) + _count(4, event.dropped)


def _link(link: WireLink) -> bytes:
    out = _message(1, link.trace_id) + _message(2, link.span_id)
    out += _attributes(4, link.attributes) + _count(5, link.dropped)
    return out + _key(6, _FIXED32) + struct.pack("<I", link.flags)


def _span(span: WireSpan) -> bytes:
    out = _message(1, span.trace_id) + _message(2, span.span_id)
    if span.trace_state:
        out += _text(3, span.trace_state)
    if span.parent_span_id:
        out += _message(4, span.parent_span_id)
    out += _text(5, span.name) + _count(6, span.kind)
    out += _fixed64(7, span.start_ns) + _fixed64(8, span.end_ns)
    out += _attributes(9, span.attributes) + _count(10, span.dropped[0])
    out += b"".join(_message(11, _event(e)) for e in span.events) + _count(12, span.dropped[1])
    out += b"".join(_message(13, _link(k)) for k in span.links) + _count(14, span.dropped[2])
    code, description = span.status  # an empty Status when unset, as the SDK's encoder
    out += _message(15, (_text(2, description) if description else b"") + _count(3, code))
    return out + _key(16, _FIXED32) + struct.pack("<I", span.flags)


def export_request(scopes: Sequence[WireScope]) -> bytes:
    """``ResourceSpans`` (resource 1, scope spans 2, schema URL 3) per Resource, in the order
    first seen, each with its ``ScopeSpans`` (scope 1 with name 1 and version 2, spans 2)."""
    grouped: dict[int, tuple[WireScope, list[bytes]]] = {}
    for scope in scopes:
        encoded = _text(1, scope.name) if scope.name else b""
        encoded += (_text(2, scope.version) if scope.version else b"") + _attributes(
            3, scope.attributes
        )
        scope_spans = _message(1, encoded) + b"".join(_message(2, _span(s)) for s in scope.spans)
        if scope.schema_urls[1]:
            scope_spans += _text(3, scope.schema_urls[1])
        first, parts = grouped.setdefault(id(scope.resource), (scope, []))
        parts.append(_message(2, scope_spans))
    out = []
    for first, parts in grouped.values():
        resource_spans = _message(1, _attributes(1, first.resource)) + b"".join(parts)
        if first.schema_urls[0]:
            resource_spans += _text(3, first.schema_urls[0])
        out.append(_message(1, resource_spans))
    return b"".join(out)

"""Spans as the receiver decodes them from OTLP, and OTLP/JSON (hex ids) in both directions."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

__all__ = [
    "ReceivedEvent",
    "ReceivedLink",
    "ReceivedSpan",
    "decode_any_value",
    "request_to_otlp_json",
    "spans_from_request",
    "trace_request_from_otlp_json",
]

_KINDS = {0: "UNSPECIFIED", 1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}
# OTLP/JSON encodes these bytes fields as hex; protobuf's JSON mapping uses base64.
_ID_KEYS = ("traceId", "spanId", "parentSpanId")


@dataclass(frozen=True)
class ReceivedLink:
    trace_id: str
    span_id: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ReceivedEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any]


@dataclass(frozen=True)
class ReceivedSpan:
    """One decoded span, ids as lowercase hex, times in ns since the epoch."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    links: list[ReceivedLink]
    status_code: str
    status_message: str
    events: list[ReceivedEvent]
    resource: dict[str, Any]
    scope_name: str

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6


def decode_any_value(value: AnyValue) -> Any:
    """Turn an OTLP AnyValue into the Python value the SDK was given."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [decode_any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return _decode_attributes(value.kvlist_value.values)
    return getattr(value, which)


def _decode_attributes(kvs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    kv: KeyValue
    for kv in kvs:
        out[kv.key] = decode_any_value(kv.value)
    return out


def spans_from_request(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Flatten a trace export request into ReceivedSpans (resource and scope copied onto each)."""
    spans: list[ReceivedSpan] = []
    for rs in request.resource_spans:
        resource = _decode_attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_span_id=s.parent_span_id.hex() or None,
                        name=s.name,
                        kind=_KINDS.get(s.kind, str(s.kind)),
                        start_ns=s.start_time_unix_nano,
                        end_ns=s.end_time_unix_nano,
                        attributes=_decode_attributes(s.attributes),
                        links=[
                            ReceivedLink(
                                trace_id=link.trace_id.hex(),
                                span_id=link.span_id.hex(),
                                attributes=_decode_attributes(link.attributes),
                            )
                            for link in s.links
                        ],
                        status_code=_STATUS.get(s.status.code, str(s.status.code)),
                        status_message=s.status.message,
                        events=[
                            ReceivedEvent(
                                name=e.name,
                                time_ns=e.time_unix_nano,
                                attributes=_decode_attributes(e.attributes),
                            )
                            for e in s.events
                        ],
                        resource=resource,
                        scope_name=ss.scope.name,
                    )
                )
    return spans


def _convert_ids(node: Any, convert: Callable[[str], str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (convert(v) if k in _ID_KEYS and isinstance(v, str) else _convert_ids(v, convert))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_convert_ids(v, convert) for v in node]
    return node


def _b64_to_hex(v: str) -> str:
    return base64.b64decode(v).hex()


def _hex_to_b64(v: str) -> str:
    try:
        return base64.b64encode(bytes.fromhex(v)).decode()
    except ValueError:
        return v  # already base64 (some senders ignore the OTLP/JSON hex rule)


def request_to_otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """OTLP/JSON per the spec: camelCase keys, integer enums, hex trace and span ids."""
    as_dict = json_format.MessageToDict(request, use_integers_for_enums=True)
    converted: dict[str, Any] = _convert_ids(as_dict, _b64_to_hex)
    return converted


def trace_request_from_otlp_json(data: dict[str, Any] | str | bytes) -> ExportTraceServiceRequest:
    """Parse one OTLP/JSON trace request (hex ids) back into protobuf."""
    obj = json.loads(data) if isinstance(data, (str, bytes)) else data
    request = ExportTraceServiceRequest()
    json_format.ParseDict(_convert_ids(obj, _hex_to_b64), request, ignore_unknown_fields=True)
    return request

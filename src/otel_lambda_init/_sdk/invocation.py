"""What an invocation's event and context say, as span attributes, kind and parent.

Identifiers only: event bodies, headers and environment values are never recorded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from .._core import vocabulary as v

_PUBSUB_SOURCES = {"aws:sqs", "aws:sns", "aws:kinesis"}
_DATASOURCE_SOURCES = {"aws:dynamodb", "aws:s3"}
MAX_ID_LENGTH = 256
"""Identifiers are cut here: an odd caller must not make spans arbitrarily large."""


def trigger_of(event: Any) -> tuple[str, SpanKind]:
    """Semantic-convention ``faas.trigger`` and span kind guessed from the event's shape
    (``other`` for anything we cannot read: a Mapping whose lookups raise, odd values)."""
    try:
        return _trigger_of(event)
    except Exception:
        return "other", SpanKind.SERVER


def _trigger_of(event: Any) -> tuple[str, SpanKind]:
    if type(event) is not dict and not isinstance(event, Mapping):  # dict: no ABC check
        return "other", SpanKind.SERVER
    records = event.get("Records")
    if records and isinstance(records, list) and isinstance(records[0], Mapping):
        source = records[0].get("eventSource") or records[0].get("EventSource")
        if not isinstance(source, str):
            source = None
        if source in _PUBSUB_SOURCES:
            return "pubsub", SpanKind.CONSUMER
        if source in _DATASOURCE_SOURCES:
            return "datasource", SpanKind.CONSUMER
    if "requestContext" in event or "httpMethod" in event or "routeKey" in event:
        return "http", SpanKind.SERVER
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return "timer", SpanKind.SERVER
    return "other", SpanKind.SERVER


class _LowerCaseGetter:
    """Reads propagation headers case-insensitively (API Gateway keeps the client's case)."""

    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key.lower())
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier.keys())


_getter = _LowerCaseGetter()


def parent_context_of(event: Any) -> context_api.Context | None:
    """The caller's context: HTTP headers in the event first, then Lambda's X-Ray header.

    Both go through the global propagator, so ``_X_AMZN_TRACE_ID`` is only used when the
    user configured an X-Ray propagator (``OTEL_PROPAGATORS=xray`` or similar). Only the
    headers the propagator says it reads (its ``fields``) are handed to it, and when the
    event has none of them it is not called at all: on a warm invocation without trace
    headers that saves most of the cost of extraction (~15 us of ~60 us per call).
    """
    propagate = _propagate()
    fields = _fields_of(propagate.get_global_textmap())
    # Most events carry no headers (queues, schedules, direct invokes): looked at first.
    headers = event.get("headers") if type(event) is dict else _headers_of(event)
    try:
        if headers:
            carrier = _carrier_of(headers, fields)
            if carrier:
                ctx = propagate.extract(carrier, getter=_getter)
                if trace.get_current_span(ctx).get_span_context().is_valid:
                    return ctx
    except Exception:  # a hostile event or a propagator that raises: no remote parent
        pass
    if fields is not None and _XRAY_HEADER not in fields:
        return None  # the propagator does not read X-Ray: Lambda's header is not looked at
    xray = os.environ.get("_X_AMZN_TRACE_ID")
    if xray and len(xray) <= MAX_HEADER_LENGTH:
        try:
            ctx = propagate.extract({_XRAY_HEADER: xray}, getter=_getter)
        except Exception:
            return None
        if trace.get_current_span(ctx).get_span_context().is_valid:
            return ctx
    return None


def _headers_of(event: Any) -> Any:
    """``event["headers"]`` of an event that is a Mapping but not a dict (None otherwise,
    or when reading it raises)."""
    try:
        return event.get("headers") if isinstance(event, Mapping) else None
    except Exception:
        return None


MAX_HEADER_LENGTH = 8192
"""Propagation headers are short (traceparent is 55 characters; W3C caps tracestate at 32
members); longer values are not propagation and are not read."""
_XRAY_HEADER = "x-amzn-trace-id"


def _carrier_of(headers: Any, fields: frozenset[str] | None = None) -> dict[str, str]:
    """The event's string headers with string keys, lower-cased, limited to ``fields``
    when the propagator named them; nothing else."""
    if not isinstance(headers, Mapping):
        return {}
    carrier: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        name = key.lower()
        if (fields is None or name in fields) and len(value) <= MAX_HEADER_LENGTH:
            carrier[name] = value
    return carrier


@functools.lru_cache(maxsize=1)
def _propagate() -> Any:
    """``opentelemetry.propagate``, imported at the first invocation, not at module level:
    loading the propagators reads entry points (tens of ms), which the decorator's import at
    INIT must not pay; cached, since two import statements per call cost ~3 us."""
    from .propagation import import_propagate

    return import_propagate()


@functools.lru_cache(maxsize=4)
def _fields_of(propagator: Any) -> frozenset[str] | None:
    """The header names the global propagator reads, lower-cased (asked once per
    propagator); None when it cannot say, and then every header is handed to it."""
    try:
        fields = frozenset(f.lower() for f in propagator.fields if isinstance(f, str))
    except Exception:
        return None
    return fields or None


@functools.lru_cache(maxsize=8)
def _arn_attributes(arn: str) -> tuple[tuple[str, str], ...]:
    """``cloud.*`` attributes of an invoked ARN; the same ARN arrives on every invocation."""
    attrs = [(v.AWS_LAMBDA_INVOKED_ARN, arn[:MAX_ID_LENGTH])]
    parts = arn.split(":")
    if len(parts) >= 7:
        attrs.append((v.CLOUD_RESOURCE_ID, ":".join(parts[:7])[:MAX_ID_LENGTH]))
        attrs.append((v.CLOUD_ACCOUNT_ID, parts[4][:MAX_ID_LENGTH]))
    return tuple(attrs)


def invocation_attributes(
    context: Any, trigger: str, function_name: str, log_stream_name: str | None
) -> dict[str, Any]:
    """Span attributes from the Lambda context object: identifiers only, never payloads."""
    attrs: dict[str, Any] = {
        v.FAAS_TRIGGER: trigger,
        v.FAAS_NAME: function_name[:MAX_ID_LENGTH],
    }
    request_id = getattr(context, "aws_request_id", None)
    if isinstance(request_id, str):
        attrs[v.FAAS_INVOCATION_ID] = request_id[:MAX_ID_LENGTH]
    arn = getattr(context, "invoked_function_arn", None)
    if isinstance(arn, str) and arn:
        attrs.update(_arn_attributes(arn))
    if log_stream_name:
        attrs[v.FAAS_INSTANCE] = log_stream_name[:MAX_ID_LENGTH]
    return attrs

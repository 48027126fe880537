"""Invocation spans another instrumentor made: how to recognise them and make one this
invocation's span. SDK-free (API only): the decorator uses it too, and importing the
decorator must not import the SDK."""

from __future__ import annotations

import time
from typing import Any

from opentelemetry import context as context_api
from opentelemetry.trace import SpanKind

from .._core import vocabulary as v
from .host import InvocationHost

UPSTREAM_SCOPE = "opentelemetry.instrumentation.aws_lambda"
INVOCATION_KINDS = (SpanKind.SERVER, SpanKind.CONSUMER)
INVOCATION_KEYS = (v.FAAS_INVOCATION_ID, v.FAAS_TRIGGER, "faas.execution")


def scope_name(span: Any) -> str:
    scope = getattr(span, "instrumentation_scope", None) or getattr(
        span, "instrumentation_info", None
    )
    return getattr(scope, "name", "") or ""


def is_upstream_invocation_span(span: Any) -> bool:
    """A live invocation span made by the upstream aws-lambda instrumentation."""
    return getattr(span, "kind", None) in INVOCATION_KINDS and scope_name(span) == UPSTREAM_SCOPE


def decorate_invocation_span(
    host: InvocationHost, span: Any, parent_context: context_api.Context | None
) -> bool:
    """Make another instrumentor's span this invocation's span (counted once, the init span
    on the first); False when this invocation already has one or we are off."""
    if host.config.disabled or not host.claims.claim(span.get_span_context().span_id, span):
        return False
    start_ns = span.start_time or time.time_ns()
    number = host.timeline.begin_invocation()
    extra: dict[str, Any] = host.timeline.invocation_attributes(number)
    if number == 1:
        extra.update(host.emitter.on_first_invocation(span, parent_context, start_ns))
    span.set_attributes(extra)
    return True

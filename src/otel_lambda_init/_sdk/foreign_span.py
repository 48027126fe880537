"""Invocation spans another instrumentor made: how to recognise them and make one this
invocation's span. SDK-free (API only): the decorator uses it too, and importing the
decorator must not import the SDK."""

from __future__ import annotations

import time
from enum import Enum
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from .._core import vocabulary as v

TYPE_CHECKING = False  # the host protocol is for the type checker only
if TYPE_CHECKING:
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


class Decoration(Enum):
    """What ``decorate_invocation_span`` did with a span."""

    NOT_OURS = "not-ours"  # this invocation has its span already, or we are off
    DECORATED = "decorated"
    ADOPTED = "adopted"  # decorated, and moved under a root that ends with it


def decorate_invocation_span(
    host: InvocationHost,
    span: Any,
    parent_context: context_api.Context | None,
    adopt_into_root: bool = False,
) -> Decoration:
    """Make another instrumentor's span this invocation's span (counted once, the init span
    on the first). With ``adopt_into_root`` (from ``on_start``, before anything has seen the
    span's ids) a first invocation without a parent moves under a root from INIT start, so
    no span starts before its parent."""
    if host.config.disabled or not host.claims.claim(span.get_span_context().span_id, span):
        return Decoration.NOT_OURS
    start_ns = span.start_time or time.time_ns()
    number = host.timeline.begin_invocation()
    extra: dict[str, Any] = host.timeline.invocation_attributes(number)
    outcome = Decoration.DECORATED
    if number == 1:
        parent = trace.get_current_span(parent_context).get_span_context()
        if adopt_into_root and not parent.is_valid and host.adopt_into_root(span):
            outcome = Decoration.ADOPTED
        extra.update(host.first_invocation(span, parent_context, start_ns))
    span.set_attributes(extra)
    return outcome

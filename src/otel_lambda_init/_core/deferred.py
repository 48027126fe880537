"""Deferred zero-code INIT: whether the wrapper route may leave the OpenTelemetry SDK out of
INIT, and what the first invocation must remember so its spans can be built afterwards.

Most of the wrapper route's INIT cost is importing the OpenTelemetry API and SDK. When nothing
in the process needs a live span before the first response is posted, INIT and the first
invocation are kept as plain timestamps here and their spans are built, with the same names,
attributes, children, link and parentage, once the caller has its answer. See
docs/wrapper.md, "Deferred INIT".
"""

from __future__ import annotations

from .vocabulary import FLUSH_AFTER_RESPONSE, MANAGED_INSTANCES, SNAP_START, TRACE_SEPARATE

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from typing import Any

CONTEXT_FIELDS = (
    "aws_request_id",
    "invoked_function_arn",
    "function_name",
    "function_version",
    "memory_limit_in_mb",
    "log_group_name",
    "log_stream_name",
)
"""The Lambda context's identifiers: what an invocation span may read from it later."""


def why_not_defer(
    *,
    flush: str,
    trace_mode: str,
    initialization_type: str,
    opentelemetry_loaded: bool,
    after_response_running: bool,
) -> str | None:
    """None when the spans of INIT and the first invocation may be built after the first
    response; otherwise why they must be live (said in a debug log, never an error)."""
    if opentelemetry_loaded:
        return "OpenTelemetry is already imported (auto-instrumentation or the user's code)"
    if flush != FLUSH_AFTER_RESPONSE or not after_response_running:
        return "no after-response delivery: building spans later would land on the caller"
    if trace_mode == TRACE_SEPARATE:
        return "separate mode opens the init span during INIT"
    if initialization_type in (SNAP_START, MANAGED_INSTANCES):
        return f"{initialization_type} exports INIT before any invocation"
    return None


class ContextSnapshot:
    """The Lambda context's identifiers, copied when the invocation starts."""

    def __init__(self, context: Any) -> None:
        for name in CONTEXT_FIELDS:
            value = getattr(context, name, None)
            if isinstance(value, (str, int)):
                setattr(self, name, value)


def event_snapshot(event: Any) -> Any:
    """A copy of the event's top level, its headers and its first record, deep enough that
    the handler changing the event cannot change what its span will say. Kept in memory
    until the span is built; nothing of it is recorded but identifiers and the trigger."""
    if not isinstance(event, dict):
        return event
    copy = dict(event)
    headers = copy.get("headers")
    if isinstance(headers, dict):
        copy["headers"] = dict(headers)
    records = copy.get("Records")
    if isinstance(records, list) and records:
        first = records[0]
        copy["Records"] = [dict(first) if isinstance(first, dict) else first, *records[1:]]
    return copy


class DeferredInvocation:
    """The first invocation, as plain facts: when it ran, what it was called with (copied),
    and how it ended."""

    __slots__ = ("event", "context", "start_ns", "end_ns", "error", "thread_id", "live")

    def __init__(self, event: Any, context: Any, start_ns: int, thread_id: int) -> None:
        self.event = event_snapshot(event)
        self.context = ContextSnapshot(context)
        self.start_ns = start_ns
        self.end_ns: int | None = None
        self.error: BaseException | None = None
        self.thread_id = thread_id
        self.live: Any = None  # the live invocation, when OpenTelemetry arrived mid-call

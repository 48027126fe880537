"""When AWS received a synchronous HTTP request, read from the trigger's own clock.

API Gateway REST (``requestContext.requestTimeEpoch``), HTTP API and Function URLs
(``requestContext.timeEpoch``) stamp epoch milliseconds as a JSON number; VPC Lattice v2
stamps epoch microseconds as a string of digits. Only these fields are read, never the rest
of the event; anything else (other types, other units, times outside 2015-2100) is ``None``.
Asynchronous triggers' timestamps say when a message was sent and are deliberately not read
(docs/verdicts.md).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing costs ms at import; this module is on the invocation path
if TYPE_CHECKING:
    from typing import Any

__all__ = ["received_ns_from_event", "received_ns_from_request_context"]

_EARLIEST_NS = 1_420_070_400 * 10**9  # 2015-01-01: before any of these triggers existed
_LATEST_NS = 4_102_444_800 * 10**9  # 2100-01-01
_LATTICE_DIGITS = 16  # epoch microseconds from 2001 to 2286


def received_ns_from_event(event: Any) -> int | None:
    """When AWS received the request an invocation event carries, as epoch ns, or ``None``
    when the event is not a synchronous HTTP trigger's (or its time field is malformed)."""
    try:
        if type(event) is not dict:
            return None
        return received_ns_from_request_context(event.get("requestContext"))
    except Exception:  # a dict subclass or key type we did not foresee: no time, no error
        return None


def received_ns_from_request_context(request_context: Any) -> int | None:
    """The same from a request context alone: the ``requestContext`` object of an event, or
    the JSON-decoded ``x-amzn-request-context`` header the Lambda Web Adapter forwards."""
    try:
        if type(request_context) is not dict:
            return None
        rest = request_context.get("requestTimeEpoch")
        if rest is not None:
            return _from_ms(rest)
        return _from_time_epoch(request_context.get("timeEpoch"))
    except Exception:
        return None


def _from_ms(value: object) -> int | None:
    # ``type(...) is int`` rejects bool (a subclass) and floats: AWS sends whole milliseconds.
    # Bounds before arithmetic: a 4000-digit integer costs nothing to compare.
    if type(value) is not int or not _EARLIEST_NS // 1_000_000 <= value < _LATEST_NS // 1_000_000:
        return None
    return value * 1_000_000


def _from_time_epoch(value: object) -> int | None:
    if type(value) is int:
        return _from_ms(value)  # HTTP API, Function URL
    # VPC Lattice v2: microseconds, as text; the length check first keeps the cost bounded.
    if type(value) is str and len(value) == _LATTICE_DIGITS and value.isascii() and value.isdigit():
        return _plausible(int(value) * 1_000)
    return None


def _plausible(ns: int) -> int | None:
    return ns if _EARLIEST_NS <= ns < _LATEST_NS else None

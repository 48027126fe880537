"""Which span is this invocation's invocation span: decorated once, whoever created it.

SDK-free on purpose: ``handler.py`` asks here whether an outer instrumentor's span (already
decorated by our SpanProcessor) is current, so the decorator does not start a second one.
The runtime window (between the runtime's ``next`` returning and its following ``next``
call) tells which invocation a span belongs to, so at most one span per invocation is taken.
"""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry import trace

_lock = threading.Lock()
_open: dict[int, Any] = {}  # span_id -> live span decorated as an invocation span
_window_seq = 0  # invocations the runtime has received (0: runtime client never seen)
_window_active = False
_claimed_seq = -1


def _on_next_returned(_args: tuple[Any, ...]) -> None:
    global _window_seq, _window_active
    with _lock:
        _window_seq += 1
        _window_active = True


def _on_next_called(_args: tuple[Any, ...]) -> None:
    global _window_active
    with _lock:
        _window_active = False


def watch_runtime_window() -> bool:
    """Hook the runtime client so we know when an invocation is being served (guarded)."""
    from .runtime_client import hook_runtime_client

    return hook_runtime_client(
        "wait_next_invocation",
        "invocation-window",
        before=_on_next_called,
        after=_on_next_returned,
    )


def in_invocation() -> bool:
    """True while the runtime is serving an invocation (False if that cannot be known)."""
    return _window_active


def claim(span: Any) -> bool:
    """Take ``span`` as the current invocation's span. False when this invocation already has
    one (only known while the runtime window is observed)."""
    global _claimed_seq
    with _lock:
        if _window_seq and _window_active:
            if _claimed_seq == _window_seq:
                return False
            _claimed_seq = _window_seq
        _open[span.get_span_context().span_id] = span
    return True


def claim_window_only() -> None:
    """Our own handler wrapper made this invocation's span: nobody else may take it."""
    global _claimed_seq
    with _lock:
        if _window_seq and _window_active:
            _claimed_seq = _window_seq


def release(span_id: int) -> None:
    with _lock:
        _open.pop(span_id, None)


def decorated_current_span() -> Any:
    """The current span if it is an invocation span we already decorated, else None."""
    if not _open:
        return None
    span = trace.get_current_span()
    return _open.get(span.get_span_context().span_id)

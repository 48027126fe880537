"""Which span is this invocation's invocation span: decorated once, whoever created it.

The runtime window (between the runtime's ``next`` returning and its following ``next``
call) tells which invocation a span belongs to, so at most one span per invocation is
taken. Spans are kept by span id: the handler wrapper asks whether the current span is one
an outer instrumentor made and our processor already decorated.
"""

from __future__ import annotations

import threading
from enum import Enum
from typing import Any, Literal

from .events import INVOCATION_RECEIVED, NEXT_REQUESTED, Event, LifecycleEvents


class Nested(Enum):
    """What a wrapper of ours gets for a call an outer wrapper of ours already traces."""

    NESTED = "nested"


NESTED = Nested.NESTED
NestedCall = Literal[Nested.NESTED]


class InvocationClaims:
    """The runtime window and the invocation spans decorated in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, Any] = {}  # span_id -> live span decorated as an invocation span
        self._window_seq = 0  # invocations the runtime has received (0: never observed)
        self._window_active = False
        self._claimed_seq = -1

    def subscribe(self, events: LifecycleEvents) -> None:
        """The runtime window: open when an event is received, closed at the next ``next``."""
        events.subscribe(NEXT_REQUESTED, self._on_next_requested)
        events.subscribe(INVOCATION_RECEIVED, self._on_invocation_received)

    def _on_next_requested(self, event: Event) -> None:
        self.window_closed()

    def _on_invocation_received(self, event: Event) -> None:
        self.window_opened()

    def window_opened(self) -> None:
        """The runtime's ``next`` returned an event."""
        with self._lock:
            self._window_seq += 1
            self._window_active = True

    def window_closed(self) -> None:
        """The runtime asks for its next event: the invocation is over."""
        with self._lock:
            self._window_active = False

    def in_invocation(self) -> bool:
        """True while the runtime is serving an invocation (False if that cannot be known)."""
        return self._window_active

    def claim(self, span_id: int, span: Any) -> bool:
        """Take the span as the current invocation's span. False when this invocation already
        has one (only known while the runtime window is observed)."""
        with self._lock:
            if self._window_seq and self._window_active:
                if self._claimed_seq == self._window_seq:
                    return False
                self._claimed_seq = self._window_seq
            self._open[span_id] = span
        return True

    def claim_window_only(self) -> None:
        """Our own handler wrapper made this invocation's span: nobody else may take it."""
        with self._lock:
            if self._window_seq and self._window_active:
                self._claimed_seq = self._window_seq

    def hold(self, span_id: int, span: Any) -> None:
        """Our handler wrapper made this invocation span: a wrapper nested inside (the
        decorator twice, the wrapper over a decorated handler) must not make another."""
        with self._lock:
            self._open[span_id] = span

    def release(self, span_id: int) -> None:
        with self._lock:
            self._open.pop(span_id, None)

    def decorated(self, span_id: int) -> Any:
        """The span with this id if it is an invocation span we decorated, else None."""
        if not self._open:
            return None
        return self._open.get(span_id)

"""Lifecycle events of a sandbox as the runtime process sees them, and who hears them.

The runtime-client hooks (and ``init_done()``, the handler-import fallback, SIGTERM) turn
what they observe into these events; the owner's subscribers (emitter, delivery, state file,
import tracer, claims, SnapStart) react. A subscriber's failure is reported once and never
reaches the runtime.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

from .report import report_once

TYPE_CHECKING = False  # collections.abc for the type checker only (INIT path)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

NEXT_REQUESTED = "next-requested"
"""The runtime asks for the next event (its first call ends INIT)."""
INIT_END = "init-end"
"""INIT is over (published once, whichever source saw it first)."""
INIT_ERROR = "init-error"
"""The runtime is about to report an INIT error and exit."""
INVOCATION_RECEIVED = "invocation-received"
"""The runtime received an invocation's event (its handler is about to run)."""
RESPONSE_POSTED = "response-posted"
"""The runtime posted an invocation's result or error: the caller has its answer."""
BEFORE_SNAPSHOT = "before-snapshot"
"""SnapStart: INIT is over and the snapshot is about to be taken."""
RESTORED = "restored"
"""SnapStart: this sandbox was restored from the snapshot."""
SHUTDOWN = "shutdown"
"""Lambda is shutting the sandbox down (SIGTERM)."""


class NextTrip(NamedTuple):
    """The runtime's first ``next`` as the thread that made the call saw it (awslambdaric's
    helper thread on python3.12+ and in containers): the main thread's own stamps would add
    the helper's start and the main thread's wake-up to the hand-over."""

    sent_ns: int
    returned_ns: int
    cpu_wait_ns: int | None
    """That thread's wait for a CPU between the two (schedstat), None where Linux keeps none."""


class Event(NamedTuple):
    """One lifecycle event, with the time it was observed (epoch ns); a frozen record."""

    kind: str
    time_ns: int
    request_id: str | None = None
    error: Mapping[str, Any] | None = None
    source: str | None = None
    budget_s: float | None = None
    """shutdown: how long is left to export (None: no bound was given)."""
    deadline: object = None
    """invocation-received: the deadline header as the runtime read it (epoch ms, text)."""
    cpu_wait_ns: int | None = None
    """The first invocation-received: the thread's CPU wait so far, read just before time_ns."""
    next_trip: NextTrip | None = None
    """The first invocation-received, where a helper thread made the runtime's ``next``."""


class LifecycleEvents:
    """Subscribers per event kind, called in the order they subscribed (``last`` ones after
    every other: they react to what the others did).

    Three events are published on every invocation from the runtime's thread (two of them
    in the caller's or the sandbox's time): publishing takes no lock. Subscribing replaces
    the kind's tuple (copy on write), so a publish sees the old or the new tuple, whole.
    """

    def __init__(self) -> None:
        self._subscribers: dict[str, tuple[Callable[[Event], None], ...]] = {}
        self._last: dict[str, tuple[Callable[[Event], None], ...]] = {}
        self._lock = threading.Lock()

    def subscribe(
        self, kind: str, subscriber: Callable[[Event], None], *, last: bool = False
    ) -> None:
        with self._lock:
            late = self._last.get(kind, ())
            every = self._subscribers.get(kind, ())
            first = every[: len(every) - len(late)]
            if last:
                late = (*late, subscriber)
            else:
                first = (*first, subscriber)
            self._last[kind] = late
            self._subscribers[kind] = (*first, *late)

    def publish(self, event: Event) -> None:
        for subscriber in self._subscribers.get(event.kind, ()):
            try:
                subscriber(event)
            except Exception:  # a subscriber's bug must not stop the runtime
                name = getattr(subscriber, "__qualname__", repr(subscriber))
                report_once(f"event-{event.kind}-{name}", f"the {event.kind} handler {name} failed")

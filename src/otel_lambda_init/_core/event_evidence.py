"""The trigger's time of receipt against INIT end: the event-time row and the caller's wait.

Pure, like ``classify``: explicit nanosecond times, no clock, no OpenTelemetry.
"""

from __future__ import annotations

from typing import NamedTuple

from .vocabulary import PHASE_INIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .vocabulary import Phase

__all__ = [
    "DEFAULT_EVENT_TIME_TOLERANCE_MS",
    "HANDOVER_LESS_CPU_WAIT_MS",
    "InitTimeline",
    "PROMPT_HANDOVER_MS",
    "caller_wait_ms",
    "event_time_verdict",
    "reported_wait",
]

NS_PER_MS = 1_000_000


class InitTimeline(NamedTuple):
    """When the sandbox's INIT (or SnapStart restore) ran, as seen from the runtime process."""

    start_ns: int
    end_ns: int
    phase: Phase = PHASE_INIT
    ready_ns: int | None = None  # the runtime's ``next`` left the process (>= end_ns)
    received_ns: int | None = None  # that ``next`` returned with the first event
    platform_end_ns: int | None = None  # the platform's INIT end, extensions included, if known
    first_attempt_ns: int | None = None  # INIT re-run after the cap: when the first try began
    next_cpu_wait_ns: int | None = None  # of ready..received, the runtime waiting for a CPU

    @property
    def hand_over_measured(self) -> bool:
        """The runtime's first ``next`` was seen return, with its wait for a CPU (schedstat):
        what is left of its wait is the Runtime API's own latency."""
        return self.received_ns is not None and self.next_cpu_wait_ns is not None


HANDOVER_LESS_CPU_WAIT_MS = 30.0
"""What a pending request's hand-over takes once the runtime's wait for a CPU is taken off
(Linux schedstat): the Runtime API's own latency, 1-2 ms in AWS's emulator and at most 24 ms in
the simulator's at load 7 (docs/verdicts.md). With external extensions and no platform INIT
end, a request received more than this (plus the skew tolerance) before the hand-over waited
for them."""

DEFAULT_EVENT_TIME_TOLERANCE_MS = 10.0
"""How far apart the trigger's clock and the sandbox's may be. AWS documents its Time Sync
Service (which EC2 and its own fleet use) at about a millisecond from UTC and stamps these
fields in whole milliseconds; it documents no bound for Lambda or API Gateway themselves, so
the default allows five times the documented bounds (docs/verdicts.md)."""

PROMPT_HANDOVER_MS = 5.0
"""How long a pending request's hand-over takes at most, once the runtime's wait for a CPU is
off: 1-2 ms in AWS's emulator; in the simulator's fleets a median of 1.9 ms, p90 3 ms, rarely
over 5 (docs/verdicts.md). Where the clocks cannot place a request on either side of INIT end,
a first event that took longer came to a sandbox sitting ready."""

MAX_RECEIVED_BEFORE_INIT_MS = 30_000.0
"""A time of receipt this long before INIT start is not believed: API Gateway answers the
caller after its 29 s integration timeout, and replayed test events carry old times."""

MAX_RECEIVED_AFTER_HAND_OVER_MS = 1_000.0
"""A request cannot be received after it was handed over; a stamp up to this much later means
the trigger's clock runs ahead (read as received at the hand-over), beyond it a broken clock."""


def caller_wait_ms(received_ns: int, init_start_ns: int, init_end_ns: int) -> float:
    """How long a request waited for INIT: INIT end minus the later of its receipt and INIT
    start, 0 when it was received after INIT end."""
    return max(0, init_end_ns - max(received_ns, init_start_ns)) / NS_PER_MS


def event_time_verdict(
    received_ns: int,
    timeline: InitTimeline,
    runtime_end_ns: int,
    handed_over_ns: int,
    tolerance_ms: float,
    end_known: bool,
    handover_ms: float,
    prompt: bool,
) -> tuple[bool | None, float] | None:
    """(waited, caller wait in ms) from the trigger's time of receipt; waited is None inside
    the tolerance (the sandbox-local rules decide). None when the time is not believable.

    The stamp is when the front end received the request, which reaches the sandbox after the
    front end's own work (authorizers, mapping) and the clocks' skew: a stamp less than twice
    the tolerance before INIT end counts as a wait only if the hand-over was ``prompt``."""
    tol = tolerance_ms * NS_PER_MS
    # A caller whose INIT was re-run after the cap waited through both attempts.
    start = min(timeline.start_ns, timeline.first_attempt_ns or timeline.start_ns)
    if received_ns > handed_over_ns + MAX_RECEIVED_AFTER_HAND_OVER_MS * NS_PER_MS:
        return None
    if received_ns < start - MAX_RECEIVED_BEFORE_INIT_MS * NS_PER_MS:
        return None
    received = min(received_ns, handed_over_ns)  # no request is received after its hand-over
    if not end_known:
        # INIT ended when the last external extension called next, somewhere between the
        # runtime's INIT end and the hand-over: a request that sat waiting longer than a
        # hand-over takes waited for it; one that started as it arrived found the sandbox ready.
        until = _handed_over_at_ns(timeline, handed_over_ns)
        if received < runtime_end_ns - tol:
            return True, caller_wait_ms(received, start, until)
        waited = handed_over_ns - received > tol + handover_ms * NS_PER_MS
        wait = caller_wait_ms(received, start, until) if waited else 0.0
        return waited, wait
    end = runtime_end_ns
    if timeline.platform_end_ns is not None:
        end = max(end, min(timeline.platform_end_ns, handed_over_ns))
    wait = caller_wait_ms(received, start, _waited_until_ns(timeline, end, handed_over_ns))
    if received < end - tol and (prompt or received < end - 2 * tol):
        return True, wait
    if received > end + tol:
        return False, 0.0
    return None, wait


def _waited_until_ns(timeline: InitTimeline, end_ns: int, handed_over_ns: int) -> int:
    """When a pending request stopped waiting: the platform's INIT end, when its Runtime API
    took the runtime's ``next`` and handed the request over. Unknown, it lies between ``next``
    leaving the process and the event coming back, and the runtime's wait for a CPU meanwhile
    came before the request left or after the event arrived, which the two reads cannot tell:
    the middle of the whole round trip is off by at most half of it (Cristian's estimate)."""
    if timeline.platform_end_ns is not None or timeline.received_ns is None:
        return end_ns
    back_ns = min(timeline.received_ns, handed_over_ns + (timeline.next_cpu_wait_ns or 0))
    return end_ns + max(0, back_ns - end_ns) // 2


def _handed_over_at_ns(timeline: InitTimeline, handed_over_ns: int) -> int:
    """When the event was handed over, for a wait that ends there: the runtime's wait for a CPU
    during its ``next`` came before the request left or after the event arrived, which the two
    reads cannot tell; half of it errs by at most half either way (the idle gap takes it all,
    as neither is idle time)."""
    if not timeline.next_cpu_wait_ns or timeline.received_ns is None:
        return handed_over_ns
    return min(timeline.received_ns, handed_over_ns + timeline.next_cpu_wait_ns // 2)


def reported_wait(wait_ms: float, coldstart: bool) -> float:
    """Inside the tolerance the trigger's clock cannot say which side of INIT end the request
    fell; when the rule that decided says nobody waited, the wait is 0, not the clocks' skew."""
    return wait_ms if coldstart else 0.0

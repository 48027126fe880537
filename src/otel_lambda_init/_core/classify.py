"""Pure classification of a sandbox's INIT: the design's decision table, the gap, billing.

Times are explicit integers in nanoseconds since the epoch; nothing here reads a clock or
imports OpenTelemetry, so any timeline can be fed in a test.
"""

from __future__ import annotations

from typing import NamedTuple

from . import vocabulary as v
from .vocabulary import (
    BY_EVENT_TIME,
    BY_IDLE_GAP,
    BY_INITIALIZATION_TYPE,
    BY_PENDING_REQUEST,
    BY_PHASE,
    BY_THRESHOLD,
    MANAGED_INSTANCES,
    ON_DEMAND,
    PHASE_INIT,
    PHASE_INVOKE,
    PHASE_RESTORE,
    PLACE_INVOCATION_TRACE,
    PLACE_OWN_TRACE,
    PROVISIONED,
    SNAP_START,
    TRACE_FIRST_INVOCATION,
    TRACE_SEPARATE,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .config import Config
    from .timeline import InitRecord
    from .vocabulary import ClassifiedBy, Phase, Placement

__all__ = [
    "NS_PER_MS",
    "ON_DEMAND",
    "MANAGED_INSTANCES",
    "PHASE_INIT",
    "PHASE_INVOKE",
    "PHASE_RESTORE",
    "PLACE_INVOCATION_TRACE",
    "PLACE_OWN_TRACE",
    "PROVISIONED",
    "SNAP_START",
    "InitTimeline",
    "InitVerdict",
    "billed_duration_ms",
    "caller_wait_ms",
    "classify_first_invocation",
    "classify_record",
    "cost_attributes",
    "estimated_cost_usd",
    "gap_ms",
    "idle_gap_threshold_ms",
    "init_attributes",
    "placement",
    "price_per_gb_second",
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


class InitVerdict(NamedTuple):
    """Answers "did a user wait for this INIT?" for a sandbox's first invocation."""

    coldstart: bool
    proactive: bool
    gap_ms: float
    duration_ms: float
    initialization_type: str
    phase: Phase
    classified_by: ClassifiedBy = BY_THRESHOLD
    caller_wait_ms: float | None = None  # only when the trigger said when it got the request
    idle_gap_threshold_ms: float | None = None  # the idle threshold in force, when it decided
    next_cpu_wait_ms: float | None = None  # taken off the idle gap (Linux schedstat), if known


DEFAULT_IDLE_GAP_MS = 50.0
"""A request pending at INIT end is handed over at the runtime's first ``next``: in 1-2 ms by
AWS's Runtime API on a quiet host (tens of ms only on a saturated one), and Bref calls an INIT
proactive after 50 ms idle in production; 50 ms is both (docs/verdicts.md, measurements in
docs/platform-facts.md)."""

HANDOVER_LESS_CPU_WAIT_MS = 30.0
"""What a pending request's hand-over takes once the runtime's wait for a CPU is taken off
(Linux schedstat): the Runtime API's own latency, 1-2 ms in AWS's emulator and at most 24 ms in
the simulator's at load 7 (docs/verdicts.md). With external extensions and no platform INIT
end, a request received more than this (plus the skew tolerance) before the hand-over waited
for them."""

DEFAULT_IDLE_GAP_WITH_EXTENSIONS_MS = 2_000.0
"""With external extensions INIT ends when the last of them calls ``next``, which can be
hundreds of ms after the runtime's (OpenTelemetry collector layer, Datadog extension), and
the runtime cannot see when: a cold start's gap then includes that tail, so the idle-gap
rule needs a much larger margin and only catches long idle gaps."""


DEFAULT_EVENT_TIME_TOLERANCE_MS = 10.0
"""How far apart the trigger's clock and the sandbox's may be. AWS documents its Time Sync
Service (which EC2 and its own fleet use) at about a millisecond from UTC and stamps these
fields in whole milliseconds; it documents no bound for Lambda or API Gateway themselves, so
the default allows five times the documented bounds (docs/verdicts.md)."""

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


def _event_time_verdict(
    received_ns: int,
    timeline: InitTimeline,
    runtime_end_ns: int,
    handed_over_ns: int,
    tolerance_ms: float,
    end_known: bool,
    handover_ms: float,
) -> tuple[bool | None, float] | None:
    """(waited, caller wait in ms) from the trigger's time of receipt; waited is None inside
    the tolerance (the sandbox-local rules decide). None when the time is not believable."""
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
        if received < runtime_end_ns - tol:
            return True, caller_wait_ms(received, start, handed_over_ns)
        waited = handed_over_ns - received > tol + handover_ms * NS_PER_MS
        wait = caller_wait_ms(received, start, handed_over_ns) if waited else 0.0
        return waited, wait
    end = runtime_end_ns
    if timeline.platform_end_ns is not None:
        end = max(end, min(timeline.platform_end_ns, handed_over_ns))
    wait = caller_wait_ms(received, start, _waited_until_ns(timeline, end, handed_over_ns))
    if received < end - tol:
        return True, wait
    if received > end + tol:
        return False, 0.0
    return None, wait


def _waited_until_ns(timeline: InitTimeline, end_ns: int, handed_over_ns: int) -> int:
    """When a pending request stopped waiting: the platform's INIT end, when its Runtime API
    took the runtime's ``next`` and handed the request over. Unknown, it lies between ``next``
    leaving the process and the request coming back: the middle of that measured round trip is
    off by at most half of it, either way (Cristian's estimate), the runtime's side by all."""
    if timeline.platform_end_ns is not None or timeline.received_ns is None:
        return end_ns
    return end_ns + max(0, handed_over_ns - end_ns) // 2


def _reported_wait(wait_ms: float, coldstart: bool) -> float:
    """Inside the tolerance the trigger's clock cannot say which side of INIT end the request
    fell; when the rule that decided says nobody waited, the wait is 0, not the clocks' skew."""
    return wait_ms if coldstart else 0.0


def _handed_over_ns(timeline: InitTimeline, first_invocation_start_ns: int, ready_ns: int) -> int:
    """When the platform handed the first event over: when ``next`` returned with it (not our
    processing after), less the runtime's wait for a CPU meanwhile (a busy host, a CPU quota
    INIT spent), which is neither idle time nor part of a caller's wait."""
    handed_over = first_invocation_start_ns
    if timeline.received_ns is not None and timeline.received_ns <= first_invocation_start_ns:
        handed_over = timeline.received_ns
    if timeline.next_cpu_wait_ns:
        handed_over = max(ready_ns, handed_over - timeline.next_cpu_wait_ns)
    return handed_over


def classify_first_invocation(
    timeline: InitTimeline,
    first_invocation_start_ns: int,
    initialization_type: str,
    proactive_threshold_ms: float = 10_000.0,
    idle_gap_ms: float | None = None,
    received_ns: int | None = None,
    tolerance_ms: float = DEFAULT_EVENT_TIME_TOLERANCE_MS,
    external_extensions: bool = False,
) -> InitVerdict:
    """Apply the decision table (docs/verdicts.md) to a sandbox's first invocation.

    Evidence first: a synchronous HTTP trigger's time of receipt (``received_ns``, see
    ``event_time``) before INIT end means the request waited, after it that nobody did; within
    ``tolerance_ms`` of INIT end, and without it, the 10 s and idle-gap rules decide.
    ``idle_gap_ms=None`` (or 0) keeps the 10 s rule alone.
    """
    # Idle only from when the platform could know the runtime was ready: our own work at
    # INIT end (an export in separate mode) delays the runtime's ``next``, not the request.
    ready = timeline.ready_ns if timeline.ready_ns is not None else timeline.end_ns
    runtime_end = max(ready, timeline.end_ns)
    handed_over = _handed_over_ns(timeline, first_invocation_start_ns, runtime_end)
    idle_from = runtime_end
    if timeline.platform_end_ns is not None:
        idle_from = max(runtime_end, min(timeline.platform_end_ns, handed_over))
    evidence = None
    if received_ns is not None:
        end_known = timeline.platform_end_ns is not None or not external_extensions
        handover = DEFAULT_IDLE_GAP_MS if not idle_gap_ms or external_extensions else idle_gap_ms
        if external_extensions and timeline.next_cpu_wait_ns is not None:
            handover = HANDOVER_LESS_CPU_WAIT_MS  # the CPU wait is off the hand-over already
        evidence = _event_time_verdict(
            received_ns, timeline, runtime_end, handed_over, tolerance_ms, end_known, handover
        )
        if evidence is not None and evidence[0] is None and idle_gap_ms:
            # Inside the tolerance the trigger's clock puts the arrival within it of INIT end;
            # a gap longer than that is the sandbox sitting ready, while a pending request is
            # handed over in a millisecond or two.
            idle_gap_ms = min(idle_gap_ms, tolerance_ms)
    late = (first_invocation_start_ns - timeline.start_ns) / NS_PER_MS > proactive_threshold_ms
    idle = gap_ms(idle_from, handed_over)
    waited = None if evidence is None else evidence[0]
    coldstart, proactive, by = _row(timeline, initialization_type, waited, late, idle_gap_ms, idle)
    return InitVerdict(
        coldstart=coldstart,
        proactive=proactive,
        gap_ms=gap_ms(timeline.end_ns, first_invocation_start_ns),
        duration_ms=(timeline.end_ns - timeline.start_ns) / NS_PER_MS,
        initialization_type=initialization_type,
        phase=timeline.phase,
        classified_by=by,
        caller_wait_ms=None if evidence is None else _reported_wait(evidence[1], coldstart),
        idle_gap_threshold_ms=idle_gap_ms if by in (BY_IDLE_GAP, BY_PENDING_REQUEST) else None,
        next_cpu_wait_ms=None
        if timeline.next_cpu_wait_ns is None
        else timeline.next_cpu_wait_ns / NS_PER_MS,
    )


def classify_record(
    init: InitRecord,
    first_invocation_start_ns: int,
    initialization_type: str,
    config: Config,
    external_extensions: bool,
    first_attempt_ns: int | None = None,
) -> InitVerdict:
    """The decision table applied to what the probes recorded of INIT and the configuration:
    the idle threshold for external extensions only while the platform's INIT end is unknown."""
    end_ns = init.end_ns if init.end_ns is not None else first_invocation_start_ns
    timeline = InitTimeline(
        init.start_ns,
        end_ns,
        init.phase,
        init.ready_ns,
        init.received_ns,
        init.platform_end_ns,
        first_attempt_ns,
        init.next_cpu_wait_ns,
    )
    unknown_end = external_extensions and init.platform_end_ns is None
    return classify_first_invocation(
        timeline,
        first_invocation_start_ns,
        initialization_type,
        config.proactive_threshold_ms,
        idle_gap_threshold_ms(config.idle_gap_ms, DEFAULT_IDLE_GAP_WITH_EXTENSIONS_MS, unknown_end),
        init.request_received_ns,
        config.event_time_tolerance_ms,
        external_extensions,
    )


def _row(
    timeline: InitTimeline,
    initialization_type: str,
    waited: bool | None,
    late: bool,
    idle_gap_ms: float | None,
    idle_ms: float,
) -> tuple[bool, bool, ClassifiedBy]:
    """(coldstart, proactive, classified_by): the first row of the table that applies.
    Unknown initialization types are judged like on-demand, the only type with a heuristic."""
    if initialization_type in (PROVISIONED, MANAGED_INSTANCES):
        return False, False, BY_INITIALIZATION_TYPE
    if initialization_type == SNAP_START:
        return True, False, BY_INITIALIZATION_TYPE  # the restore is the cold start
    if timeline.phase in (PHASE_INVOKE, PHASE_RESTORE):
        # A re-run INIT happened inside the invocation: the caller waited, whatever the clock.
        return True, False, BY_PHASE
    if waited is not None:
        return waited, not waited, BY_EVENT_TIME
    if late:
        return False, True, BY_THRESHOLD
    if idle_gap_ms and idle_ms > idle_gap_ms:
        return False, True, BY_IDLE_GAP
    return True, False, BY_PENDING_REQUEST if idle_gap_ms else BY_THRESHOLD


def idle_gap_threshold_ms(
    configured_ms: float | None, configured_with_extensions_ms: float, extensions_present: bool
) -> float:
    """The idle-gap threshold in force: the user's, else the default for whether external
    extensions (whose INIT may end after the runtime's) are present in the sandbox."""
    if configured_ms is not None:
        return configured_ms
    return configured_with_extensions_ms if extensions_present else DEFAULT_IDLE_GAP_MS


def gap_ms(init_end_ns: int, first_invocation_start_ns: int) -> float:
    """Time the finished sandbox sat idle before its first invocation (never negative)."""
    return max(0, first_invocation_start_ns - init_end_ns) / NS_PER_MS


def placement(verdict: InitVerdict, trace_mode: str) -> Placement:
    """Which trace the init span belongs to for a trace mode (``auto``/``first-invocation``/
    ``separate``): the first invocation's, or its own."""
    if trace_mode == TRACE_FIRST_INVOCATION:
        return PLACE_INVOCATION_TRACE
    if trace_mode == TRACE_SEPARATE:
        return PLACE_OWN_TRACE
    return PLACE_INVOCATION_TRACE if verdict.coldstart else PLACE_OWN_TRACE


def billed_duration_ms(duration_ms: float) -> int:
    """Lambda rounds billed duration up to the millisecond."""
    return max(0, int(-(-(duration_ms - 1e-9) // 1)))  # ceil without importing math


def estimated_cost_usd(billed_ms: int, memory_mb: int, price_per_gb_second: float) -> float:
    """Compute cost for ``billed_ms`` at ``memory_mb`` (GB = 1024 MB, as Lambda bills)."""
    return (memory_mb / 1024.0) * (billed_ms / 1000.0) * price_per_gb_second


def init_attributes(verdict: InitVerdict) -> dict[str, bool | float | str]:
    """The ``lambda_init.*`` attributes shared by the init span and the first invocation."""
    attrs: dict[str, bool | float | str] = {
        v.FAAS_COLDSTART: verdict.coldstart,
        v.PROACTIVE: verdict.proactive,
        v.GAP_MS: round(verdict.gap_ms, 3),
        v.DURATION_MS: round(verdict.duration_ms, 3),
        v.INITIALIZATION_TYPE: verdict.initialization_type,
        v.PHASE: verdict.phase,
        v.CLASSIFIED_BY: verdict.classified_by,
    }
    if verdict.caller_wait_ms is not None:
        attrs[v.CALLER_WAIT_MS] = round(verdict.caller_wait_ms, 3)
    if verdict.idle_gap_threshold_ms is not None:
        attrs[v.IDLE_GAP_THRESHOLD_MS] = verdict.idle_gap_threshold_ms
    if verdict.next_cpu_wait_ms is not None:
        attrs[v.NEXT_CPU_WAIT_MS] = round(verdict.next_cpu_wait_ms, 3)
    return attrs


def price_per_gb_second(architecture: str, price_x86_64: float, price_arm64: float) -> float:
    """The on-demand price for the function's architecture (``x86_64`` or ``arm64``)."""
    return price_arm64 if architecture == "arm64" else price_x86_64


def cost_attributes(
    duration_ms: float, memory_mb: int | None, price_per_gb_second: float
) -> dict[str, int | float]:
    """``lambda_init.billed_duration_ms`` and ``lambda_init.estimated_cost_usd`` of an INIT.

    An estimate of the in-process INIT only (extensions' INIT is not seen from here), at the
    on-demand list price; without a memory size there is no cost.
    """
    billed = billed_duration_ms(duration_ms)
    attrs: dict[str, int | float] = {v.BILLED_DURATION_MS: billed}
    if memory_mb:
        attrs[v.ESTIMATED_COST_USD] = estimated_cost_usd(billed, memory_mb, price_per_gb_second)
    return attrs

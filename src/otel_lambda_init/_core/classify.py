"""Pure classification of a sandbox's INIT: the design's decision table, the gap, billing.

Times are explicit integers in nanoseconds since the epoch; nothing here reads a clock or
imports OpenTelemetry, so any timeline can be fed in a test.
"""

from __future__ import annotations

from typing import NamedTuple

from . import vocabulary as v
from .event_evidence import (
    DEFAULT_EVENT_TIME_TOLERANCE_MS,
    HANDOVER_LESS_CPU_WAIT_MS,
    PROMPT_HANDOVER_MS,
    InitTimeline,
    caller_wait_ms,
    event_time_verdict,
    reported_wait,
)
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
    next_wait_ms: float | None = None  # the runtime's first next to its event, less that CPU wait


DEFAULT_IDLE_GAP_MS = 50.0
"""A request pending at INIT end is handed over at the runtime's first ``next``: in 1-2 ms by
AWS's Runtime API on a quiet host, tens of ms on a saturated one when the runtime's wait for a
CPU cannot be read; Bref calls an INIT proactive after 50 ms idle in production (docs/verdicts.md,
measurements in docs/platform-facts.md)."""

DEFAULT_IDLE_GAP_LESS_CPU_WAIT_MS = 10.0
"""With the runtime's wait for a CPU taken off (Linux schedstat), what is left of a pending
request's hand-over is the Runtime API's own latency: at most 1.2 ms in AWS's emulator, even
with both cores busy, and 0.5 ms at the median in the simulator's. Ten times the emulator's worst
still parts a request pending at INIT end from one that came 10 ms later, which 50 ms cannot
(docs/verdicts.md)."""

DEFAULT_IDLE_GAP_WITH_EXTENSIONS_MS = 2_000.0
"""With external extensions INIT ends when the last of them calls ``next``, which can be
hundreds of ms after the runtime's (OpenTelemetry collector layer, Datadog extension), and
the runtime cannot see when: a cold start's gap then includes that tail, so the idle-gap
rule needs a much larger margin and only catches long idle gaps."""


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
    idle = gap_ms(idle_from, handed_over)
    evidence, idle_gap_ms = _evidence(
        timeline, received_ns, runtime_end, handed_over, idle, tolerance_ms, idle_gap_ms,
        external_extensions,
    )  # fmt: skip
    late = (first_invocation_start_ns - timeline.start_ns) / NS_PER_MS > proactive_threshold_ms
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
        caller_wait_ms=None if evidence is None else reported_wait(evidence[1], coldstart),
        idle_gap_threshold_ms=idle_gap_ms if by in (BY_IDLE_GAP, BY_PENDING_REQUEST) else None,
        next_cpu_wait_ms=None
        if timeline.next_cpu_wait_ns is None
        else timeline.next_cpu_wait_ns / NS_PER_MS,
        next_wait_ms=None if timeline.received_ns is None else idle,
    )


def _evidence(
    timeline: InitTimeline,
    received_ns: int | None,
    runtime_end_ns: int,
    handed_over_ns: int,
    idle_ms: float,
    tolerance_ms: float,
    idle_gap_ms: float | None,
    external_extensions: bool,
) -> tuple[tuple[bool | None, float] | None, float | None]:
    """The event-time evidence, and the idle threshold in force where it cannot tell: a pending
    request is handed over at once, a longer wait for the first event is the sandbox ready."""
    if received_ns is None:
        return None, idle_gap_ms
    # Measured from the runtime's own next less its CPU wait, a pending request's hand-over is
    # prompt; otherwise our idle also holds the runtime's processing or a busy host's run queue
    # (no schedstat): the tolerance bounds it, as before either was measured.
    prompt_ms = PROMPT_HANDOVER_MS if timeline.hand_over_measured else tolerance_ms
    end_known = timeline.platform_end_ns is not None or not external_extensions
    handover = DEFAULT_IDLE_GAP_MS if not idle_gap_ms or external_extensions else idle_gap_ms
    if external_extensions and timeline.next_cpu_wait_ns is not None:
        handover = HANDOVER_LESS_CPU_WAIT_MS  # the CPU wait is off the hand-over already
    evidence = event_time_verdict(
        received_ns, timeline, runtime_end_ns, handed_over_ns, tolerance_ms, end_known,
        handover, idle_ms <= prompt_ms,
    )  # fmt: skip
    if evidence is not None and evidence[0] is None and idle_gap_ms:
        idle_gap_ms = min(idle_gap_ms, prompt_ms)
    return evidence, idle_gap_ms


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
        idle_gap_threshold_ms(
            config.idle_gap_ms,
            DEFAULT_IDLE_GAP_WITH_EXTENSIONS_MS,
            unknown_end,
            timeline.hand_over_measured,
        ),
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
    configured_ms: float | None,
    configured_with_extensions_ms: float,
    extensions_present: bool,
    cpu_wait_measured: bool = False,
) -> float:
    """The idle-gap threshold in force: the user's, else the default for whether external
    extensions (whose INIT may end after the runtime's) are present in the sandbox and whether
    the runtime's wait for a CPU could be taken off the idle gap."""
    if configured_ms is not None:
        return configured_ms
    if extensions_present:
        return configured_with_extensions_ms
    return DEFAULT_IDLE_GAP_LESS_CPU_WAIT_MS if cpu_wait_measured else DEFAULT_IDLE_GAP_MS


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
    if verdict.next_wait_ms is not None:
        attrs[v.NEXT_WAIT_MS] = round(verdict.next_wait_ms, 3)
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

"""The runtime's wait for a CPU during its first ``next`` is hand-over, not idleness (issue 21):
a host whose cores are busy, or Lambda's CPU quota spent by INIT, delays a pending request's
hand-over by the scheduler's run-queue time, which Linux counts per thread (schedstat)."""

from __future__ import annotations

import threading
import time

import pytest

from otel_lambda_init._core import events as ev
from otel_lambda_init._core.classify import (
    InitTimeline,
    classify_first_invocation,
    classify_record,
    init_attributes,
)
from otel_lambda_init._core.config import load_config
from otel_lambda_init._core.events import Event
from otel_lambda_init._core.timeline import InitRecord
from otel_lambda_init._owner import SandboxInstrumentation
from otel_lambda_init._probes import process
from otel_lambda_init._probes.process import thread_cpu_wait_ns

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def test_a_hand_over_slowed_by_a_cpu_wait_is_still_a_pending_request() -> None:
    # The runtime asked at 500 ms and got its event 80 ms later, 75 of them in the run queue
    # (a CPU quota INIT had spent): the request was pending; without the wait it sat idle.
    line = InitTimeline(T0, T0 + 500 * MS, "init", T0 + 500 * MS, T0 + 580 * MS)
    waited = line._replace(next_cpu_wait_ns=75 * MS)
    verdict = classify_first_invocation(waited, T0 + 581 * MS, "on-demand", 10_000.0, 50.0)
    assert verdict.coldstart and verdict.classified_by == "pending-request"
    assert init_attributes(verdict)["lambda_init.next_cpu_wait_ms"] == 75.0
    assert verdict.gap_ms == pytest.approx(81.0)  # the gap itself is what it was
    idle = classify_first_invocation(line, T0 + 581 * MS, "on-demand", 10_000.0, 50.0)
    assert idle.proactive and idle.classified_by == "idle-gap"
    assert "lambda_init.next_cpu_wait_ms" not in init_attributes(idle)


def test_a_cpu_wait_longer_than_the_gap_leaves_no_negative_idle() -> None:
    line = InitTimeline(
        T0, T0 + 500 * MS, "init", T0 + 500 * MS, T0 + 510 * MS, None, None, 90 * MS
    )
    verdict = classify_first_invocation(line, T0 + 511 * MS, "on-demand", 10_000.0, 50.0)
    assert verdict.coldstart and verdict.classified_by == "pending-request"


def test_the_probe_reads_this_threads_run_queue_time_where_linux_keeps_it() -> None:
    first = thread_cpu_wait_ns()
    if first is None:
        pytest.skip("no /proc/thread-self/schedstat here")
    assert first >= 0
    again = thread_cpu_wait_ns()
    assert again is not None and again >= first


def test_the_probe_says_nothing_without_schedstat(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("/proc/thread-self/schedstat")

    monkeypatch.setattr(process, "open", missing, raising=False)
    assert thread_cpu_wait_ns() is None


def _first_next(owner: SandboxInstrumentation, received_on_other_thread: bool) -> None:
    owner.events.publish(Event(ev.NEXT_REQUESTED, time.time_ns()))

    def receive() -> None:  # as the runtime hook does: the CPU wait, then the time
        wait = thread_cpu_wait_ns()
        owner.events.publish(Event(ev.INVOCATION_RECEIVED, time.time_ns(), cpu_wait_ns=wait))

    if received_on_other_thread:
        thread = threading.Thread(target=receive)
        thread.start()
        thread.join(5)
    else:
        receive()


def test_the_wait_is_counted_on_the_thread_whose_next_it_was() -> None:
    owner = SandboxInstrumentation(environ={})
    _first_next(owner, received_on_other_thread=False)
    init = owner.timeline.init
    if thread_cpu_wait_ns() is None:
        assert init.next_cpu_wait_ns is None
    else:
        assert init.next_cpu_wait_ns is not None and init.next_cpu_wait_ns >= 0
    other = SandboxInstrumentation(environ={})
    _first_next(other, received_on_other_thread=True)  # two threads' counters do not subtract
    assert other.timeline.init.received_ns is not None
    assert other.timeline.init.next_cpu_wait_ns is None


def test_a_callers_wait_for_an_extension_ends_when_the_platform_handed_the_event_over() -> None:
    # An external extension ended INIT after the runtime's next (its end unknown in here): the
    # request, received at 1020 ms, waited until the platform handed it over. The runtime saw
    # it at 1200 ms and spent 27 ms of its next waiting for a CPU: at the end (handed over at
    # 1173 ms, the caller waited 153 ms) or before its request left (handed over at 1200 ms,
    # 180 ms), which the two reads cannot tell. Half of it is off by at most 13.5 ms either
    # way; all of it was 27 ms short in an agreement run (9.3 ms of wait before the request).
    line = InitTimeline(T0, T0 + 500 * MS, "init", T0 + 500 * MS, T0 + 1200 * MS)
    waited = line._replace(next_cpu_wait_ns=27 * MS)
    args = (T0 + 1201 * MS, "on-demand", 10_000.0, 2_000.0, T0 + 1020 * MS)
    verdict = classify_first_invocation(waited, *args, external_extensions=True)
    assert verdict.coldstart and verdict.classified_by == "event-time"
    assert verdict.caller_wait_ms == pytest.approx(166.5)
    assert verdict.next_wait_ms == pytest.approx(1173.0 - 500.0)  # the idle measure: all of it
    unaware = classify_first_invocation(line, *args, external_extensions=True)
    assert unaware.caller_wait_ms == pytest.approx(180.0)


def test_with_the_cpu_wait_known_an_extensions_last_tens_of_ms_count_as_waiting() -> None:
    # A request received 45 ms before the hand-over, an external extension still initializing:
    # it waited for the extension. Without the CPU wait measured the hand-over itself may
    # have taken that long (50 ms allowance); with it, only the Runtime API's latency remains.
    line = InitTimeline(T0, T0 + 500 * MS, "init", T0 + 500 * MS, T0 + 1200 * MS)
    measured = line._replace(next_cpu_wait_ns=0)
    args = (T0 + 1201 * MS, "on-demand", 10_000.0, 2_000.0, T0 + 1155 * MS)
    verdict = classify_first_invocation(measured, *args, external_extensions=True)
    assert verdict.coldstart and verdict.classified_by == "event-time"
    assert verdict.caller_wait_ms == pytest.approx(45.0)
    unmeasured = classify_first_invocation(line, *args, external_extensions=True)
    assert unmeasured.proactive and unmeasured.caller_wait_ms == 0.0


def _record(next_wait_ms: float, cpu_wait_ms: float | None) -> InitRecord:
    # INIT ended at 500 ms, the runtime's next left at once and returned next_wait_ms later
    # (plus the CPU wait): what the probes record of a sandbox with no external extension.
    record = InitRecord(T0, "proc", T0 + 500 * MS, "runtime-next")
    record.ready_ns = T0 + 500 * MS
    record.received_ns = T0 + int((500 + next_wait_ms + (cpu_wait_ms or 0)) * MS)
    record.next_cpu_wait_ns = None if cpu_wait_ms is None else int(cpu_wait_ms * MS)
    return record


@pytest.mark.parametrize(
    "next_wait_ms,cpu_wait_ms,by,threshold",
    [
        (3.0, 0.2, "pending-request", 10.0),  # a hand-over: AWS's API takes 1-2 ms
        (14.0, 0.2, "idle-gap", 10.0),  # a request that came 14 ms after INIT end
        (14.0, 40.0, "idle-gap", 10.0),  # the CPU wait is off the idle; what is left decides
        (14.0, None, "pending-request", 50.0),  # no schedstat: Bref's 50 ms margin
        (60.0, None, "idle-gap", 50.0),
    ],
)
def test_with_the_cpu_wait_measured_the_default_idle_threshold_is_10_ms(
    next_wait_ms: float, cpu_wait_ms: float | None, by: str, threshold: float
) -> None:
    record = _record(next_wait_ms, cpu_wait_ms)
    start = record.received_ns + MS  # type: ignore[operator]
    verdict = classify_record(record, start, "on-demand", load_config({}), False)
    assert verdict.classified_by == by and verdict.idle_gap_threshold_ms == threshold
    assert verdict.coldstart == (by == "pending-request")

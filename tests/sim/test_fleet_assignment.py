"""The fleet's placement audited against Lambda's rules, with sandboxes that only keep time.

Lambda serves one request per sandbox at a time, starts a sandbox for a request that finds
none idle, and hands a pending request to whichever sandbox frees first (eager assignment).
Simultaneous arrivals are the case that matters: each one must see the sandboxes the earlier
arrivals of the same moment left idle, not the ones they already took.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

import otel_lambda_sim.fleet as fleet_module
from otel_lambda_sim.fleet import Fleet
from otel_lambda_sim.invocation import InvocationResult
from otel_lambda_sim.scenarios import Scenario

pytestmark = pytest.mark.timeout(60)

_INIT_S = 0.1  # a timed sandbox's INIT
_HANDLER_S = 0.6  # longer than INIT: a busy sandbox never frees before a new one is ready


@dataclass
class _Outcome:
    status: str = "done"


class _Api:
    def __init__(self) -> None:
        self.init_start_ns = 0
        self.init_done_ns = 0


class _Invocation:
    def __init__(self, result: InvocationResult, done: threading.Event) -> None:
        self._result, self._done = result, done

    def wait(self, timeout: float) -> InvocationResult:
        assert self._done.wait(timeout)
        return self._result


class TimedSandbox:
    """Stands in for a sandbox: INIT and each invocation take fixed times, nothing runs."""

    def __init__(self, function: Any, *, name: str) -> None:
        self.name = name
        self.log_stream_name = f"stream-{name}"
        self.api = _Api()
        self.init_outcome: _Outcome | None = None
        self.pid = None
        self.running = True
        self.served: list[Any] = []
        self._ready = threading.Event()
        self._busy = threading.Lock()

    def start(self) -> TimedSandbox:
        self.api.init_start_ns = time.time_ns()
        threading.Timer(_INIT_S, self._init_done).start()
        return self

    def _init_done(self) -> None:
        self.api.init_done_ns = time.time_ns()
        self.init_outcome = _Outcome()
        self._ready.set()

    @property
    def queues_at_once(self) -> bool:
        """submit only queues (INIT over): the fleet may call it on its own thread."""
        return self.init_outcome is not None

    def wait_init(self) -> _Outcome:
        assert self._ready.wait(10)
        assert self.init_outcome is not None
        return self.init_outcome

    def submit(self, event: Any, *, start_ns: int) -> _Invocation:
        # Lambda's rule the fleet must keep: one request per sandbox at a time.
        assert self._busy.acquire(blocking=False), f"{self.name} got a second request"
        self.served.append(event)
        served = time.time_ns()
        done = threading.Event()
        result = InvocationResult(str(uuid.uuid4()), "success", None, served, 0, 0, start_ns)

        def finish() -> None:
            result.responded_ns = result.completed_ns = time.time_ns()
            self._busy.release()
            done.set()

        threading.Timer(_HANDLER_S, finish).start()
        return _Invocation(result, done)

    def logs(self) -> str:
        return ""

    def kill(self) -> None:
        self.running = False

    def shutdown(self, reason: str) -> None:
        self.running = False


@pytest.fixture
def timed_sandboxes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_module, "Sandbox", TimedSandbox)


# (requests arriving at once, prewarmed sandboxes) -> sandboxes started, requests that waited
# for an INIT. Every request gets a sandbox of its own: none queues behind another.
CASES = [
    (2, 0, 2, 2),
    (2, 1, 2, 1),
    (5, 0, 5, 5),
    (5, 1, 5, 4),
    (5, 2, 5, 3),
    (10, 0, 10, 10),
    (10, 1, 10, 9),
    (10, 3, 10, 7),
    (2, 3, 3, 0),
]


@pytest.mark.parametrize(("at_once", "prewarm", "sandboxes", "waited"), CASES)
@pytest.mark.usefixtures("timed_sandboxes")
def test_simultaneous_arrivals_each_get_a_sandbox_of_their_own(
    at_once: int, prewarm: int, sandboxes: int, waited: int
) -> None:
    scenario = Scenario(
        handler="app.handler",
        prewarm=prewarm,
        concurrency=10,
        arrivals=[0.5] * at_once,  # after the prewarmed sandboxes' INIT
        drain_s=0.0,
    )
    result = Fleet(scenario).run()
    assert len(result.sandboxes) == sandboxes
    assert all(r.status == "success" for r in result.requests)
    assert sum(r.waited_for_init for r in result.requests) == waited
    # Nobody queued behind a busy sandbox: every request is its sandbox's first.
    assert [r.sandbox_invocation for r in result.requests] == [1] * at_once
    assert len({r.sandbox for r in result.requests}) == at_once
    started = [s for s in result.sandboxes if s.reason == "request"]
    assert len(started) == max(0, at_once - prewarm)


@pytest.mark.usefixtures("timed_sandboxes")
def test_prewarm_one_and_two_requests_at_once_start_a_second_sandbox() -> None:
    """The report of issue 26: prewarm 1, two requests at t=2.0, only one sandbox ran."""
    scenario = Scenario(handler="app.handler", prewarm=1, arrivals=[0.5, 0.5], drain_s=0.0)
    result = Fleet(scenario).run()
    assert [s.reason for s in result.sandboxes] == ["prewarm", "request"]
    assert {r.sandbox for r in result.requests} == {"sbx001", "sbx002"}
    verdicts = sorted(r.verdict for r in result.requests)
    assert verdicts == ["cold", "proactive"]  # the prewarmed one served unasked-for INIT


@pytest.mark.usefixtures("timed_sandboxes")
def test_beyond_concurrency_requests_queue_and_go_to_whichever_sandbox_frees_first() -> None:
    scenario = Scenario(handler="app.handler", concurrency=2, arrivals=[0.0] * 3, drain_s=0.0)
    result = Fleet(scenario).run()
    assert len(result.sandboxes) == 2
    assert sorted(r.sandbox_invocation for r in result.requests) == [1, 1, 2]


@pytest.mark.usefixtures("timed_sandboxes")
def test_a_request_while_the_only_sandbox_is_busy_starts_another_and_eager_assignment_decides() -> (
    None
):
    """B arrives while A's sandbox is busy: a second sandbox starts (INIT 0.1 s) and takes B,
    since A's sandbox stays busy for 0.6 s. Lambda's eager assignment, seen from the fleet."""
    scenario = Scenario(handler="app.handler", arrivals=[0.0, 0.3], drain_s=0.0)
    result = Fleet(scenario).run()
    assert [r.sandbox for r in result.requests] == ["sbx001", "sbx002"]
    assert [r.verdict for r in result.requests] == ["cold", "cold"]


class SlowSecondSandbox(TimedSandbox):
    """The first sandbox initializes in 0.1 s, every later one in 1.5 s."""

    started = 0

    def start(self) -> TimedSandbox:
        self.api.init_start_ns = time.time_ns()
        SlowSecondSandbox.started += 1
        init_s = _INIT_S if SlowSecondSandbox.started == 1 else 1.5
        threading.Timer(init_s, self._init_done).start()
        return self


def test_a_request_bound_to_an_initializing_sandbox_holds_up_no_queued_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Prewarmed P serves the first request; the second starts B (INIT 1.5 s) and is bound to
    it; the third finds the concurrency cap. When P frees (0.6 s), the third request takes it,
    not after B's INIT: the request bound to B is no line for the others."""
    SlowSecondSandbox.started = 0
    monkeypatch.setattr(fleet_module, "Sandbox", SlowSecondSandbox)
    scenario = Scenario(
        handler="app.handler",
        prewarm=1,
        concurrency=2,
        eager_assignment=False,
        arrivals=[0.3, 0.35, 0.4],
        drain_s=0.0,
    )
    result = Fleet(scenario).run()
    first, bound, queued = result.requests
    assert (first.sandbox, bound.sandbox, queued.sandbox) == ("sbx001", "sbx002", "sbx001")
    assert queued.assigned_ns < bound.assigned_ns
    assert (queued.assigned_ns - queued.arrival_ns) / 1e9 < 1.2  # P frees ~0.5 s after it came

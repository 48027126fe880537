"""A fleet of sandboxes for one function, placed the way Lambda's frontend places requests.

Proactive initialization in the field comes from placement: a request that finds no idle
sandbox makes Lambda start one, but with eager assignment the request goes to whichever
sandbox frees first; the new sandbox finishes INIT and waits, warm, for a later request that
never waited for it. Deploys and rotations start sandboxes nobody asked for. The fleet
replays a Scenario in real time and records the ground truth (who waited for which INIT),
judged by the rules in ground_truth.
"""

from __future__ import annotations

import functools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fleet_records import FleetResult, InitFailed, Replay, RequestRecord, SandboxRecord
from .fleet_work import LaterWork
from .front_end import FrontEnd
from .ground_truth import request_verdict, waited_for_init
from .runtime_api import InvocationResult
from .sandbox import Sandbox
from .scenarios import Scenario
from .shared_interpreter import prompt_hand_overs

__all__ = ["Fleet", "FleetResult", "InitFailed", "RequestRecord", "SandboxRecord"]

_TICK_S = 0.02


@dataclass
class _Slot:
    sandbox: Sandbox
    record: SandboxRecord
    state: str = "init"  # init | idle | busy | retiring | gone
    idle_since: float = 0.0
    retire: bool = False
    created_at: float = 0.0
    pending_for: list[int] = field(default_factory=list)


class Fleet:
    """Runs a Scenario against real sandboxes; run() returns the ground truth."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        handler: str | None = None,
        code_dir: Path | str | None = None,
        env: dict[str, str] | None = None,
        progress: Callable[[str], None] | None = None,
        progress_every_s: float = 1.0,
        invocation_timeout_s: float = 120.0,
        log_dir: Path | None = None,
        front_end: FrontEnd | None = None,
        layers: list[str] | None = None,
        stop_on_init_failure: bool = False,
    ) -> None:
        """stop_on_init_failure: raise InitFailed at the first failed INIT (after stopping
        every sandbox and keeping the logs) instead of replaying the rest as Lambda would."""
        self.scenario = scenario
        self.front_end = front_end or FrontEnd.of(scenario)  # None: events as given
        self.stop_on_init_failure = stop_on_init_failure
        self.log_dir = log_dir
        self.function = scenario.function_config(handler, code_dir, env, layers)
        self.progress = progress
        self.progress_every_s = progress_every_s
        self.invocation_timeout_s = invocation_timeout_s
        self._events: queue.Queue[tuple[str, _Slot, Any]] = queue.Queue()
        self._slots: list[_Slot] = []
        self._t0 = 0.0
        self._lock = threading.Lock()  # the replay's; also taken on an API thread (_ready_now)
        self._replay: Replay | None = None
        self._work = LaterWork(self._lock)

    # helpers ---------------------------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic() - self._t0

    def _new_sandbox(self, reason: str, started_for: int | None = None) -> _Slot:
        sandbox = Sandbox(self.function, name=f"sbx{len(self._slots) + 1:03d}")
        record = SandboxRecord(
            name=sandbox.name,
            reason=reason,
            log_stream=sandbox.log_stream_name,
            started_for=started_for,
        )
        slot = _Slot(sandbox, record, created_at=self._now())
        self._slots.append(slot)
        sandbox.api.on_ready = functools.partial(self._ready_now, slot)
        self._work.later(functools.partial(self._start_sandbox, slot))
        return slot

    def _start_sandbox(self, slot: _Slot) -> None:
        slot.sandbox.start()
        slot.record.init_start_ns = slot.sandbox.api.init_start_ns
        slot.record.pid = slot.sandbox.pid
        self._work.start_thread(self._watch_init, slot)

    def _ready_now(self, slot: _Slot) -> None:
        """On the sandbox's API thread, its runtime in next with INIT over: a pending request
        handed over now, as Lambda's Runtime API does (the loop's locked steps are short)."""
        rp = self._replay
        if rp is None or slot.state != "init" or not slot.sandbox.api.init_done:
            return
        with self._lock:
            if slot.state == "init":
                self._on_ready(slot, slot.sandbox.wait_init(), rp.pending)
        if self._work:
            self._events.put(("wake", slot, None))  # the loop starts what this left

    def _watch_init(self, slot: _Slot) -> None:
        try:
            outcome = slot.sandbox.wait_init()
            self._events.put(("ready", slot, outcome))
        except Exception as exc:  # report, never hang the loop
            self._events.put(("ready", slot, exc))

    def _run_invocation(self, slot: _Slot, req: RequestRecord, event: Any) -> None:
        try:  # queued on this thread: a runtime waiting in next needs no other to start
            inv = slot.sandbox.submit(event, start_ns=req.arrival_ns)
        except Exception as exc:
            self._events.put(("done", slot, (req, exc)))
            return
        # The loop starts its waiter: starting a thread here would hold up the hand-over on
        # the sandbox's API thread until the new thread got a CPU.
        self._events.put(("served", slot, (req, inv)))

    def _await_invocation(self, slot: _Slot, req: RequestRecord, inv: Any) -> None:
        result: InvocationResult | Exception
        try:
            result = inv.wait(self.invocation_timeout_s)
        except Exception as exc:
            result = exc
        self._events.put(("done", slot, (req, result)))

    def _shutdown(self, slot: _Slot, reason: str) -> None:
        slot.state = "gone"
        slot.record.shutdown_reason = reason
        self._work.spawn(slot.sandbox.shutdown, reason)

    # the frontend ----------------------------------------------------------------------------
    def run(self) -> FleetResult:
        """Replay the scenario; always shuts every sandbox down (also on errors and Ctrl-C)."""
        try:
            with prompt_hand_overs():
                return self._run()
        finally:
            for slot in self._slots:
                slot.sandbox.kill()
                if self.log_dir is not None:
                    slot.record.log_path = self._keep_log(slot)

    def _keep_log(self, slot: _Slot) -> Path | None:
        """Copy the sandbox's output out of its directory (removed at kill), one file each."""
        assert self.log_dir is not None
        try:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            path = self.log_dir / f"{slot.record.name}.log"
            path.write_text(slot.sandbox.logs(), encoding="utf-8")
            return path
        except OSError:
            return None

    def _run(self) -> FleetResult:
        sc = self.scenario
        rp = Replay(
            requests=[RequestRecord(i, t) for i, t in enumerate(sc.arrival_times())],
            controls=sorted(
                [(t, "deploy") for t in sc.deploys] + [(t, "rotate") for t in sc.rotations]
            ),
        )
        started_ns = time.time_ns()
        self._t0 = time.monotonic()
        self._replay = rp
        with self._lock:
            for _ in range(sc.prewarm):
                self._new_sandbox("prewarm")
        self._work.run()
        last_arrival = rp.requests[-1].arrival_s if rp.requests else 0.0
        deadline = last_arrival + self.invocation_timeout_s + 60.0
        while True:
            now = self._now()
            if now > deadline:
                raise TimeoutError(f"scenario {sc.name!r} did not finish within {deadline:.0f}s")
            with self._lock:
                self._admit(rp, now)
                self._assign(rp.pending)
            self._work.run()
            self._handle_events(rp)
            with self._lock:
                self._assign(rp.pending)
                self._expire_and_retire()
            self._work.run()
            if self.progress and now - rp.last_progress >= self.progress_every_s:
                rp.last_progress = now
                self.progress(
                    self._status_line(now, rp.next_arrival, len(rp.requests), rp.outstanding)
                )
            if rp.finished:
                break
        self._drain_and_stop()
        wall = time.monotonic() - self._t0
        return FleetResult(sc, rp.requests, [s.record for s in self._slots], started_ns, wall)

    def _admit(self, rp: Replay, now: float) -> None:
        """Due controls (deploy, rotate), then due arrivals, each placed before the next: an
        arrival that finds no idle sandbox starts one (up to concurrency), as Lambda does."""
        sc = self.scenario
        while rp.next_control < len(rp.controls) and rp.controls[rp.next_control][0] <= now:
            self._control(rp.controls[rp.next_control][1])
            rp.next_control += 1
        while rp.next_arrival < len(rp.requests) and rp.requests[rp.next_arrival].arrival_s <= now:
            req = rp.requests[rp.next_arrival]
            req.arrival_ns = time.time_ns()
            rp.pending.append(req)
            rp.next_arrival += 1
            rp.outstanding += 1
            # Place it now, before the next arrival of the same moment looks for an idle
            # sandbox: otherwise two simultaneous requests both see the one idle sandbox.
            self._assign(rp.pending)
            if rp.pending and rp.pending[-1] is req and self._active_count() < sc.concurrency:
                slot = self._new_sandbox("request", started_for=req.index)
                if not sc.eager_assignment:
                    slot.pending_for.append(req.index)

    def _handle_events(self, rp: Replay) -> None:
        """Wait for a sandbox event, a tick at most and never past the next arrival's time (an
        arrival stamped late would be a false near-tie in the truth); take all queued."""
        timeout = _TICK_S
        due = rp.next_due_s
        if due is not None:
            timeout = max(0.0, min(timeout, due - self._now()))
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return
        with self._lock:
            self._take_events(rp, event)
        self._work.run()

    def _take_events(self, rp: Replay, event: tuple[str, _Slot, Any]) -> None:
        while True:
            kind, slot, data = event
            if kind == "ready":
                self._on_ready(slot, data, rp.pending)
            elif kind == "done":
                self._on_done(slot, data)
                rp.outstanding -= 1
            elif kind == "served":
                self._work.spawn(self._await_invocation, slot, *data)
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return

    def _on_ready(self, slot: _Slot, data: Any, pending: deque[RequestRecord]) -> None:
        """INIT ended (done or failed): record it; a sandbox that was initializing turns idle."""
        slot.record.init_end_ns = slot.sandbox.api.init_done_ns or time.time_ns()
        slot.record.init_status = getattr(data, "status", "error")
        if slot.record.init_status in ("error", "exited"):
            slot.record.init_error_type = getattr(data, "error_type", None)
            slot.record.init_error_message = getattr(data, "message", str(data))
            slot.record.logs_tail = slot.sandbox.logs()[-4000:]
            if self.stop_on_init_failure:
                raise InitFailed(slot.record)
        if slot.state == "init":
            slot.state = "idle"
            slot.idle_since = self._now()
            self._assign(pending, just_ready=slot)

    def _on_done(self, slot: _Slot, data: Any) -> None:
        """An invocation completed: record it; the sandbox is idle again, or gone if broken."""
        req, result = data
        req.take_result(result)
        if getattr(result, "init_rerun", False):
            slot.record.init_end_ns = slot.sandbox.api.init_done_ns
        slot.state = "idle"
        slot.idle_since = self._now()
        if slot.record.init_status != "done" and slot.sandbox.init_outcome is not None:
            slot.record.init_status = slot.sandbox.init_outcome.status
        if not slot.sandbox.running and slot.record.init_status != "done":
            self._shutdown(slot, "failure")

    def _drain_and_stop(self) -> None:
        """Let late exports arrive for drain_s, then spin every sandbox down."""
        drain_end = time.monotonic() + self.scenario.drain_s
        while time.monotonic() < drain_end:
            time.sleep(_TICK_S)
        with self._lock:
            for slot in self._slots:
                if slot.state != "gone":
                    self._shutdown(slot, "spindown")
        self._work.run()
        for t in self._work.threads:
            t.join(timeout=5)

    def _idle_slots(self) -> list[_Slot]:
        return [s for s in self._slots if s.state == "idle" and not s.retire]

    def _active_count(self) -> int:
        return sum(1 for s in self._slots if s.state in ("init", "idle", "busy") and not s.retire)

    def _bound_match(self, pending: deque[RequestRecord]) -> tuple[RequestRecord, _Slot] | None:
        """Without eager assignment: the first pending request with a sandbox to run on, the one
        started for it or else an idle one nobody waits for. A request whose own sandbox is still
        initializing does not hold up those queued behind it (Lambda has no such line)."""
        free = [s for s in self._idle_slots() if not s.pending_for]
        for req in pending:
            owner = next((s for s in self._slots if req.index in s.pending_for), None)
            if owner is None and free:
                return req, free[0]
            if owner is not None and owner.state == "idle" and not owner.retire:
                return req, owner
        return None

    def _assign(self, pending: deque[RequestRecord], just_ready: _Slot | None = None) -> None:
        sc = self.scenario
        while pending:
            if sc.eager_assignment:
                idle = self._idle_slots()
                if not idle:
                    return
                # Prefer a sandbox that has never served (deterministic; Lambda does not say).
                idle.sort(key=lambda s: (s.record.invocations > 0, s.idle_since))
                slot = idle[0]
                req = pending.popleft()
            else:
                found = self._bound_match(pending)
                if found is None:
                    return
                req, slot = found
                pending.remove(req)
                if req.index in slot.pending_for:
                    slot.pending_for.remove(req.index)
            prior = slot.record.invocations
            waited = waited_for_init(
                prior_invocations=prior,
                arrival_ns=req.arrival_ns,
                init_end_ns=slot.record.init_end_ns,
                init_status=slot.record.init_status,
                became_ready_now=just_ready is slot,
            )
            req.verdict = request_verdict(prior_invocations=prior, waited=waited).value
            if prior == 0:
                slot.record.waited_for = waited
                slot.record.first_invocation_ns = time.time_ns()
            slot.record.invocations += 1
            req.sandbox = slot.record.name
            req.assigned_ns = time.time_ns()
            req.waited_for_init = waited
            req.sandbox_invocation = slot.record.invocations
            slot.state = "busy"
            event = sc.event_for(req.index)
            if self.front_end is not None:
                event = self.front_end.stamp(event, req.arrival_ns)
            if slot.sandbox.queues_at_once:
                self._run_invocation(slot, req, event)
            else:  # submit re-runs INIT first: never on the loop's thread
                self._work.spawn(self._run_invocation, slot, req, event)

    def _control(self, kind: str) -> None:
        live = [s for s in self._slots if s.state in ("init", "idle", "busy") and not s.retire]
        if kind == "deploy":
            # A new version: every current sandbox retires, Lambda pre-warms replacements.
            for s in live:
                s.retire = True
            for _ in range(max(self.scenario.prewarm, 1)):
                self._new_sandbox("deploy")
        elif kind == "rotate" and live:
            oldest = min(live, key=lambda s: s.created_at)
            oldest.retire = True
            self._new_sandbox("rotation")

    def _expire_and_retire(self) -> None:
        expiry = self.scenario.idle_expiry_s
        now = self._now()
        for s in self._slots:
            if s.state != "idle":
                continue
            if s.retire or (expiry is not None and now - s.idle_since > expiry):
                self._shutdown(s, "spindown")

    def _status_line(self, now: float, arrived: int, total: int, outstanding: int) -> str:
        n = [s.state for s in self._slots].count
        return (
            f"t={now:5.1f}s requests {arrived - outstanding}/{total} done, {outstanding} in "
            f"flight; sandboxes {len(self._slots)} (init {n('init')}, busy {n('busy')}, "
            f"idle {n('idle')}, gone {n('gone')})"
        )

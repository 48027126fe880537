"""What watches INIT in the runtime process: when it starts and ends, the import tracer and the
sandbox-local state file.

It subscribes to the lifecycle events itself (the runtime's ``next`` and each event it hands
over, INIT end or error, each response, a snapshot and a restore, shutdown); the owner starts
it at our first line inside a sandbox.
"""

from __future__ import annotations

import os
import threading
import time

from ._core import events as ev
from ._core.report import report_once
from ._core.timeline import InitRecord, SandboxTimeline
from ._core.vocabulary import (
    END_RESTORE_NEXT,
    END_RUNTIME_NEXT,
    PHASE_INVOKE,
    PHASE_RESTORE,
    SNAP_START,
    START_IMPORT,
    START_PROC,
    START_RESTORE,
    WORKER_PID,
)
from ._probes.process import (
    forked_worker,
    lineage,
    parent_start_ns,
    process_start_ns,
    thread_cpu_wait_ns,
)

TYPE_CHECKING = False  # typing costs ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from typing import Protocol

    from ._core.config import Config
    from ._core.environment import SandboxEnvironment
    from ._core.events import Event, LifecycleEvents
    from ._core.records import ChildRecords
    from ._core.vocabulary import EndSource

    class WatchHost(Protocol):
        """What the INIT watch needs of the sandbox's owner."""

        config: Config
        env: SandboxEnvironment
        timeline: SandboxTimeline
        records: ChildRecords

        @property
        def managed_instances(self) -> bool: ...
        def end_init(self, end_ns: int, source: EndSource) -> None: ...
        def window_exported(self) -> bool:
            """Whether the response window that just ended exported (an export cadence
            skips some): the counter is written with the exports."""

    from ._probes.imports import ImportTracer
    from ._probes.state_file import StateFile


def init_start(managed_instances: bool, now_ns: int | None = None) -> InitRecord:
    """INIT start: this process's start, else now (our import)."""
    start = process_start_ns()
    if managed_instances and forked_worker():
        # An LMI worker's own start is its fork; the sandbox's INIT began when the runtime
        # main process (its parent) started, and the worker's INIT (importing the handler) is
        # part of that wait: the init span starts there.
        start = parent_start_ns() or start
    if start is not None:
        return InitRecord(start, START_PROC)
    return InitRecord(now_ns or time.time_ns(), START_IMPORT)


class InitWatch:
    """The import tracer and the state file of this process, and their reactions."""

    def __init__(self, host: WatchHost) -> None:
        self._host = host
        self.import_tracer: ImportTracer | None = None
        self.state_file: StateFile | None = None
        self._ready_wait: tuple[int, int] | None = None  # (thread, its CPU wait) as next left

    def subscribe(self, events: LifecycleEvents) -> None:
        events.subscribe(ev.NEXT_REQUESTED, self._on_next_requested)
        events.subscribe(ev.INVOCATION_RECEIVED, self._on_invocation_received)
        events.subscribe(ev.BEFORE_SNAPSHOT, self._on_before_snapshot)
        events.subscribe(ev.INIT_END, self._on_init_end)
        events.subscribe(ev.INIT_ERROR, self._on_init_error)
        events.subscribe(ev.RESPONSE_POSTED, self._on_response_posted, last=True)
        events.subscribe(ev.RESTORED, self._on_restored)
        events.subscribe(ev.SHUTDOWN, self._on_shutdown)

    def start(self) -> None:
        """Inside a sandbox, at our first line: trace slow imports and read the state file."""
        # Imported here: the probes only run inside a sandbox, and a unit test or a script
        # importing the package must not pay for them.
        from ._probes.imports import ImportTracer

        tracer = ImportTracer(
            self._host.records, self._host.config.import_threshold_ms, self._host.env.task_root
        )
        tracer.start()
        self.import_tracer = tracer
        if self._host.env.initialization_type != SNAP_START:
            # The snapshot would copy per-sandbox state into every restored sandbox.
            self._begin_state_file(self._state_key())
        if self._host.managed_instances and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._forked_as_worker)

    def stop(self) -> None:
        """Stop the import tracer (idempotent)."""
        if self.import_tracer is not None:
            self.import_tracer.stop()

    def count_invocation(self, write: bool = True) -> None:
        if self.state_file is not None:
            self.state_file.count_invocation(write=write)

    def _state_key(self, worker: bool = False) -> str | None:
        # LMI workers share /tmp and their parent: each keeps its own history.
        worker = worker or (self._host.managed_instances and forked_worker())
        from ._core.history import sandbox_key

        return sandbox_key(
            self._host.env.log_stream_name, self._host.env.runtime_api, lineage(worker)
        )

    def _forked_as_worker(self) -> None:
        """This process is an LMI worker forked after we started in the runtime main
        process (the wrapper route): its own state file and its own INIT from here."""
        try:
            self.state_file = None
            self._host.timeline.init.history = {}
            # multiprocessing tells its child apart only after the fork hooks ran: every
            # process the LMI main process forks is a worker, with its own key.
            self._begin_state_file(self._state_key(worker=True))
            self._host.timeline.init.history[WORKER_PID] = os.getpid()
        except Exception:
            report_once("lmi-fork", "could not set up the forked worker's state")

    def _begin_state_file(self, key: str | None) -> None:
        if not key:
            return
        from ._core.history import failed_attempt_record
        from ._probes.state_file import StateFile, state_dir, state_path

        init = self._host.timeline.init
        state = StateFile(state_path(key, state_dir()), os.getpid())
        previous = state.begin(init.start_ns)
        self.state_file = state
        init.history = previous.init_span_attributes()
        if self._host.managed_instances and forked_worker():
            init.history[WORKER_PID] = os.getpid()
        if previous.reran:
            init.phase = PHASE_INVOKE
            self._host.timeline.invocations_before = previous.invocations
            record = failed_attempt_record(previous, init.start_ns)
            if record is not None:
                self._host.records.add(record)

    # -- reactions ----------------------------------------------------------------------------
    def _on_next_requested(self, event: Event) -> None:
        init = self._host.timeline.init
        if init.end_ns is None:  # every invocation comes here: INIT ends once
            self._host.end_init(event.time_ns, END_RUNTIME_NEXT)
        if init.ready_ns is None and init.end_ns is not None:
            wait = thread_cpu_wait_ns()
            if wait is not None:
                self._ready_wait = (threading.get_ident(), wait)
            init.ready_ns = time.time_ns()  # after what INIT end did here: next leaves now

    def _on_invocation_received(self, event: Event) -> None:
        init = self._host.timeline.init
        if init.received_ns is not None or init.ready_ns is None:
            return
        trip = event.next_trip
        if trip is not None and init.ready_ns <= trip.sent_ns <= trip.returned_ns:
            # A helper thread made the call: from its own stamps, the hand-over leaves out
            # the helper's start and the main thread's wake-up (neither idle nor waiting).
            init.ready_ns, init.received_ns = trip.sent_ns, trip.returned_ns
            init.next_cpu_wait_ns = trip.cpu_wait_ns
            return
        init.received_ns = event.time_ns  # the first event's hand-over: the idle gap ends
        wait, ready = event.cpu_wait_ns, self._ready_wait
        if wait is not None and ready is not None and ready[0] == threading.get_ident():
            init.next_cpu_wait_ns = max(0, wait - ready[1])

    def _on_before_snapshot(self, event: Event) -> None:
        self._host.end_init(event.time_ns, END_RESTORE_NEXT)  # the snapshot's INIT is over

    def _stop_watching_init(self) -> None:
        self.stop()
        if self._host.timeline.init.cpu_ns is None:
            self._host.timeline.init.cpu_ns = time.process_time_ns()

    def _on_init_end(self, event: Event) -> None:
        self._stop_watching_init()
        if self.state_file is not None:
            self.state_file.init_done()

    def _on_init_error(self, event: Event) -> None:
        self._stop_watching_init()
        if self.state_file is not None:
            self.state_file.init_failed()

    def _on_response_posted(self, event: Event) -> None:
        # Under an export cadence the counter is written with the exports (and at SIGTERM):
        # the windows that export nothing write nothing either.
        self.count_invocation(write=self._host.window_exported())

    def _on_restored(self, event: Event) -> None:
        """A restored SnapStart sandbox: its restore is the INIT to watch, with its own state."""
        import random

        self._host.records.reset()
        self._host.timeline.restart(InitRecord(event.time_ns, START_RESTORE, phase=PHASE_RESTORE))
        self.state_file = None
        self._begin_state_file(f"restore-{random.getrandbits(64):016x}")

    def _on_shutdown(self, event: Event) -> None:
        if self.state_file is not None:
            self.state_file.write_pending()

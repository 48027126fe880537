"""The sandbox's timeline: when INIT started and ended, and which invocation this is.

One ``SandboxTimeline`` per process, owned by the sandbox owner; the probes measure the
times and pass them in.
"""

from __future__ import annotations

import threading

from . import vocabulary as v
from .vocabulary import PHASE_INIT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .vocabulary import EndSource, Phase, StartSource


# Plain slotted classes, not dataclasses: this module is on every cold start's import path
# and dataclass code generation costs milliseconds there.
class InitRecord:
    """INIT as observed from inside the runtime process: its bounds, where they came from,
    and what the probes learned about it (our first line, CPU at its end, earlier attempts).
    """

    __slots__ = (
        "start_ns",
        "start_source",
        "end_ns",
        "end_source",
        "phase",
        "first_line_ns",
        "cpu_ns",
        "handler_code_before_us",
        "history",
        "ready_ns",
        "received_ns",
        "request_received_ns",
        "platform_end_ns",
        "next_cpu_wait_ns",
    )

    def __init__(
        self,
        start_ns: int,
        start_source: StartSource,
        end_ns: int | None = None,
        end_source: EndSource | None = None,
        phase: Phase = PHASE_INIT,
    ) -> None:
        self.start_ns = start_ns
        self.start_source = start_source
        self.end_ns = end_ns
        self.end_source = end_source
        self.phase = phase
        self.first_line_ns: int | None = None  # our code's first line in this process
        self.cpu_ns: int | None = None  # process CPU time at INIT end
        self.handler_code_before_us = False  # the handler module imported us (manual route)
        self.history: dict[str, int | bool] = {}  # init span attributes from earlier processes
        # When the runtime's first ``next`` left the process, after what INIT end triggered
        # in here (the separate mode's export): from then on the sandbox was ready.
        self.ready_ns: int | None = None
        # When that ``next`` returned with the first event: the platform's hand-over, before
        # the runtime client's and the handler wrapper's own work.
        self.received_ns: int | None = None
        # When AWS received the first request, by the trigger's own clock (event_time.py).
        self.request_received_ns: int | None = None
        # INIT end as the platform reports it, extensions included (Telemetry API), if known.
        self.platform_end_ns: int | None = None
        # How much of that first ``next`` the runtime spent waiting for a CPU (a busy host,
        # a CPU quota): between ready_ns and received_ns, but not idle.
        self.next_cpu_wait_ns: int | None = None

    def __repr__(self) -> str:
        return (
            f"InitRecord(start_ns={self.start_ns}, start_source={self.start_source!r}, "
            f"end_ns={self.end_ns}, end_source={self.end_source!r}, phase={self.phase!r})"
        )


class SandboxTimeline:
    """Facts about this sandbox's life, owned by one object per process."""

    __slots__ = ("init", "invocations", "invocations_before", "_lock")

    def __init__(self, init: InitRecord, invocations: int = 0) -> None:
        self.init = init
        self.invocations = invocations
        self.invocations_before = 0  # served by earlier runtime processes of this sandbox
        self._lock = threading.Lock()

    @property
    def init_over(self) -> bool:
        return self.init.end_ns is not None

    def mark_init_end(self, end_ns: int, source: EndSource) -> bool:
        """Record INIT end once; later calls are ignored. Returns True the first time."""
        with self._lock:
            if self.init.end_ns is not None:
                return False
            self.init.end_ns = end_ns
            self.init.end_source = source
            return True

    def restart(self, init: InitRecord) -> None:
        """A SnapStart restore: the restore is this sandbox's INIT, no invocation yet."""
        with self._lock:
            self.init = init
            self.invocations = 0

    def begin_invocation(self) -> int:
        """Count an invocation; returns its 1-based number in this process."""
        with self._lock:
            self.invocations += 1
            return self.invocations

    def invocation_attributes(self, number: int) -> dict[str, bool | int]:
        """What an invocation span says of its place in the sandbox: the sandbox-wide counter
        (continuing across runtime restarts) and, after this process's first, that it is
        warm. The first one's cold-start verdict comes from the init span emitter."""
        attrs: dict[str, bool | int] = {v.SANDBOX_INVOCATION: number + self.invocations_before}
        if number > 1:
            attrs[v.FAAS_COLDSTART] = False
        return attrs

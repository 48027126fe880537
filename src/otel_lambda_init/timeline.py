"""The sandbox's timeline: when INIT really started and ended, and which invocation this is.

One ``SandboxTimeline`` per process owns these facts; the rest of the package reads them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

_logger = logging.getLogger("otel_lambda_init")

START_SOURCE_PROC = "proc"
START_SOURCE_IMPORT = "import"

IMPORTED_NS = time.time_ns()


def process_start_ns(stat_path: str = "/proc/self/stat") -> int | None:
    """Epoch ns at which this process started (exec keeps it: a wrapper script counts too).

    ``/proc/self/stat`` field 22 is clock ticks since boot (CLOCK_BOOTTIME); ticks are
    usually 10 ms, and rounding down keeps the start at or before the real one.
    """
    try:
        with open(stat_path, "rb") as stat:
            data = stat.read()
        fields = data[data.rindex(b")") + 2 :].split()
        start_ticks = int(fields[19])
        hz = os.sysconf("SC_CLK_TCK")
        now_ns = time.time_ns()
        since_boot_ns = time.clock_gettime_ns(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    start_ns = now_ns - (since_boot_ns - start_ticks * 1_000_000_000 // hz)
    if start_ns > now_ns:
        return None
    return start_ns


# Plain slotted classes, not dataclasses: this module is on every cold start's import path
# and dataclass code generation costs milliseconds there.
class InitRecord:
    """INIT as observed from inside the runtime process."""

    __slots__ = ("start_ns", "start_source", "end_ns", "end_source", "phase")

    def __init__(
        self,
        start_ns: int,
        start_source: str,
        end_ns: int | None = None,
        end_source: str | None = None,
        phase: str = "init",
    ) -> None:
        self.start_ns = start_ns
        self.start_source = start_source
        self.end_ns = end_ns
        self.end_source = end_source
        self.phase = phase

    def __repr__(self) -> str:
        return (
            f"InitRecord(start_ns={self.start_ns}, start_source={self.start_source!r}, "
            f"end_ns={self.end_ns}, end_source={self.end_source!r}, phase={self.phase!r})"
        )


class SandboxTimeline:
    """Facts about this sandbox's life, owned by one object per process."""

    __slots__ = (
        "init",
        "invocations",
        "invocations_before",
        "_lock",
        "_init_end_listeners",
    )

    def __init__(self, init: InitRecord, invocations: int = 0) -> None:
        self.init = init
        self.invocations = invocations
        self.invocations_before = 0  # served by earlier runtime processes of this sandbox
        self._lock = threading.Lock()
        self._init_end_listeners: list[Callable[[int], None]] = []

    def mark_init_end(self, end_ns: int, source: str) -> bool:
        """Record INIT end once; later calls are ignored. Returns True the first time."""
        with self._lock:
            if self.init.end_ns is not None:
                return False
            self.init.end_ns = end_ns
            self.init.end_source = source
            listeners = list(self._init_end_listeners)
        for listener in listeners:
            try:
                listener(end_ns)
            except Exception:  # a listener's bug must not stop the runtime's next call
                _logger.exception("otel-lambda-init: INIT-end listener failed")
        return True

    def on_init_end(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(end_ns)`` when INIT ends (at once if it already has)."""
        with self._lock:
            end_ns = self.init.end_ns
            if end_ns is None:
                self._init_end_listeners.append(listener)
                return
        listener(end_ns)

    def begin_invocation(self) -> int:
        """Count an invocation; returns its 1-based number in this sandbox."""
        with self._lock:
            self.invocations += 1
            return self.invocations

    def invocation_attributes(self, number: int) -> dict[str, bool | int]:
        """What an invocation span says of its place in the sandbox: the sandbox-wide counter
        (continuing across runtime restarts) and, after this process's first, that it is
        warm. The first one's cold-start verdict comes from the init span emitter."""
        attrs: dict[str, bool | int] = {
            "lambda_init.sandbox_invocation": number + self.invocations_before
        }
        if number > 1:
            attrs["faas.coldstart"] = False
        return attrs


def _new_timeline() -> SandboxTimeline:
    proc_start = process_start_ns()
    if proc_start is not None:
        return SandboxTimeline(InitRecord(proc_start, START_SOURCE_PROC))
    return SandboxTimeline(InitRecord(IMPORTED_NS, START_SOURCE_IMPORT))


_timeline: SandboxTimeline | None = None
_timeline_lock = threading.Lock()


def sandbox_timeline() -> SandboxTimeline:
    """This process's timeline, created on first use."""
    global _timeline
    if _timeline is None:
        with _timeline_lock:
            if _timeline is None:
                _timeline = _new_timeline()
    return _timeline


def reset_timeline_for_tests(timeline: SandboxTimeline | None = None) -> None:
    """Replace the process's timeline (tests only)."""
    global _timeline
    _timeline = timeline


def watch_runtime_next(on_next: Callable[[int], None] | None = None) -> bool:
    """Make the runtime client's first "next" call mark INIT end (guarded).

    If the runtime client is not loaded, nothing changes and INIT end falls back to when the
    handler module finished importing. Returns True when a runtime client was found.
    """
    from .runtime_client import hook_runtime_client

    def before_next(_args: tuple[Any, ...]) -> None:
        now = time.time_ns()
        sandbox_timeline().mark_init_end(now, "runtime-next")
        if on_next is not None:
            on_next(now)

    return hook_runtime_client("wait_next_invocation", "init-end", before=before_next)

"""Evidence of a stalled sandbox, taken while it is still stalled: every thread's stack of the
runtime's processes (py-spy, when installed) and of the simulator, and the API's view.

An INIT still running after INIT_STALL_S, or an invocation unanswered (or answered but not
complete) after STALL_S, is written to a file under evidence_dir(), named on the test process's
stderr (pytest shows it with a failure) and in the outcome or result. Nothing runs unless a
phase stalls but one watch thread, nothing is sent to the function's processes (py-spy reads
them without pausing them), and no failure here changes what the sandbox does.
"""

from __future__ import annotations

import heapq
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .invocation import Invocation
    from .sandbox import Sandbox

__all__ = [
    "STALL_S",
    "RequestLog",
    "SeenRequest",
    "evidence_dir",
    "record_stall",
    "watch_init",
    "watch_invocation",
]

# No progress for this long, well inside the usual 30 s bounds of tests and function timeouts,
# is a stall worth a record; caps and timeouts shorter than this are a test's own choice.
STALL_S = 10.0
INIT_STALL_S = 7.0  # Lambda's INIT cap is 10 s: record before it kills the runtime
_PY_SPY_S = 10.0  # per process; a stalled process answers py-spy at once
_MAX_PROCESSES = 12


def evidence_dir() -> Path:
    """Where records go: outside the sandbox's directory, which is removed when it ends."""
    return Path(tempfile.gettempdir()) / "otel-lambda-sim-stalls"


@dataclass
class SeenRequest:
    """One request the sandbox's APIs received, and when (and how) they answered it."""

    received_ns: int
    method: str
    path: str
    who: str
    answered_ns: int = 0
    status: int = 0


class RequestLog:
    """The last requests a sandbox's Runtime and Extensions APIs saw, in arrival order."""

    def __init__(self, size: int = 400) -> None:
        self.seen: deque[SeenRequest] = deque(maxlen=size)

    def add(self, method: str, path: str, who: str) -> SeenRequest:
        entry = SeenRequest(time.time_ns(), method, path, who)
        self.seen.append(entry)
        return entry

    def lines(self, since_ns: int) -> list[str]:
        def at(ns: int) -> str:
            return f"{(ns - since_ns) / 1e6:+10.1f} ms"

        out = []
        for r in list(self.seen):
            answer = f"{r.status} at {at(r.answered_ns)}" if r.answered_ns else "NOT ANSWERED"
            out.append(f"  {at(r.received_ns)}  {r.method:4} {r.path}  [{r.who}] -> {answer}")
        return out


class _Watchdog:
    """One thread for every sandbox's checks, started at the first: a check is a due time and a
    function; a stalled one starts its own thread to record, so checks never wait on a record."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._count = 0
        self._thread: threading.Thread | None = None

    def after(self, delay_s: float, check: Callable[[], None]) -> None:
        with self._cond:
            self._count += 1
            heapq.heappush(self._due, (time.monotonic() + delay_s, self._count, check))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="otel-lambda-sim-stall-watch", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._due or self._due[0][0] > time.monotonic():
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._cond.wait(wait)
                _, _, check = heapq.heappop(self._due)
            try:
                check()
            except Exception as exc:  # a check must never end the watch
                sys.stderr.write(f"otel_lambda_sim: stall check failed: {exc!r}\n")


_WATCHDOG = _Watchdog()


def _record_in_background(sandbox: Sandbox, what: str, inv: Invocation | None = None) -> None:
    def record() -> None:
        path = record_stall(sandbox, what)
        if inv is not None:
            inv.evidence = path

    threading.Thread(target=record, name="otel-lambda-sim-stall-record", daemon=True).start()


def watch_init(sandbox: Sandbox, generation: int, cap_s: float) -> None:
    """A record when INIT is still running at INIT_STALL_S, before Lambda's cap ends it."""
    if cap_s <= INIT_STALL_S:
        return  # a cap this short is a test's own choice

    def check() -> None:
        api = sandbox.api
        if sandbox._closed or api.generation != generation or api.init_done:
            return
        if api.init_error is None and sandbox.running:
            _record_in_background(sandbox, f"INIT not done after {INIT_STALL_S:g} s")

    _WATCHDOG.after(INIT_STALL_S, check)


def watch_invocation(sandbox: Sandbox, inv: Invocation) -> None:
    """Records when a served invocation has no response after STALL_S, or a response the
    runtime (or an extension) has not followed with next after STALL_S."""
    generation = sandbox.api.generation

    def answered() -> None:
        if not (sandbox._closed or inv.done or sandbox.api.generation != generation):
            what = f"invocation {inv.request_id} answered, not complete after {STALL_S:g} s"
            _record_in_background(sandbox, what, inv)

    def served() -> None:
        if sandbox._closed or inv.done or sandbox.api.generation != generation:
            return
        if inv.responded:
            _WATCHDOG.after(max(0.0, inv.responded_ns / 1e9 + STALL_S - time.time()), answered)
        else:
            what = f"invocation {inv.request_id} not answered after {STALL_S:g} s"
            _record_in_background(sandbox, what, inv)

    if sandbox.function.function_timeout_s > STALL_S:
        _WATCHDOG.after(max(0.0, inv.served_ns / 1e9 + STALL_S - time.time()), served)


def record_stall(sandbox: Sandbox, what: str) -> str | None:
    """Write the record; returns its path (None if even that failed, said on stderr)."""
    try:
        started = time.monotonic()
        text = "\n".join(
            [
                f"otel_lambda_sim stall record: sandbox {sandbox.name}: {what}",
                f"taken {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}",
                *_api_view(sandbox),
                *_runtime_processes(sandbox),
                *_simulator_threads(),
                f"(record took {time.monotonic() - started:.2f} s)",
            ]
        )
        folder = evidence_dir()
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{sandbox.name}-", suffix=".txt", dir=folder)
        with os.fdopen(fd, "w") as out:
            out.write(text + "\n")
        sandbox.stall_records.append(name)
        sys.stderr.write(f"otel_lambda_sim: sandbox {sandbox.name}: {what}; stacks in {name}\n")
        return name
    except Exception as exc:  # evidence must never be what breaks a run
        sys.stderr.write(f"otel_lambda_sim: sandbox {sandbox.name}: {what}; no record: {exc!r}\n")
        return None


def _api_view(sandbox: Sandbox) -> list[str]:
    api, rules = sandbox.api, sandbox.api.rules
    start = rules.init_start_ns or sandbox.created_ns

    def at(ns: int) -> str:
        return f"{(ns - start) / 1e6:.1f} ms" if ns else "never"

    lines = [
        "",
        "== the simulator's view (times from this INIT's start) ==",
        f"generation {rules.generation}; attempts "
        + ", ".join(f"pid {a.pid} exit {a.exit_code}" for a in sandbox.attempts),
        f"runtime ready {at(rules.runtime_ready_ns)}; INIT done {at(rules.init_done_ns)};"
        f" init/error {'posted' if rules.init_error else 'none'}",
    ]
    for ext in list(rules.extensions.values()):
        nexts = ", ".join(at(n) for n in ext.next_ns[-5:]) or "none"
        lines.append(
            f"extension {ext.name} (gen {ext.generation}, events {ext.events}): registered"
            f" {at(ext.registered_ns)}, next at {nexts}, pending {len(ext.pending)}"
        )
    state = rules.current
    if state is not None:
        lines.append(
            f"current invocation {state.request_id}: served {at(state.served_ns)}, responded"
            f" {at(state.responded_ns)}, runtime next {at(state.runtime_next_ns)}"
        )
    lines.append(f"queued invocations {len(api._queue)}; served so far {len(api.served)}")
    lines.append("requests seen on the Runtime and Extensions APIs, in order:")
    lines.extend(api.seen.lines(start))
    return lines


def _group_members(pgids: set[int]) -> list[int]:
    """Every live process in the sandbox's process groups (the runtime, its forks, extensions)."""
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) in pgids:  # state, ppid, pgrp, ...
            found.append(int(entry))
    return sorted(found)


def _runtime_processes(sandbox: Sandbox) -> list[str]:
    pgids = {a.pid for a in sandbox.attempts}
    pids = _group_members(pgids)
    spy = _py_spy()
    lines = ["", f"== the sandbox's processes (groups {sorted(pgids)}): {pids} =="]
    if spy is None:
        lines.append("py-spy not found (PATH or next to the interpreter): no Python stacks")
    for pid in pids[:_MAX_PROCESSES]:
        lines.append(f"-- pid {pid}: {_read(f'/proc/{pid}/cmdline').replace(chr(0), ' ')}")
        lines.append("   signals (hex masks): " + _signal_masks(pid))
        lines.extend(_thread_states(pid))
        if spy is not None:
            lines.extend(_spy_dump(spy, pid))
    return lines


def _thread_states(pid: int) -> list[str]:
    """Each thread's kernel state and wait channel: a futex wait is a lock, even in C."""
    out = []
    try:
        tids = sorted(os.listdir(f"/proc/{pid}/task"), key=int)
    except OSError:
        return ["   (gone)"]
    for tid in tids:
        base = f"/proc/{pid}/task/{tid}"
        stat = _read(f"{base}/stat")
        state = stat[stat.rindex(")") + 2 :].split()[0] if ")" in stat else "?"
        out.append(
            f"   thread {tid} {_read(f'{base}/comm').strip()!r}: state {state},"
            f" wchan {_read(f'{base}/wchan') or '?'}"
        )
    return out


def _signal_masks(pid: int) -> str:
    """Pending, blocked, ignored and caught signals: SIGTERM (bit 15) caught by a Python
    handler, or pending and blocked, is how a child outlives its parent's terminate."""
    wanted = ("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")
    status = _read(f"/proc/{pid}/status").splitlines()
    return ", ".join(ln.replace(":\t", " ") for ln in status if ln.startswith(wanted))


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def _spy_dump(spy: str, pid: int) -> list[str]:
    try:
        done = subprocess.run(
            [spy, "dump", "--nonblocking", "--pid", str(pid)],
            capture_output=True,
            text=True,
            timeout=_PY_SPY_S,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return [f"   py-spy failed: {exc!r}"]
    return ["   " + ln for ln in (done.stdout + done.stderr).splitlines()]


def _simulator_threads() -> list[str]:
    names = {t.ident: t.name for t in threading.enumerate()}
    lines = ["", "== the simulator's threads (the test process) =="]
    for ident, frame in sys._current_frames().items():
        lines.append(f"-- thread {names.get(ident, '?')} ({ident})")
        lines.extend(ln.rstrip() for ln in traceback.format_stack(frame))
    return lines


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""

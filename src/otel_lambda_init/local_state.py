"""Sandbox-local state: what earlier runtime processes of this sandbox did.

Lambda re-runs a timed-out INIT inside the first invocation, and restarts a runtime that
crashed, in the same sandbox with the same ``/tmp``. A small JSON state machine in the
sandbox's temporary directory, keyed by the sandbox's log stream, lets the new process know:

    (absent) --INIT starts--> running --INIT ends--> done --invocation--> done, n+1
                                 \\--INIT raises--> error

A process that finds the last attempt ``running`` or ``error`` is a re-run INIT (phase
``invoke``; the earlier attempt becomes an ERROR child of the init span); one that finds it
``done`` is a restarted runtime (the invocation counter continues).
"""

from __future__ import annotations

import json
import os

from .anatomy import KIND_FAILED_ATTEMPT, ChildRecord, anatomy

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INIT_CAP_NS = 10_000_000_000
"""On-demand INIT is capped at 10 s: an attempt that never finished ended there at the latest."""

RUNNING, DONE, ERROR = "running", "done", "error"
_VERSION = 1


def state_dir(environ: Any = None) -> str:
    """The sandbox's temporary directory, as ``tempfile.gettempdir()`` finds it (without
    importing ``tempfile`` on the INIT path)."""
    env = os.environ if environ is None else environ
    for name in ("TMPDIR", "TEMP", "TMP"):
        value = env.get(name)
        if value and os.path.isdir(value):
            return str(value)
    return "/tmp"


def state_path(key: str, directory: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in key)[-120:]
    return os.path.join(directory, f"otel-lambda-init-{safe}.json")


class Previous:
    """What this process learned about earlier processes of its sandbox."""

    __slots__ = ("attempt", "failed_status", "failed_start_ns", "restarted", "invocations")

    def __init__(self) -> None:
        self.attempt = 1
        self.failed_status: str | None = None
        self.failed_start_ns: int | None = None
        self.restarted = False
        self.invocations = 0

    @property
    def reran(self) -> bool:
        """This INIT runs again inside an invocation (Lambda's phase ``invoke``)."""
        return self.failed_status is not None or self.restarted


class LocalState:
    """The state file of one sandbox, read at INIT start and updated at each transition."""

    def __init__(self, path: str, pid: int) -> None:
        self.path = path
        self.pid = pid
        self.data: dict[str, Any] = {"v": _VERSION, "attempts": [], "invocations": 0}

    def begin(self, start_ns: int) -> Previous:
        """INIT starts in this process: read what came before, then record our attempt."""
        previous = Previous()
        data = self._read()
        if data is not None:
            self.data = data
            attempts = data["attempts"]
            previous.attempt = len(attempts) + 1
            previous.invocations = int(data.get("invocations", 0))
            last = attempts[-1] if attempts else None
            if last is not None and last.get("pid") != self.pid:
                status = last.get("status")
                if status in (RUNNING, ERROR):
                    previous.failed_status = status
                    previous.failed_start_ns = int(last["start_ns"])
                elif status == DONE:
                    previous.restarted = True
        self.data["attempts"].append({"pid": self.pid, "start_ns": start_ns, "status": RUNNING})
        self._write()
        return previous

    def set_status(self, status: str) -> None:
        attempts = self.data["attempts"]
        if attempts and attempts[-1].get("status") == RUNNING:
            attempts[-1]["status"] = status
            self._write()

    def count_invocation(self) -> None:
        self.data["invocations"] = int(self.data.get("invocations", 0)) + 1
        self._write()

    def _read(self) -> dict[str, Any] | None:
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return None
        if (
            not isinstance(data, dict)
            or data.get("v") != _VERSION
            or not isinstance(data.get("attempts"), list)
        ):
            return None
        return data

    def _write(self) -> None:
        # Write then rename: a process killed mid-write (the INIT cap) leaves the old state.
        tmp = f"{self.path}.{self.pid}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.data, f, separators=(",", ":"))
            os.replace(tmp, self.path)
        except OSError:
            from ._safety import report_once

            report_once("local-state", f"could not write {self.path}", exc_info=False)


def failed_attempt_record(previous: Previous, this_start_ns: int) -> ChildRecord | None:
    """The earlier attempt as an ERROR child: from its start to the 10 s cap (or to when this
    process started, if that came first: a scaled or earlier kill)."""
    if previous.failed_start_ns is None:
        return None
    start = previous.failed_start_ns
    end = max(start, min(start + INIT_CAP_NS, this_start_ns))
    timed_out = previous.failed_status == RUNNING
    record = ChildRecord(
        f"failed attempt {previous.attempt - 1}",
        KIND_FAILED_ATTEMPT,
        start,
        {"lambda_init.attempt.outcome": "timeout" if timed_out else "error"},
    )
    record.end_ns = end
    record.error = (
        "INIT did not finish in time; Lambda re-ran it in the first invocation"
        if timed_out
        else "INIT failed; Lambda re-ran it in the next invocation"
    )
    return record


_state: LocalState | None = None
previous: Previous | None = None


def begin_init_in_process(key: str | None = None) -> Previous | None:
    """At our first line: consult and update the sandbox's state (once per process)."""
    global _state, previous
    if _state is not None:
        return previous
    key = key or os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
    if not key:
        return None
    from .timeline import sandbox_timeline

    timeline = sandbox_timeline()
    state = LocalState(state_path(key, state_dir()), os.getpid())
    found = state.begin(timeline.init.start_ns)
    _state, previous = state, found
    if found.reran:
        timeline.init.phase = "invoke"
        timeline.invocations_before = found.invocations
        record = failed_attempt_record(found, timeline.init.start_ns)
        if record is not None:
            anatomy.add(record)
    return found


def on_init_done() -> None:
    if _state is not None:
        _state.set_status(DONE)


def on_init_error() -> None:
    if _state is not None:
        _state.set_status(ERROR)


def on_invocation(_args: tuple[Any, ...] = ()) -> None:
    """The runtime posted an invocation's result (called after the post returns)."""
    if _state is not None:
        _state.count_invocation()


def init_span_attributes() -> dict[str, Any]:
    """What the init span says about earlier processes of this sandbox."""
    if previous is None:
        return {}
    attrs: dict[str, Any] = {"lambda_init.init_attempt": previous.attempt}
    if previous.restarted:
        attrs["lambda_init.runtime_restarted"] = True
    return attrs


def reset_for_tests() -> None:
    global _state, previous
    _state = previous = None

"""What earlier runtime processes of this sandbox did: the state machine behind the
sandbox-local state file, on plain data (the file's I/O is ``_probes/state_file.py``).

Lambda re-runs a timed-out INIT inside the first invocation, and restarts a runtime that
crashed, in the same sandbox with the same ``/tmp``::

    (absent) --INIT starts--> running --INIT ends--> done --invocation--> done, n+1
                                 \\--INIT raises--> error

A process that finds the last attempt ``running`` or ``error`` is a re-run INIT (phase
``invoke``; the earlier attempt becomes an ERROR child of the init span); one that finds it
``done`` is a restarted runtime (the invocation counter continues).
"""

from __future__ import annotations

from . import vocabulary as v
from .records import ChildRecord
from .vocabulary import CHILD_FAILED_ATTEMPT

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INIT_CAP_NS = 10_000_000_000
"""On-demand INIT is capped at 10 s: an attempt that never finished ended there at the latest."""

RUNNING, DONE, ERROR = "running", "done", "error"
_MAX_INT = 2**63 - 1
"""Every number we write fits an OTLP int64: a larger one is not ours (it would break export)."""
_MAX_PID = 2**22
"""Linux's pid_max ceiling."""
VERSION = 1
MAX_ATTEMPTS = 16
"""Attempts kept in the history: a crash-looping runtime must not grow the file forever."""


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

    def init_span_attributes(self) -> dict[str, Any]:
        """What the init span says about earlier processes of this sandbox."""
        attrs: dict[str, Any] = {v.INIT_ATTEMPT: self.attempt}
        if self.restarted:
            attrs[v.RUNTIME_RESTARTED] = True
        return attrs


def empty() -> dict[str, Any]:
    return {"v": VERSION, "attempts": [], "invocations": 0}


def validated(data: Any) -> dict[str, Any] | None:
    """The history if every field is what we wrote, else None (the file is only a hint)."""
    if not isinstance(data, dict) or data.get("v") != VERSION:
        return None
    attempts = data.get("attempts")
    invocations = data.get("invocations", 0)
    if not isinstance(attempts, list) or len(attempts) > MAX_ATTEMPTS:
        return None
    if not _int_in(invocations, 0, _MAX_INT - 1):
        return None
    for attempt in attempts:
        if (
            not isinstance(attempt, dict)
            or not _int_in(attempt.get("pid"), 1, _MAX_PID)
            or not _int_in(attempt.get("start_ns"), 1, _MAX_INT - INIT_CAP_NS)
            or attempt.get("status") not in (RUNNING, DONE, ERROR)
        ):
            return None
    return data


def _int_in(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def sandbox_key(log_stream: str | None, runtime_api: str | None, lineage: str | None) -> str | None:
    """The name of this sandbox's history: the log stream alone is not enough (RIE names
    every run ``$LATEST`` and a host or restarted container keeps ``/tmp``), so it is joined
    with the Runtime API address and the process lineage (boot id, the parent's pid and
    start time: Lambda re-runs INIT and restarts a crashed runtime from the same parent, a
    new RIE run or container is a new parent). None when there is no log stream."""
    if not log_stream:
        return None
    import zlib

    digest = zlib.crc32(f"{runtime_api or ''}|{lineage or ''}".encode()) & 0xFFFFFFFF
    return f"{log_stream[-80:]}-{digest:08x}"


def begin(data: dict[str, Any], pid: int, start_ns: int) -> Previous:
    """INIT starts in process ``pid``: read what came before, then record our attempt."""
    previous = Previous()
    attempts: list[dict[str, Any]] = data["attempts"]
    previous.attempt = len(attempts) + 1
    previous.invocations = int(data.get("invocations", 0))
    last = attempts[-1] if attempts else None
    if last is not None and last.get("pid") != pid:
        status = last.get("status")
        if status in (RUNNING, ERROR):
            previous.failed_status = status
            previous.failed_start_ns = int(last["start_ns"])
        elif status == DONE:
            previous.restarted = True
    attempts.append({"pid": pid, "start_ns": start_ns, "status": RUNNING})
    del attempts[:-MAX_ATTEMPTS]
    return previous


def set_status(data: dict[str, Any], status: str) -> bool:
    """Our running attempt ended (``done`` or ``error``); True when something changed."""
    attempts = data["attempts"]
    if attempts and attempts[-1].get("status") == RUNNING:
        attempts[-1]["status"] = status
        return True
    return False


def count_invocation(data: dict[str, Any]) -> None:
    data["invocations"] = int(data.get("invocations", 0)) + 1


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
        CHILD_FAILED_ATTEMPT,
        start,
        {v.ATTEMPT_OUTCOME: "timeout" if timed_out else "error"},
        end_ns=end,
    )
    record.error = (
        "INIT did not finish in time; Lambda re-ran it in the first invocation"
        if timed_out
        else "INIT failed; Lambda re-ran it in the next invocation"
    )
    return record

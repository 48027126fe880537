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
    if not isinstance(invocations, int) or isinstance(invocations, bool) or invocations < 0:
        return None
    for attempt in attempts:
        if (
            not isinstance(attempt, dict)
            or not isinstance(attempt.get("pid"), int)
            or not isinstance(attempt.get("start_ns"), int)
            or attempt.get("status") not in (RUNNING, DONE, ERROR)
        ):
            return None
    return data


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

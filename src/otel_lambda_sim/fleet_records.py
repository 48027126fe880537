"""The ground truth a fleet run records: per request, per sandbox, and the run's totals."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .ground_truth import Verdict, sandbox_verdict
from .scenarios import Scenario

__all__ = ["FleetResult", "InitFailed", "Replay", "RequestRecord", "SandboxRecord"]


@dataclass
class RequestRecord:
    """Ground truth for one request."""

    index: int
    arrival_s: float
    arrival_ns: int = 0
    sandbox: str | None = None
    waited_for_init: bool = False
    init_rerun: bool = False
    sandbox_invocation: int = 0
    request_id: str = ""
    status: str = ""
    error_type: str | None = None
    payload: Any = None
    assigned_ns: int = 0  # when the fleet placed it on a sandbox
    served_ns: int = 0
    responded_ns: int = 0
    completed_ns: int = 0
    verdict: str = ""  # ground_truth.Verdict: cold | proactive | warm

    @property
    def queued_ms(self) -> float:
        """How long a warm request waited for its busy sandbox to free (0 when one was idle
        at its arrival, and for a sandbox's first request: that one waits for INIT, if at all)."""
        if self.sandbox_invocation <= 1 or not self.assigned_ns:
            return 0.0
        return max(0, self.assigned_ns - self.arrival_ns) / 1e6

    @property
    def latency_ms(self) -> float:
        return (self.responded_ns - self.arrival_ns) / 1e6 if self.responded_ns else 0.0

    def take_result(self, result: Any) -> None:
        """What the sandbox said of this request (an InvocationResult), or the exception that
        stopped the fleet from getting one."""
        if isinstance(result, Exception):
            self.status, self.error_type = "error", type(result).__name__
            self.payload = str(result)
            return
        self.request_id, self.status = result.request_id, result.status
        self.error_type, self.payload = result.error_type, result.payload
        self.served_ns, self.responded_ns = result.served_ns, result.responded_ns
        self.completed_ns, self.init_rerun = result.completed_ns, result.init_rerun


@dataclass
class SandboxRecord:
    """Ground truth for one sandbox: why it started, when INIT ran, whether anyone waited."""

    name: str
    reason: str  # "request" | "deploy" | "rotation" | "prewarm"
    log_stream: str | None
    started_for: int | None = None  # index of the request whose arrival started it
    init_start_ns: int = 0
    init_end_ns: int = 0
    init_status: str = ""
    waited_for: bool = False  # its first invocation was pending while its INIT ran
    invocations: int = 0
    first_invocation_ns: int = 0
    shutdown_reason: str | None = None
    pid: int | None = None
    init_error_type: str | None = None
    init_error_message: str = ""
    logs_tail: str = ""
    log_path: Path | None = None  # the runtime's stdout/stderr (CloudWatch's log stream)

    @property
    def verdict(self) -> Verdict:
        return sandbox_verdict(invocations=self.invocations, waited_for=self.waited_for)

    @property
    def proactive(self) -> bool:
        """Served someone, but nobody waited for its INIT."""
        return self.verdict is Verdict.PROACTIVE


@dataclass
class FleetResult:
    scenario: Scenario
    requests: list[RequestRecord]
    sandboxes: list[SandboxRecord]
    started_ns: int
    wall_s: float

    def request_truth(self) -> list[dict[str, Any]]:
        """Per request, what the view needs beside the spans: who served it, when it arrived,
        whether it waited for an INIT or queued behind a busy sandbox."""
        return [
            {
                "request_id": r.request_id,
                "sandbox": r.sandbox,
                "verdict": r.verdict,
                "arrival_ns": r.arrival_ns,
                "served_ns": r.served_ns,
                "queued_ms": round(r.queued_ms, 3),
            }
            for r in self.requests
        ]

    def truth_summary(self) -> dict[str, Any]:
        served = [s for s in self.sandboxes if s.invocations]
        return {
            "requests": len(self.requests),
            "errors": sum(1 for r in self.requests if r.status != "success"),
            "initializations": len(self.sandboxes),
            "waited_for": sum(1 for s in self.sandboxes if s.waited_for),
            "not_waited_for": sum(1 for s in served if not s.waited_for),
            "unused": sum(1 for s in self.sandboxes if not s.invocations),
            "cold_requests": sum(1 for r in self.requests if r.waited_for_init),
            "init_reruns": sum(1 for r in self.requests if r.init_rerun),
        }


class InitFailed(RuntimeError):
    """A sandbox's INIT failed and the fleet was asked to stop at the first such failure."""

    def __init__(self, record: SandboxRecord) -> None:
        super().__init__(
            f"INIT failed in {record.name}: {record.init_error_type}: {record.init_error_message}"
        )
        self.record = record


@dataclass
class Replay:
    """Where a replay stands: what arrived, what waits for a sandbox, what is in flight."""

    requests: list[RequestRecord]
    controls: list[tuple[float, str]]
    pending: deque[RequestRecord] = field(default_factory=deque)
    next_arrival: int = 0
    next_control: int = 0
    outstanding: int = 0
    last_progress: float = -1.0

    @property
    def finished(self) -> bool:
        return (
            self.next_arrival >= len(self.requests)
            and not self.outstanding
            and self.next_control >= len(self.controls)
        )

    @property
    def next_due_s(self) -> float | None:
        """When the next arrival or control is due (seconds into the replay), if any."""
        due = []
        if self.next_arrival < len(self.requests):
            due.append(self.requests[self.next_arrival].arrival_s)
        if self.next_control < len(self.controls):
            due.append(self.controls[self.next_control][0])
        return min(due) if due else None

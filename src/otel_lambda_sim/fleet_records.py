"""The ground truth a fleet run records: per request, per sandbox, and the run's totals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .ground_truth import Verdict, sandbox_verdict
from .scenarios import Scenario

__all__ = ["FleetResult", "RequestRecord", "SandboxRecord"]


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
    served_ns: int = 0
    responded_ns: int = 0
    completed_ns: int = 0
    verdict: str = ""  # ground_truth.Verdict: cold | proactive | warm

    @property
    def latency_ms(self) -> float:
        return (self.responded_ns - self.arrival_ns) / 1e6 if self.responded_ns else 0.0


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

"""How a sandbox's INIT, its attempts and its shutdown ended, as tests and the fleet read them."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runtime_api import RuntimeApi

__all__ = ["Attempt", "ExtensionProc", "InitOutcome", "ShutdownOutcome", "read_init_outcome"]


@dataclass
class InitOutcome:
    """How INIT ended: done, error (init/error posted), exited (process died) or timeout (cap)."""

    status: str
    duration_ms: float = 0.0
    error_type: str | None = None
    body: Any = None
    exit_code: int | None = None
    message: str = ""
    evidence: str | None = None  # a stall record's path (stall.py), when INIT stalled

    @property
    def ok(self) -> bool:
        return self.status == "done"

    def error_payload(self) -> dict[str, Any]:
        """What the caller of a request that needed this failed INIT receives."""
        if isinstance(self.body, dict):
            return self.body
        return {"errorType": self.error_type or "Runtime.Unknown", "errorMessage": self.message}


@dataclass
class ShutdownOutcome:
    """What shutdown did, for tests of Lambda's SIGTERM/SIGKILL rules."""

    reason: str
    mode: str  # "no-extensions" | "internal" | "external" | "not-running"
    sigterm_sent: bool = False
    sigkill_sent: bool = False
    exit_code: int | None = None
    duration_ms: float = 0.0
    shutdown_event_sent: bool = False
    sigterm_to_group: bool = False  # Lambda Managed Instances: every awslambdaric worker
    runtime_exited_in_grace: bool | None = None  # the runtime (LMI: its main process) left in time
    runtime_exit_ms: float | None = None  # SIGTERM to the runtime's exit, when it left in time


@dataclass
class Attempt:
    pid: int
    started_ns: int
    exit_code: int | None = None
    killed_for_timeout: bool = False
    reset_for_function_timeout: bool = False  # Lambda reset it: an invocation timed out


@dataclass
class ExtensionProc:
    name: str
    proc: subprocess.Popen[bytes]


def read_init_outcome(
    api: RuntimeApi, attempts: list[Attempt], exit_code: int | None, cap_s: float
) -> InitOutcome | None:
    """How INIT ended, read from what the API recorded and the attempts; None while running."""
    start = api.init_start_ns
    if api.init_done:
        return InitOutcome("done", (api.init_done_ns - start) / 1e6)
    now_ms = (time.time_ns() - start) / 1e6
    if api.init_error is not None:
        body = api.init_error["body"]
        message = body.get("errorMessage", "") if isinstance(body, dict) else str(body)
        return InitOutcome(
            "error",
            (api.init_error["time_ns"] - start) / 1e6,
            error_type=api.init_error["error_type"],
            body=body,
            exit_code=exit_code,
            message=message,
        )
    if attempts and attempts[-1].killed_for_timeout:
        return InitOutcome(
            "timeout",
            now_ms,
            exit_code=attempts[-1].exit_code,
            message=(f"INIT did not finish within {cap_s}s; runtime killed"),
        )
    if exit_code is not None:
        return InitOutcome(
            "exited",
            now_ms,
            exit_code=exit_code,
            error_type="Runtime.ExitError",
            message=f"Runtime exited with error: exit status {exit_code}",
        )
    return None

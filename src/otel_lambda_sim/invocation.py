"""An invocation as the Runtime API queues it, and what its caller learns.

Also the platform's fault hooks for attack tests and the ids Lambda generates per request.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .lambda_rules import InvocationState

__all__ = [
    "Invocation",
    "InvocationResult",
    "PlatformFaults",
    "new_request_id",
    "new_xray_trace_header",
]


def new_request_id() -> str:
    return str(uuid.uuid4())


def new_xray_trace_header(sampled: bool = False) -> str:
    """A Lambda-Runtime-Trace-Id as Lambda sends it when active tracing is off (Sampled=0)."""
    epoch = f"{int(time.time()):08x}"
    return (
        f"Root=1-{epoch}-{os.urandom(12).hex()};Parent={os.urandom(8).hex()};Sampled={int(sampled)}"
    )


@dataclass
class PlatformFaults:
    """What a misbehaving platform answers, for attack tests: each hook takes what the real
    API would send and returns what is sent instead (``None`` leaves it alone)."""

    # event/next: the event dict -> a JSON value, or bytes sent as they are (b"null")
    extension_event: Callable[[dict[str, Any]], Any] | None = None
    # register: (status, body, headers) -> (status, body, headers)
    register: Callable[[int, Any, dict[str, str]], tuple[int, Any, dict[str, str]]] | None = None
    # invocation/next: the headers Lambda sends -> the headers sent
    invocation_headers: Callable[[dict[str, str]], dict[str, str]] | None = None
    # event/next, before waiting for an event: (extension name, how many nexts it called)
    # -> an answer sent at once (bytes as they are, or (status, JSON)), or None to wait
    extension_next: Callable[[str, int], Any] | None = None
    touched: list[str] = field(default_factory=list)  # which hooks fired, in order


@dataclass
class InvocationResult:
    """What the caller of an invocation learns, plus the timestamps the simulator observed.

    start_ns is when the sandbox accepted the request (before any INIT re-run); served_ns when
    the runtime received the event; responded_ns when it posted the result (the caller's
    response); completed_ns when the runtime and the last INVOKE extension called next again.
    """

    request_id: str
    status: str  # "success" | "error"
    payload: Any
    served_ns: int
    responded_ns: int
    completed_ns: int
    start_ns: int = 0
    error_type: str | None = None
    init_rerun: bool = False
    evidence: str | None = None  # a stall record's path (stall.py), when it stalled

    @property
    def duration_ms(self) -> float:
        """Caller-visible duration: accepted to response (includes a re-run INIT)."""
        return (self.responded_ns - (self.start_ns or self.served_ns)) / 1e6


class Invocation:
    """A queued invocation; wait() blocks until Lambda would call it complete."""

    def __init__(
        self,
        event: Any,
        request_id: str,
        trace_id: str,
        deadline_ms: int | None,
        client_context: str | None,
        cognito_identity: str | None,
        start_ns: int,
    ) -> None:
        self.event = event
        self.request_id = request_id
        self.trace_id = trace_id
        self.deadline_ms = deadline_ms
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.enqueued_ns = time.time_ns()
        self.start_ns = start_ns
        self.served_ns = 0
        self.responded_ns = 0
        self.completed_ns = 0
        self.status: str | None = None
        self.payload: Any = None
        self.error_type: str | None = None
        self.init_rerun = False
        self.state: InvocationState | None = None  # the rules' view, once served
        self.evidence: str | None = None  # a stall record's path (stall.py)
        self._responded = threading.Event()
        self._done = threading.Event()

    def body(self) -> bytes:
        if isinstance(self.event, bytes):
            return self.event
        return json.dumps(self.event).encode()

    @property
    def responded(self) -> bool:
        return self._responded.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def result(self) -> InvocationResult:
        return InvocationResult(
            request_id=self.request_id,
            status=self.status or "error",
            payload=self.payload,
            served_ns=self.served_ns,
            responded_ns=self.responded_ns,
            completed_ns=self.completed_ns,
            start_ns=self.start_ns or self.enqueued_ns,
            error_type=self.error_type,
            init_rerun=self.init_rerun,
            evidence=self.evidence,
        )

    def wait_response(self, timeout: float) -> bool:
        return self._responded.wait(timeout)

    def wait(self, timeout: float) -> InvocationResult:
        """Wait until complete (runtime responded and INVOKE extensions called next)."""
        if not self._done.wait(timeout):
            raise TimeoutError(
                f"invocation {self.request_id} not complete within {timeout}s "
                f"(served={bool(self.served_ns)}, responded={self.responded})"
                + (f"; stacks in {self.evidence}" if self.evidence else "")
            )
        return self.result()

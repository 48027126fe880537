"""Lambda's phase and invocation rules for one sandbox, apart from any HTTP or thread.

What the instrumentation is measured against lives here: INIT ends when the runtime and every
registered extension (and every external extension that has not exited) called next;
extensions register only during INIT; an invocation is complete only when the runtime posted
its result and called next again and every INVOKE-registered extension called next again
(what the runtime does between its post and its next is billed and keeps the sandbox busy,
like an extension's work: RIE's "runtime overhead" phase); the next event waits for that;
SHUTDOWN stops events to the runtime. Every method takes the time as ns since the epoch, so
tests can feed any timeline and the Runtime API server only translates requests into calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from .function import FunctionConfig

__all__ = [
    "ExtensionInfo",
    "InvocationState",
    "Phase",
    "Refusal",
    "SandboxRules",
]


class Phase(str, Enum):
    """The sandbox's lifecycle phase, as Lambda's Telemetry API names them."""

    INIT = "INIT"
    INVOKE = "INVOKE"
    SHUTDOWN = "SHUTDOWN"


@dataclass(frozen=True)
class Refusal:
    """A request the rules do not allow: the status and error Lambda answers with."""

    status: int
    error_type: str
    message: str

    def body(self) -> dict[str, str]:
        return {"errorMessage": self.message, "errorType": self.error_type}


@dataclass
class ExtensionInfo:
    """One registered extension and the events waiting for its next `next`."""

    name: str
    id: str
    events: list[str]
    registered_ns: int
    next_ns: list[int] = field(default_factory=list)
    external: bool = False
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    # The current invocation: its INVOKE event was delivered / it called next after it.
    delivered_current: bool = False
    done_current: bool = True
    generation: int = 0


@dataclass
class InvocationState:
    """The rules' view of the invocation the runtime is serving."""

    request_id: str
    served_ns: int
    deadline_ms: int
    responded_ns: int = 0
    runtime_next_ns: int = 0  # the runtime's next after it posted: its part is done
    completed_ns: int = 0

    @property
    def responded(self) -> bool:
        return bool(self.responded_ns)


class SandboxRules:
    """The state machine of one sandbox's Runtime and Extensions APIs; no clock, no threads."""

    def __init__(self, function: FunctionConfig) -> None:
        self.function = function
        self.generation = 0
        self.extensions: dict[str, ExtensionInfo] = {}
        self.expected_external: set[str] = set()
        self.exited_external: set[str] = set()
        self.current: InvocationState | None = None
        self.shutdown_reason: str | None = None
        self.shutdown_deadline_ms = 0
        # A restored SnapStart sandbox: its runtime was ready before this sandbox existed.
        self.restore_mode = False
        self.init_start_ns = 0
        self.runtime_ready_ns = 0  # the runtime's first next (or restore/next)
        self.init_done_ns = 0  # runtime and every extension called next
        self.restore_next_ns = 0
        self.restored_ns = 0
        self.runtime_next_ns: list[int] = []
        self.init_error: dict[str, Any] | None = None
        self.restore_error: dict[str, Any] | None = None
        self.extension_errors: list[dict[str, Any]] = []

    # INIT ------------------------------------------------------------------------------------
    def begin_init(self, now_ns: int, expected_external: Iterable[str] = ()) -> int:
        """Begin (or re-begin) INIT: forget the previous runtime and its extensions.

        Returns the new generation: requests of an older one belong to a killed runtime.
        """
        self.generation += 1
        self.extensions.clear()
        self.expected_external = set(expected_external)
        self.exited_external = set()
        self.init_start_ns = now_ns
        self.runtime_ready_ns = 0
        self.init_done_ns = 0
        self.restore_next_ns = 0
        self.init_error = None
        return self.generation

    @property
    def init_done(self) -> bool:
        return bool(self.init_done_ns)

    @property
    def phase(self) -> Phase:
        if self.shutdown_reason is not None:
            return Phase.SHUTDOWN
        return Phase.INVOKE if self.init_done_ns else Phase.INIT

    def runtime_next(self, now_ns: int) -> None:
        """The runtime asked for its next event; the first ask means its INIT is over."""
        self.runtime_next_ns.append(now_ns)
        if not self.runtime_ready_ns:
            self.runtime_ready_ns = now_ns
            self._check_init_done(now_ns)
        state = self.current
        if state is not None and state.responded and not state.runtime_next_ns:
            state.runtime_next_ns = now_ns
            self._check_complete(now_ns)

    def post_init_error(self, error_type: str | None, body: Any, now_ns: int) -> None:
        self.init_error = {"error_type": error_type, "body": body, "time_ns": now_ns}

    def external_extension_exited(self, name: str, now_ns: int) -> None:
        """An external extension process ended: INIT no longer waits for it to register."""
        self.exited_external.add(name)
        self._check_init_done(now_ns)

    def register(
        self, name: str, events: list[str], extension_id: str, now_ns: int
    ) -> ExtensionInfo | Refusal:
        """Register an extension: only during INIT, SHUTDOWN only for external ones."""
        if not name:
            return Refusal(400, "InvalidName", "missing Lambda-Extension-Name")
        if self.init_done_ns:
            return Refusal(
                403,
                "Extension.RegistrationNotAllowed",
                "Extensions can only register during INIT",
            )
        external = name in self.expected_external
        if self.function.managed_instances:
            refusal = _lmi_refusal(name, events, external, self.extensions.values())
            if refusal is not None:
                return refusal
        if "SHUTDOWN" in events and not external:
            return Refusal(
                400,
                "ShutdownEventNotSupportedForInternalExtension",
                "internal extensions cannot register for SHUTDOWN",
            )
        ext = ExtensionInfo(
            name=name,
            id=extension_id,
            events=list(events),
            registered_ns=now_ns,
            external=external,
            generation=self.generation,
        )
        self.extensions[ext.id] = ext
        return ext

    # SnapStart -------------------------------------------------------------------------------
    def restore_next(self, now_ns: int) -> None:
        """The runtime is ready for the snapshot: the snapshot's INIT is over."""
        self.restore_next_ns = now_ns
        if not self.runtime_ready_ns and not self.restore_mode:
            self.runtime_ready_ns = now_ns
            self._check_init_done(now_ns)

    def snapshot_taken(self, now_ns: int) -> None:
        """The parked snapshot asked for fork orders: publish-time INIT is done."""
        if not self.runtime_ready_ns:
            self.runtime_ready_ns = self.restore_next_ns = now_ns
            self._check_init_done(now_ns)

    def restored(self, now_ns: int) -> None:
        self.restored_ns = now_ns

    def post_restore_error(self, error_type: str | None, body: Any) -> None:
        self.restore_error = {"error_type": error_type, "body": body}

    # INVOKE ----------------------------------------------------------------------------------
    def may_deliver(self, queued: bool) -> bool:
        """Whether the runtime's next may get a queued event now."""
        return (
            queued
            and bool(self.init_done_ns)
            and self.current is None
            and self.shutdown_reason is None
        )

    def deliver(
        self, request_id: str, trace_id: str, deadline_ms: int | None, now_ns: int
    ) -> InvocationState:
        """Hand an event to the runtime; INVOKE-registered extensions get it too."""
        deadline = deadline_ms or int(now_ns / 1e6 + self.function.function_timeout_s * 1000)
        state = InvocationState(request_id, served_ns=now_ns, deadline_ms=deadline)
        self.current = state
        for ext in self.extensions.values():
            # Lambda Managed Instances send extensions no INVOKE events.
            if "INVOKE" in ext.events and not self.function.managed_instances:
                ext.pending.append(
                    {
                        "eventType": "INVOKE",
                        "requestId": request_id,
                        "deadlineMs": deadline,
                        "invokedFunctionArn": self.function.arn,
                        "tracing": {"type": "X-Amzn-Trace-Id", "value": trace_id},
                    }
                )
                ext.delivered_current = False
                ext.done_current = False
        return state

    def post_result(self, request_id: str, now_ns: int) -> InvocationState | Refusal:
        """The runtime posted a response or error; complete once the extensions are done too."""
        state = self.current
        if state is None or state.request_id != request_id or state.responded:
            return Refusal(400, "InvalidRequestID", f"unknown or finished request {request_id}")
        state.responded_ns = now_ns
        self._check_complete(now_ns)
        return state

    def extension_next(self, extension_id: str, now_ns: int) -> ExtensionInfo | Refusal:
        """An extension called next: its first ends its INIT, a later one its invocation."""
        ext = self.extensions.get(extension_id)
        if ext is None:
            return Refusal(
                403, "Extension.UnknownExtensionIdentifier", "unknown extension identifier"
            )
        ext.next_ns.append(now_ns)
        if len(ext.next_ns) == 1:
            self._check_init_done(now_ns)
        elif ext.delivered_current and not ext.done_current:
            ext.done_current = True
            self._check_complete(now_ns)
        return ext

    def take_event(self, ext: ExtensionInfo) -> dict[str, Any] | None:
        """The extension's next event, if one is waiting."""
        if not ext.pending:
            return None
        event = ext.pending.popleft()
        if event["eventType"] == "INVOKE":
            ext.delivered_current = True
        return event

    def abandon_current(self) -> InvocationState | None:
        """The platform answers the current invocation itself (runtime died, sandbox stopped)."""
        state, self.current = self.current, None
        return state

    # SHUTDOWN --------------------------------------------------------------------------------
    def shutdown(self, reason: str, deadline_ms: int) -> None:
        """No more events for the runtime; SHUTDOWN for every extension registered for it."""
        self.shutdown_reason = reason
        self.shutdown_deadline_ms = deadline_ms
        for ext in self.extensions.values():
            if "SHUTDOWN" in ext.events:
                ext.pending.append(
                    {"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms}
                )

    # the two completion rules ----------------------------------------------------------------
    def _check_init_done(self, now_ns: int) -> None:
        if self.init_done_ns or not self.runtime_ready_ns:
            return
        if any(not ext.next_ns for ext in self.extensions.values()):
            return
        registered = {ext.name for ext in self.extensions.values()}
        if self.expected_external - registered - self.exited_external:
            return
        self.init_done_ns = now_ns

    def _check_complete(self, now_ns: int) -> None:
        state = self.current
        if state is None or not state.responded or not state.runtime_next_ns:
            return
        for ext in self.extensions.values():
            invoke_events = "INVOKE" in ext.events and not self.function.managed_instances
            if invoke_events and not ext.done_current:
                return
        state.completed_ns = now_ns
        self.current = None


def _lmi_refusal(
    name: str, events: list[str], external: bool, registered: Iterable[ExtensionInfo]
) -> Refusal | None:
    """Lambda Managed Instances' registration rules (the platform's rapid, as in AWS's
    emulator: internal/lambda-managed-instances/rapi/handler/agentregister.go
    registerInternalAgent): an internal extension may register for no events, and a name
    registers once."""
    if events and not external:
        return Refusal(
            403, "Extension.InvalidEventType", "No events allowed for internal extensions"
        )
    if any(ext.name == name for ext in registered):
        return Refusal(
            403, "Extension.InvalidExtensionState", "Extension with this name already registered"
        )
    return None

"""Lambda's clocks on a running sandbox: the function timeout and the shutdown budgets."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from typing import TYPE_CHECKING

from .launch import group_members, send_signal, wait_for
from .outcomes import ExtensionProc, ShutdownOutcome
from .stall import watch_invocation

if TYPE_CHECKING:
    from .invocation import Invocation
    from .runtime_api import RuntimeApi
    from .sandbox import Sandbox

__all__ = [
    "SHUTDOWN_TOTAL_EXTERNAL_S",
    "SIGTERM_GRACE_EXTERNAL_S",
    "SIGTERM_GRACE_INTERNAL_S",
    "SIGTERM_GRACE_MANAGED_INSTANCES_S",
    "enforce_function_timeout",
    "signal_shutdown",
]

# Lambda's shutdown budgets.
SIGTERM_GRACE_INTERNAL_S = 0.5
SIGTERM_GRACE_EXTERNAL_S = 0.3
SHUTDOWN_TOTAL_EXTERNAL_S = 2.0
# Lambda Managed Instances, as the platform's rapid in AWS's emulator does it
# (internal/lambda-managed-instances/rapid/shutdown.go: defaultRuntimeShutdownTimeout,
# defaultShutdownTimeout): SIGTERM to the runtime's process group (every awslambdaric worker),
# 600 ms for the runtime to exit, external extensions' SHUTDOWN within 2 s of the start.
SIGTERM_GRACE_MANAGED_INSTANCES_S = 0.6


def enforce_function_timeout(sandbox: Sandbox, inv: Invocation, generation: int) -> None:
    """Lambda's function timeout: an invocation not answered by its deadline fails with
    Sandbox.Timedout and the runtime is reset: SIGTERM (and a grace period) when an
    extension is registered, then SIGKILL; the next request re-runs INIT."""
    limit = time.monotonic() + sandbox.function.function_timeout_s + 120.0
    while not inv.served_ns and not inv.done and time.monotonic() < limit:
        if sandbox._closed or sandbox.api.generation != generation:
            return
        sandbox.api.wait_event(0.05)
    if not inv.served_ns or inv.done:
        return
    watch_invocation(sandbox, inv)
    # The function timeout counts from when the runtime received the event; a deadline
    # the caller forced (deadline_ms) only changes the header the runtime sees.
    timeout_s = sandbox.function.function_timeout_s
    if inv.wait_response(max(0.0, inv.served_ns / 1e9 + timeout_s - time.time())):
        return
    with sandbox._lock:
        if sandbox._closed or inv.responded or sandbox.api.generation != generation:
            return
        proc = sandbox._proc
        sandbox.timeouts.append(inv.request_id)
        sandbox.api.fail_invocation(
            inv,
            "Sandbox.Timedout",
            {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {inv.request_id} Error: Task timed out "
                f"after {timeout_s:.2f} seconds",
            },
        )
        if sandbox.attempts:
            sandbox.attempts[-1].reset_for_function_timeout = True
        sandbox._needs_reset_init = True
        if proc is not None and proc.poll() is None and sandbox.api.extensions:
            send_signal(proc, signal.SIGTERM)
            external = any(e.external for e in sandbox.api.extensions)
            wait_for(proc, SIGTERM_GRACE_EXTERNAL_S if external else SIGTERM_GRACE_INTERNAL_S)
        sandbox._killpg(signal.SIGKILL)
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)


def signal_shutdown(
    api: RuntimeApi,
    proc: subprocess.Popen[bytes] | None,
    ext_procs: list[ExtensionProc],
    reason: str,
    t0: float,
) -> ShutdownOutcome:
    """Lambda's shutdown: SIGTERM and a grace period when an extension registered, and the
    SHUTDOWN event to external extensions within their budget; the caller kills what is left."""
    extensions = api.extensions
    if proc is None or proc.poll() is not None:
        outcome = ShutdownOutcome(reason, "not-running")
    elif not extensions:
        outcome = ShutdownOutcome(reason, "no-extensions")
    elif api.function.managed_instances:
        outcome = _shutdown_managed_instances(api, proc, ext_procs, reason, t0)
    elif not any(e.external for e in extensions):
        outcome = ShutdownOutcome(reason, "internal", sigterm_sent=True)
        _terminate_runtime(proc, SIGTERM_GRACE_INTERNAL_S, outcome)
    else:
        outcome = ShutdownOutcome(reason, "external", sigterm_sent=True)
        _terminate_runtime(proc, SIGTERM_GRACE_EXTERNAL_S, outcome)
        if proc.poll() is None:
            # AWS's emulator (rapid/shutdown.go, shutdownRuntime): SIGKILL at the runtime's
            # deadline, before the extensions' SHUTDOWN; they keep the rest of the budget.
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            outcome.sigkill_sent = True
            wait_for(proc, 1.0)
        deadline_ms = int(time.time() * 1000 + SHUTDOWN_TOTAL_EXTERNAL_S * 1000)
        api.send_shutdown(reason, deadline_ms)
        outcome.shutdown_event_sent = True
        end = t0 + SHUTDOWN_TOTAL_EXTERNAL_S
        for ext in ext_procs:
            wait_for(ext.proc, max(0.0, end - time.monotonic()))
    return outcome


def _terminate_runtime(
    proc: subprocess.Popen[bytes], grace_s: float, outcome: ShutdownOutcome, group: bool = False
) -> None:
    """SIGTERM (to the runtime's process group with ``group``), then the runtime's grace:
    whether (and when) it left within it."""
    try:  # woken at the exit itself (Popen.wait polls every 50 ms): the exit time is exact
        exited = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):
        exited = None
    start = time.monotonic()
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
    else:
        send_signal(proc, signal.SIGTERM)
    if exited is not None:
        try:
            select.select([exited], [], [], grace_s)
        finally:
            os.close(exited)
    wait_for(proc, grace_s - (time.monotonic() - start))
    outcome.runtime_exited_in_grace = proc.poll() is not None
    if outcome.runtime_exited_in_grace:
        outcome.runtime_exit_ms = (time.monotonic() - start) * 1000


def _shutdown_managed_instances(
    api: RuntimeApi,
    proc: subprocess.Popen[bytes],
    ext_procs: list[ExtensionProc],
    reason: str,
    t0: float,
) -> ShutdownOutcome:
    """rapid's LMI shutdown with an extension registered (internal ones count): SIGTERM to
    the runtime's process group, its exit awaited for 600 ms, then external extensions'
    SHUTDOWN. The runtime's exit ends its part: the caller kills what is left of the group."""
    external = any(e.external for e in api.extensions)
    outcome = ShutdownOutcome(reason, "external" if external else "internal", sigterm_sent=True)
    outcome.sigterm_to_group = True
    _terminate_runtime(proc, SIGTERM_GRACE_MANAGED_INSTANCES_S, outcome, group=True)
    if external:
        deadline_ms = int(time.time() * 1000 + SHUTDOWN_TOTAL_EXTERNAL_S * 1000)
        api.send_shutdown(reason, deadline_ms)
        outcome.shutdown_event_sent = True
        for ext in ext_procs:
            wait_for(ext.proc, max(0.0, t0 + SHUTDOWN_TOTAL_EXTERNAL_S - time.monotonic()))
    # Workers still running now are SIGKILLed with the rest of the group by the caller.
    outcome.sigkill_sent = bool(group_members(proc.pid))
    return outcome

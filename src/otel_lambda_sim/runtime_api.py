"""One sandbox's Lambda Runtime API and Extensions API over HTTP on 127.0.0.1.

The HTTP side only: routes, long-polls, headers and bodies. Which request is allowed when, and
when INIT or an invocation is over, is decided by lambda_rules.SandboxRules, handed the time
(time.time_ns()) of each step so tests and the fleet can state the ground truth.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from . import extensions_api, fork_channel, runtime_next
from .fork_channel import ForkChannel
from .function import FunctionConfig
from .invocation import (
    Invocation,
    InvocationResult,
    PlatformFaults,
    new_request_id,
    new_xray_trace_header,
)
from .lambda_rules import ExtensionInfo, Refusal, SandboxRules
from .rules_view import RulesView
from .runtime_http import ApiHandler, ApiServer, decode_body
from .stall import RequestLog

__all__ = [
    "ExtensionInfo",
    "PlatformFaults",
    "Invocation",
    "InvocationResult",
    "RuntimeApi",
    "new_request_id",
    "new_xray_trace_header",
]

_RUNTIME = "/2018-06-01/runtime"
_EXTENSION = "/2020-01-01/extension"
_ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_POLL_S = runtime_next.POLL_S


class RuntimeApi(RulesView):
    """Runtime API + Extensions API of one sandbox on 127.0.0.1 (ephemeral port)."""

    def __init__(self, function: FunctionConfig) -> None:
        self.function = function
        self.rules = SandboxRules(function)
        self.forks = ForkChannel(self._snapshot_polled)
        self._cond = threading.Condition()
        self._server: ApiServer | None = None
        self._stopped = False
        self._queue: deque[Invocation] = deque()
        self._current: Invocation | None = None
        self._by_id: dict[str, Invocation] = {}
        self._restore_allowed = threading.Event()
        self.served: list[Invocation] = []
        self.faults = PlatformFaults()
        self.seen = RequestLog()  # every request, for a stall record (stall.py)
        # Called on this API's thread (its lock let go) while the runtime waits in next with INIT
        # over and nothing queued: the fleet's front end may queue a pending request right
        # there, so the hand-over takes no other thread, as Lambda's (docs/verdicts.md).
        self.on_ready: Callable[[], None] | None = None
        # The runtime's next while it waits: whoever makes an event deliverable (an enqueue,
        # the last extension's next) answers it on its own thread, as Lambda's Go API does in
        # microseconds; waking the parked thread took ms here (docs/simulator.md).
        self._parked: runtime_next.ParkedNext | None = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> RuntimeApi:
        if self._server is not None:
            return self
        server = ApiServer(ApiHandler)
        server.api = self
        self._server = server
        server.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._restore_allowed.set()
        self.forks.stop()
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        with self._cond:
            for inv in [*self._queue, *([self._current] if self._current else [])]:
                self._fail(inv, "Sandbox.Stopped", "the sandbox was stopped")
            self._queue.clear()
            self._current = None
            self.rules.abandon_current()

    def __enter__(self) -> RuntimeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """host:port for AWS_LAMBDA_RUNTIME_API."""
        if self._server is None:
            raise RuntimeError("runtime API not started")
        return f"127.0.0.1:{self._server.port}"

    @property
    def extensions(self) -> list[ExtensionInfo]:
        with self._cond:
            return list(self.rules.extensions.values())

    @property
    def current(self) -> Invocation | None:
        return self._current

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + (1 if self._current else 0)

    @property
    def busy(self) -> bool:
        with self._cond:
            return self._current is not None or bool(self._queue)

    # control (simulator side) ----------------------------------------------------------------
    def mark_init_start(self, expected_external: set[str] | None = None) -> None:
        """Begin (or re-begin) INIT: forget the previous runtime process and its extensions.

        Long-polls of a killed runtime are released by the generation bump and never get an
        event meant for its successor.
        """
        with self._cond:
            self.rules.begin_init(time.time_ns(), expected_external or ())
            self._cond.notify_all()

    def external_extension_exited(self, name: str) -> None:
        """An external extension process ended: INIT no longer waits for it to register."""
        with self._cond:
            self.rules.external_extension_exited(name, time.time_ns())
            self._cond.notify_all()

    def runtime_exited(self, code: int | None) -> None:
        """The runtime process died: fail the current invocation as Lambda does."""
        with self._cond:
            inv = self._current
            if inv is not None and not inv.responded:
                self._fail(
                    inv,
                    "Runtime.ExitError",
                    f"RequestId: {inv.request_id} Error: Runtime exited "
                    f"with error: exit status {code}",
                )
                self._current = None
                self.rules.abandon_current()
            self._cond.notify_all()

    def wait_init(self, timeout: float) -> bool:
        """True once INIT is done (runtime and every extension called next)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.rules.init_done:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopped:
                    return False
                self._cond.wait(min(remaining, _POLL_S))
            return True

    def wait_event(self, timeout: float) -> None:
        """Wait (bounded) for any state change; lets callers poll several conditions."""
        with self._cond:
            self._cond.wait(timeout)

    def enqueue(
        self,
        event: Any,
        *,
        request_id: str | None = None,
        trace_id: str | None = None,
        deadline_ms: int | None = None,
        client_context: str | dict[str, Any] | None = None,
        cognito_identity: str | dict[str, Any] | None = None,
        start_ns: int | None = None,
    ) -> Invocation:
        """Queue an event; the runtime gets it once INIT is done and the previous one completed."""
        inv = Invocation(
            event,
            request_id or new_request_id(),
            trace_id or new_xray_trace_header(),
            deadline_ms,
            json.dumps(client_context) if isinstance(client_context, dict) else client_context,
            json.dumps(cognito_identity)
            if isinstance(cognito_identity, dict)
            else cognito_identity,
            start_ns or time.time_ns(),
        )
        with self._cond:
            self._by_id[inv.request_id] = inv
            self._queue.append(inv)
            send = runtime_next.hand_over_parked(self)
            self._cond.notify_all()
        if send is not None:
            send()
        return inv

    def allow_restore(self) -> None:
        """Answer restore/next (SnapStart): the snapshot is being restored into this sandbox."""
        self._restore_allowed.set()

    def request_fork(self, order: dict[str, Any], timeout: float) -> int:
        """Ask the snapshot process to fork a restored sandbox; returns the child's pid."""
        return self.forks.request_fork(order, timeout)

    def send_shutdown(self, reason: str = "spindown", deadline_ms: int | None = None) -> None:
        """Queue SHUTDOWN for every extension registered for it; the runtime gets no more events."""
        with self._cond:
            self.rules.shutdown(reason, deadline_ms or int(time.time() * 1000) + 2000)
            self._cond.notify_all()

    def fail_pending(self, error_type: str, payload: dict[str, Any]) -> None:
        """Answer every queued and current invocation with an error (e.g. an INIT error)."""
        with self._cond:
            for inv in [*self._queue, *([self._current] if self._current else [])]:
                self._fail(inv, error_type, str(payload.get("errorMessage", error_type)))
                inv.payload = payload
            self._queue.clear()
            self._current = None
            self.rules.abandon_current()
            self._cond.notify_all()

    def fail_invocation(self, inv: Invocation, error_type: str, payload: dict[str, Any]) -> None:
        """Answer one invocation with an error the platform produced (INIT failure, timeout)."""
        with self._cond:
            if inv in self._queue:
                self._queue.remove(inv)
            if self._current is inv:
                self._current = None
                self.rules.abandon_current()
            self._fail(inv, error_type, str(payload.get("errorMessage", error_type)))
            inv.payload = payload
            self._cond.notify_all()

    # request dispatch ------------------------------------------------------------------------
    def _dispatch(self, h: ApiHandler, method: str, path: str, body: bytes) -> None:
        try:
            self._route(h, method, path, body)
        except Exception as exc:  # never let a handler thread die silently
            h.reply(500, {"errorMessage": repr(exc), "errorType": "Simulator.InternalError"})

    def _route(self, h: ApiHandler, method: str, path: str, body: bytes) -> None:
        if method == "GET" and path == f"{_RUNTIME}/invocation/next":
            return runtime_next.runtime_next(self, h)
        if method == "POST" and path.startswith(f"{_RUNTIME}/invocation/"):
            parts = path[len(f"{_RUNTIME}/invocation/") :].split("/")
            if len(parts) == 2 and parts[1] in ("response", "error"):
                return self._runtime_result(h, parts[0], parts[1], body)
        if method == "POST" and path == f"{_RUNTIME}/init/error":
            with self._cond:
                self.rules.post_init_error(
                    h.headers.get(_ERROR_TYPE_HEADER), decode_body(body), time.time_ns()
                )
                self._cond.notify_all()
            return h.reply(202, {"status": "OK"})
        if method == "GET" and path == f"{_RUNTIME}/restore/next":
            return self._restore_next(h)
        if method == "POST" and path == f"{_RUNTIME}/restore/error":
            with self._cond:
                self.rules.post_restore_error(h.headers.get(_ERROR_TYPE_HEADER), decode_body(body))
                self._cond.notify_all()
            return h.reply(202, {"status": "OK"})
        if path.startswith(fork_channel.PREFIX):
            status, answer = self.forks.handle(method, path, decode_body(body))
            return h.reply(status, answer)
        if method == "POST" and path == f"{_EXTENSION}/register":
            return extensions_api.register(self, h, body)
        if method == "GET" and path == f"{_EXTENSION}/event/next":
            return extensions_api.extension_next(self, h)
        if method == "POST" and path in (f"{_EXTENSION}/init/error", f"{_EXTENSION}/exit/error"):
            return extensions_api.extension_error(self, h, path, body)
        return h.reply(
            404, {"errorMessage": f"unknown path {method} {path}", "errorType": "NotFound"}
        )

    # runtime ---------------------------------------------------------------------------------
    def _runtime_result(self, h: ApiHandler, request_id: str, kind: str, body: bytes) -> None:
        with self._cond:
            inv = self._by_id.get(request_id)
            if inv is None or inv is not self._current:
                refused = Refusal(
                    400, "InvalidRequestID", f"unknown or finished request {request_id}"
                )
                return h.reply(refused.status, refused.body())
            state = self.rules.post_result(request_id, time.time_ns())
            if isinstance(state, Refusal):
                return h.reply(state.status, state.body())
            inv.responded_ns = state.responded_ns
            inv.status = "success" if kind == "response" else "error"
            inv.payload = decode_body(body)
            if kind == "error":
                inv.error_type = h.headers.get(_ERROR_TYPE_HEADER)
                if isinstance(inv.payload, dict) and inv.payload.get("errorType"):
                    inv.error_type = inv.payload["errorType"]
            inv._responded.set()
            self._settle()
        h.reply(202, {"status": "OK"})

    def _restore_next(self, h: ApiHandler) -> None:
        with self._cond:
            gen = self.rules.generation
            self.rules.restore_next(time.time_ns())
            self._cond.notify_all()
        while not self._restore_allowed.wait(_POLL_S):
            if self._stopped or gen != self.rules.generation:
                return h.reply(500, {"errorType": "Runtime.Reset"})
        with self._cond:
            self.rules.restored(time.time_ns())
            self._cond.notify_all()
        h.reply(200, {})

    def _snapshot_polled(self) -> None:
        with self._cond:
            self.rules.snapshot_taken(time.time_ns())
            self._cond.notify_all()

    # bookkeeping (caller holds self._cond) ---------------------------------------------------
    def _settle(self) -> None:
        """Release the caller of the current invocation once the rules call it complete."""
        inv = self._current
        if inv is None or inv.state is None or not inv.state.completed_ns:
            return
        inv.completed_ns = inv.state.completed_ns
        self._current = None
        inv._done.set()
        self._cond.notify_all()

    def _fail(self, inv: Invocation, error_type: str, message: str) -> None:
        now = time.time_ns()
        inv.status = "error"
        inv.error_type = error_type
        inv.payload = {"errorType": error_type, "errorMessage": message}
        inv.responded_ns = inv.responded_ns or now
        inv.completed_ns = now
        inv._responded.set()
        inv._done.set()

"""An internal extension registered for INVOKE, so the sandbox stays up until our export ends.

Behind the Lambda Web Adapter nothing of ours runs on the runtime client's thread: the
adapter posts the app's response and calls ``next`` at once, and Lambda may freeze the
sandbox then, mid-export. An extension registered from the app's process during INIT (the
adapter waits for the app's readiness before its own ``next``, so INIT cannot be over) is
sent every INVOKE; Lambda freezes the sandbox only after every extension's next ``next``. Its
thread waits for the app to finish that request, exports within the flush timeout and the
invocation's deadline, then calls ``next``. The caller already has its response (Lambda
answers when the runtime posts it): the export is billed, not waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from .._core.report import report_once
from .._delivery.deadline import parse_deadline_ms, seconds_left
from .._delivery.extension import Registration, next_event, register_or_await
from .._delivery.local_http import LocalHTTPConnection

_RETRY_MAX_S = 5.0
_NO_ID = ""
"""A finished request whose request id could not be read: still this invocation's (Lambda
hands a sandbox one invocation at a time)."""


class InvokeExtension:
    """Holds each invocation open until ``export`` ran for the request the app finished."""

    def __init__(self, runtime_api: str, export: Callable[[float], None]) -> None:
        self.runtime_api = runtime_api
        self._export = export  # export(timeout_s): the spans of the request that finished
        self.extension_id: str | None = None
        self._finished: list[str] = []  # request ids the app finished, oldest first
        self._cond = threading.Condition()
        self.timeout_s: Callable[[], float] = lambda: 2.0
        self._late: Registration | None = None  # answered after INIT's wait: read on _run

    def register(self) -> None:
        """Register for INVOKE; raises when Lambda refuses (INIT over, not a sandbox). A late
        answer is read on the extension's thread: Lambda may have registered us and waits."""
        registered = register_or_await(self.runtime_api, ["INVOKE"])
        if isinstance(registered, Registration):
            self._late = registered
        else:
            self.extension_id = registered

    def start(self) -> None:
        threading.Thread(target=self._run, name="otel-lambda-init-web-ext", daemon=True).start()

    def request_finished(self, request_id: str | None) -> None:
        """The app sent its response for ``request_id`` and our spans for it ended."""
        with self._cond:
            self._finished.append(request_id or _NO_ID)
            del self._finished[:-8]  # a few at most: one invocation at a time
            self._cond.notify_all()

    def _wait_for(self, request_id: str, deadline_ms: float | None) -> bool:
        """Until the app finished ``request_id`` (or a request without a readable id), or
        the deadline's margin is reached."""
        with self._cond:
            while True:
                for i, finished in enumerate(self._finished):
                    if finished in (request_id, _NO_ID):
                        del self._finished[: i + 1]
                        return True
                left = seconds_left(deadline_ms) if deadline_ms is not None else 900.0
                if left <= 0:
                    return False
                self._cond.wait(min(left, 1.0))

    def _run(self) -> None:
        late, self._late = self._late, None
        if late is not None:
            try:
                self.extension_id = late.identifier(late=True)
            except Exception as error:
                report_once(
                    "web-extension-register", f"register failed late ({error})", exc_info=False
                )
                return
        conn = LocalHTTPConnection(self.runtime_api)
        failures = 0
        while True:
            try:
                event = next_event(conn, self.extension_id)
                failures = 0
            except Exception:
                report_once("web-extension-next", "the extension's event/next call failed")
                conn.close()
                conn = LocalHTTPConnection(self.runtime_api)
                time.sleep(min(_RETRY_MAX_S, 0.05 * 2 ** min(failures, 7)))
                failures += 1
                continue
            if event.get("eventType") == "SHUTDOWN":
                return
            if event.get("eventType") != "INVOKE":
                continue
            self._on_invoke(event)

    def _on_invoke(self, event: dict[str, Any]) -> None:
        request_id = event.get("requestId")
        deadline_ms = parse_deadline_ms(event.get("deadlineMs"))
        try:
            if not self._wait_for(
                request_id if isinstance(request_id, str) else _NO_ID, deadline_ms
            ):
                report_once(
                    "web-extension-unfinished",
                    "an invocation ended without the app finishing a request in this process",
                    exc_info=False,
                )
                return
            timeout_s = self.timeout_s()
            if deadline_ms is not None:
                timeout_s = min(timeout_s, seconds_left(deadline_ms))
            if timeout_s > 0:
                self._export(timeout_s)
        except Exception:
            report_once("web-extension-export", "the export after a response failed")

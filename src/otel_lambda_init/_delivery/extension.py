"""Internal Lambda extension: export after the caller has its response, and at shutdown.

Lambda sends INVOKE to a registered extension and considers the invocation complete only when
the runtime has posted its result and the extension has called ``next`` again. Exporting in
between is off the caller's latency path. Registering also makes Lambda send SIGTERM (with
500 ms) before it shuts the sandbox down, our only chance to export an INIT nobody used.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from .._core.report import logger, report_once
from .flush import BoundedFlusher
from .local_http import LocalHTTPConnection

EXTENSION_NAME = "otel-lambda-init"
_REGISTER_PATH = "/2020-01-01/extension/register"
_NEXT_PATH = "/2020-01-01/extension/event/next"
# Set to the runtime's pid when it registers: a child process inheriting the environment must
# not register a second extension (Lambda would wait for it forever).
_OWNER_ENV = "_OTEL_LAMBDA_INIT_EXTENSION_PID"
# Time kept free before the invocation deadline, so our own work never makes it time out.
DEADLINE_MARGIN_MS = 100.0


class _Signals:
    """What the extension waits for in one invocation, set by the handler and the runtime."""

    __slots__ = ("handler_done", "posted", "either", "provider")

    def __init__(self) -> None:
        self.handler_done = threading.Event()
        self.posted = threading.Event()
        # Set by whichever comes first: an invocation that never reached the decorated
        # function (a warm-up answered by the entry point, an outer middleware that raised,
        # an event the runtime could not parse) is only ever "posted".
        self.either = threading.Event()
        self.provider: object = None  # the TracerProvider the handler's spans went to


class AfterResponseExtension:
    """One internal extension per runtime process, registered during INIT."""

    def __init__(
        self,
        runtime_api: str,
        flush_timeout_ms: float,
        flusher: BoundedFlusher,
        sees_posting: bool,
    ):
        self.runtime_api = runtime_api
        self.flush_timeout_ms = flush_timeout_ms
        self.flusher = flusher
        self.extension_id: str | None = None
        # The runtime hooks publish "response posted": without them, export right after
        # the handler finished.
        self.sees_posting = sees_posting
        self._signals: dict[str, _Signals] = {}
        self._handler_finished = threading.Event()  # some handler finished since our last next
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Whether this invocation's window exports (cadence.py); batching is opt-in.
        self.export_due: Callable[[int], bool] = lambda _now_ns: True

    # -- called from the handler wrapper and the runtime client hooks --------------------
    def _signals_for(self, request_id: str) -> _Signals:
        with self._lock:
            signals = self._signals.get(request_id)
            if signals is None:
                signals = self._signals[request_id] = _Signals()
                if len(self._signals) > 64:  # requests we never saw an INVOKE for: drop oldest
                    self._signals.pop(next(iter(self._signals)))
            return signals

    def handler_finished(self, request_id: str, provider: object) -> None:
        """Our wrapper ended the invocation's spans (sampled or not)."""
        signals = self._signals_for(request_id)
        signals.provider = provider
        signals.handler_done.set()
        signals.either.set()
        self._handler_finished.set()

    def response_posted(self, request_id: str, provider: Any = None) -> None:
        """The runtime posted a response or an error: the invocation is over for Lambda,
        whatever our wrapper saw. ``provider`` is exported when no handler said otherwise."""
        signals = self._signals_for(request_id)
        if signals.provider is None:
            signals.provider = provider
        signals.posted.set()
        signals.either.set()
        self._handler_finished.set()

    # -- registration and the event loop -------------------------------------------------
    def register(self) -> None:
        """Register for INVOKE; raises if Lambda refuses (e.g. INIT is already over)."""
        conn = LocalHTTPConnection(self.runtime_api, timeout=2.0)
        try:
            conn.request(
                "POST",
                _REGISTER_PATH,
                body=json.dumps({"events": ["INVOKE"]}),
                headers={"Lambda-Extension-Name": EXTENSION_NAME},
            )
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"register answered {response.status}: {body[:200]!r}")
            extension_id = response.getheader("Lambda-Extension-Identifier")
            if not extension_id:
                raise RuntimeError("register answered without Lambda-Extension-Identifier")
            self.extension_id = extension_id
        finally:
            conn.close()
        os.environ[_OWNER_ENV] = str(os.getpid())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="otel-lambda-init-ext", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # INIT cannot end until every extension calls next: call it at once, then forever.
        conn = LocalHTTPConnection(self.runtime_api)
        while True:
            try:
                event = self._next(conn)
            except Exception:
                report_once("extension-next", "the extension's event/next call failed")
                self._handler_finished.clear()
                conn.close()
                time.sleep(0.05)
                conn = LocalHTTPConnection(self.runtime_api)
                continue
            if event.get("eventType") == "INVOKE":
                try:
                    self._after_response(event)
                except Exception:
                    report_once("extension-invoke", "after-response export failed")
            elif event.get("eventType") == "SHUTDOWN":
                return

    def _next(self, conn: LocalHTTPConnection) -> dict[str, Any]:
        conn.request(
            "GET", _NEXT_PATH, headers={"Lambda-Extension-Identifier": self.extension_id or ""}
        )
        self._wait_before_reading(conn)
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"event/next answered {response.status}")
        event = json.loads(body or b"{}")
        if not isinstance(event, dict):
            # A 200 with "null" or a list: nothing to act on, but the loop must go on calling
            # next, or Lambda waits for us forever and no invocation completes again.
            raise ValueError(f"event/next answered a {type(event).__name__}, not an event")
        return event

    def _wait_before_reading(self, conn: LocalHTTPConnection) -> None:
        """Leave the INVOKE event unread until the handler has finished.

        Lambda sends INVOKE to the runtime and to us at the same moment; parsing it here
        would take the GIL from the runtime while it starts the user's handler (measured:
        ~0.3 ms of the caller's latency). The event waits in the socket instead. A handler
        that runs long is still noticed: every half second, if the event has arrived, it is
        read so that its deadline bounds the wait.
        """
        while not self._handler_finished.wait(0.5):
            sock = conn.sock
            if sock is None or select.select([sock], [], [], 0)[0]:
                return

    def _after_response(self, event: dict[str, Any]) -> None:
        request_id = str(event.get("requestId", ""))
        deadline_ms = _deadline_ms(event.get("deadlineMs"), self.flush_timeout_ms)
        signals = self._signals_for(request_id)
        try:
            budget_s = _until(deadline_ms)
            # Released by the runtime's post as much as by our wrapper: an invocation the
            # decorated function never saw must not hold the sandbox until its deadline.
            if not signals.either.wait(budget_s):
                return  # the handler is still running at the deadline: let Lambda time it out
            if self.sees_posting and not signals.posted.is_set():
                # The runtime client holds the GIL while it posts: exporting before that
                # would compete with the caller's response.
                signals.posted.wait(_until(deadline_ms))
            timeout_s = min(self.flush_timeout_ms / 1000.0, _until(deadline_ms))
            if timeout_s > 0 and self.export_due(time.time_ns()):
                self.flusher.flush(signals.provider, timeout_s)
        finally:
            with self._lock:
                self._signals.pop(request_id, None)
            # Lambda serves no other invocation before our next call: nothing can be lost.
            self._handler_finished.clear()


def _deadline_ms(value: Any, flush_timeout_ms: float) -> float:
    """The event's deadline; a missing or unreadable one (a platform bug, or an attack) is
    replaced by now plus Lambda's default 3 s timeout, so the export still happens."""
    fallback = time.time() * 1000 + max(3_000.0, flush_timeout_ms + DEADLINE_MARGIN_MS)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return fallback
    try:
        deadline = float(value)
    except ValueError:
        return fallback
    return deadline if deadline == deadline and deadline < 1e15 else fallback  # NaN, inf


def _until(deadline_ms: float) -> float:
    """Seconds left before the deadline minus our margin (never negative)."""
    return max(0.0, (deadline_ms - DEADLINE_MARGIN_MS) / 1000.0 - time.time())


def start_after_response(
    runtime_api: str, flush_timeout_ms: float, flusher: BoundedFlusher, sees_posting: bool
) -> AfterResponseExtension | None:
    """Register and start the internal extension; None (logged once) when it cannot be done.

    Only the runtime process registers: a child process that inherited the environment has a
    foreign owner pid (the caller also checks that the runtime client is loaded here).
    """
    owner = os.environ.get(_OWNER_ENV)
    if owner and owner != str(os.getpid()):
        logger.info("otel-lambda-init: not the runtime process; flushing synchronously")
        return None
    extension = AfterResponseExtension(runtime_api, flush_timeout_ms, flusher, sees_posting)
    try:
        extension.register()
    except Exception as error:
        report_once(
            "extension-register",
            f"could not register the internal extension ({error}); "
            "falling back to OTEL_LAMBDA_INIT_FLUSH=sync",
            exc_info=False,
        )
        return None
    extension.start()
    return extension

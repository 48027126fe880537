"""A flush with a real time bound.

The SDK's ``BatchSpanProcessor.force_flush`` ignores its timeout (SDK >= 1.34), and a hung
collector would hold the invocation for the exporter's 10 s plus retries. The flush runs on
one reusable daemon thread and the caller waits at most the bound.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from .._core.report import report_once


class Flushable(Protocol):
    """What a flush needs of a TracerProvider (the SDK's has it; the API's proxy does not)."""

    def force_flush(self, timeout_millis: int = ...) -> bool: ...


class BoundedFlusher:
    """Runs ``provider.force_flush`` off the calling thread; waits no longer than asked."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a SIGTERM handler may flush during a flush
        self._pending: Any = None
        self._requested = threading.Event()
        self._finished = threading.Event()
        self._finished.set()
        self._kicked = False  # the running flush was started without anyone waiting
        self._thread: threading.Thread | None = None

    def kick(self, provider: Flushable | object, timeout_s: float) -> None:
        """Start flushing ``provider`` now without waiting (a span that must not wait for the
        SDK's batch delay: the process may be killed first)."""
        force_flush = getattr(provider, "force_flush", None)
        if force_flush is None:
            return
        with self._lock:
            if not self._finished.is_set():
                return
            self._start(force_flush, timeout_s)
            self._kicked = True

    def _start(self, force_flush: Any, timeout_s: float) -> None:
        self._finished.clear()
        self._kicked = False
        self._pending = (force_flush, int(timeout_s * 1000))
        self._ensure_thread()
        self._requested.set()

    def flush(
        self, provider: Flushable | object, timeout_s: float, wait_for_earlier: bool = False
    ) -> bool:
        """Flush ``provider``; True if it finished within ``timeout_s``.

        While an earlier flush is still stuck, a new one is not queued behind it: the caller
        gets False at once instead of another full wait. Unless the earlier one was a kick,
        waited for within the same bound before the flush runs, or ``wait_for_earlier``
        (shutdown: the last chance for what is queued), when the flush runs beside it at once.
        """
        force_flush = getattr(provider, "force_flush", None)
        if force_flush is None:
            return True
        deadline = time.monotonic() + timeout_s
        with self._lock:
            if not self._finished.is_set() and wait_for_earlier:
                return self._flush_beside(force_flush, timeout_s)
            if not self._finished.is_set() and self._kicked:
                self._finished.wait(timeout_s)
            if not self._finished.is_set():
                report_once("flush-stuck", "an earlier flush is still running; skipping this one")
                return False
            timeout_s = max(0.0, deadline - time.monotonic())
            self._start(force_flush, timeout_s)
        done = self._finished.wait(timeout_s)
        if not done:
            report_once(
                "flush-timeout",
                f"span export did not finish within {timeout_s * 1000:.0f} ms "
                "(OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS); the handler was not held longer",
                exc_info=False,
            )
        return done

    def _flush_beside(self, force_flush: Any, timeout_s: float) -> bool:
        """The last chance while an earlier flush is stuck on a slow collector: flush now on a
        thread of its own, so what is queued behind the stuck export still gets the budget;
        then what the earlier flush took gets the rest of it (the process ends after this)."""
        deadline = time.monotonic() + timeout_s
        done = threading.Event()

        def run() -> None:
            try:
                force_flush(int(timeout_s * 1000))
            except Exception:
                report_once("flush-error", "force_flush raised")
            finally:
                done.set()

        threading.Thread(target=run, name="otel-lambda-init-last-flush", daemon=True).start()
        beside = done.wait(timeout_s)
        # The earlier flush may hold the last spans: on a loaded host it can take the queue
        # after the last invocation ended (a slow first build of the exporter), leaving the
        # flush beside it nothing; returning now would end the process under its export.
        earlier = self._finished.wait(max(0.0, deadline - time.monotonic()))
        return beside and earlier

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="otel-lambda-init-flush", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._requested.wait()
            self._requested.clear()
            force_flush, timeout_ms = self._pending
            try:
                force_flush(timeout_ms)
            except Exception:
                report_once("flush-error", "force_flush raised")
            finally:
                self._finished.set()

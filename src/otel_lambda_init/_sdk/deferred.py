"""The wrapper route's handler while INIT and the first invocation are deferred.

It imports nothing from OpenTelemetry until it must: after the first response, delivery's
``force_flush`` builds the provider and replays the first invocation's span with its real
times through the same ``HandlerInstrumentation`` as live ones, then it is the live wrapper.
If OpenTelemetry is imported during that invocation, its span starts live there, back-dated.
See docs/wrapper.md, "Deferred INIT".
"""

from __future__ import annotations

import threading
import time

from .._core import vocabulary as v
from .._core.claims import NESTED
from .._core.deferred import DeferredInvocation
from .._core.report import report_once

TYPE_CHECKING = False  # this module runs during INIT: no typing or OpenTelemetry imports
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    from .handler import HandlerInstrumentation

    class DeferredHost(Protocol):
        """What the deferred handler needs of the sandbox's owner."""

        def end_init(self, end_ns: int, source: v.EndSource) -> None: ...
        def invocation_finished(self, provider: Any) -> None: ...

    GoLive = Callable[[], tuple[HandlerInstrumentation, Callable[..., Any], Any]]


class DeferredHandler:
    """Stands in for the traced handler until the first invocation's spans are built."""

    def __init__(self, fn: Callable[..., Any], host: DeferredHost, go_live: GoLive) -> None:
        self.__wrapped__ = fn
        self._fn = fn
        self._host = host
        self._go_live = go_live
        self._lock = threading.RLock()  # go_live imports OpenTelemetry: the watch may re-enter
        self._building = False
        self._failed = False
        self._instrumentation: HandlerInstrumentation | None = None
        self._provider: Any = None
        self._live_fn: Callable[..., Any] | None = None
        self._live: Callable[..., Any] | None = None
        self._first_taken = False
        self._active: DeferredInvocation | None = None
        self._pending: DeferredInvocation | None = None
        # INIT end if the runtime's next call was not observed: the handler module loaded.
        self._ready_ns = time.time_ns()

    @property
    def built(self) -> bool:
        """True once the spans are live (the SDK was imported and the provider built)."""
        return self._instrumentation is not None

    @property
    def taken(self) -> bool:
        """True once an invocation reached the handler."""
        return self._first_taken

    def __call__(self, event: Any, context: Any) -> Any:
        live = self._live
        if live is not None:
            return live(event, context)
        record = None
        try:
            record = self._begin(event, context)
        except Exception:
            report_once("deferred-start", "could not record the first invocation")
        if record is None:
            live = self._live
            return (live or self._fn)(event, context)
        try:
            result = self._fn(event, context)
        except BaseException as error:
            self._end(record, error)
            raise
        self._end(record, None)
        return result

    def _begin(self, event: Any, context: Any) -> DeferredInvocation | None:
        with self._lock:
            first = not self._first_taken
            self._first_taken = True
        if not first:
            # Another invocation while the first one's spans are still being built (the
            # build outran the flush bound): it waits for the build, then runs live.
            self.materialize()
            return None
        self._host.end_init(self._ready_ns, v.END_HANDLER_IMPORT)  # no-op if INIT end was seen
        record = DeferredInvocation(event, context, time.time_ns(), threading.get_ident())
        self._active = record
        return record

    def _end(self, record: DeferredInvocation, error: BaseException | None) -> None:
        try:
            with self._lock:
                record.end_ns = time.time_ns()
                record.error = error
                self._active = None
                live = record.live
                if live is None:
                    self._pending = record
            if live is not None:  # OpenTelemetry arrived mid-call: the span is live already
                instrumentation, invocation = live
                instrumentation.finish(invocation, error)
                return
            # Delivery's flush of "this provider" is our force_flush: the spans are built
            # after the response is posted, inside the after-response window.
            self._host.invocation_finished(self)
        except Exception:
            report_once("deferred-finish", "could not hand the first invocation to delivery")

    # -- after the response: build ----------------------------------------------------------
    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Build whatever is deferred, then flush the real provider."""
        provider = self.materialize()
        flush = getattr(provider, "force_flush", None)
        return True if flush is None else bool(flush(timeout_millis))

    def materialize(self) -> Any:
        """Build the provider and the live wrapper (once) and the deferred invocation's spans.
        Returns the provider, or None when the setup failed (the function then runs
        uninstrumented, said once)."""
        with self._lock:
            if self._instrumentation is None:
                if self._building or self._failed:
                    return self._provider
                self._building = True
                try:
                    self._instrumentation, self._live_fn, self._provider = self._go_live()
                except Exception:
                    self._failed = True
                    report_once("deferred-build", "could not build tracing after the response")
                    return None
                finally:
                    self._building = False
                active = self._active
                if active is not None and active.thread_id == threading.get_ident():
                    self._start_live(active)
            pending, self._pending = self._pending, None
            if pending is not None:
                self._replay(pending)
            if self._active is None:
                self._live = self._live_fn
            return self._provider

    def _start_live(self, record: DeferredInvocation) -> None:
        """Called on the invocation's own thread: its span starts now, back-dated, and is
        current for the rest of the handler."""
        instrumentation = self._instrumentation
        if instrumentation is None:
            return
        try:
            invocation = instrumentation.start(record.event, record.context, record.start_ns)
            if invocation is not NESTED:  # an outer wrapper of ours owns the span otherwise
                record.live = (instrumentation, invocation)
        except Exception:
            report_once("deferred-live", "could not start the first invocation's span")

    def _replay(self, record: DeferredInvocation) -> None:
        instrumentation = self._instrumentation
        if instrumentation is None:
            return
        try:
            invocation = instrumentation.start(record.event, record.context, record.start_ns)
            if invocation is NESTED:  # never off the handler's thread; be sure
                return
            instrumentation.finish(invocation, record.error, end_ns=record.end_ns, deliver=False)
        except Exception:
            report_once("deferred-replay", "could not build the first invocation's spans")
        finally:
            record.error = None  # drop the traceback: it holds the handler's frames

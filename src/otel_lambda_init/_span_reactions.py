"""What the spans do at the sandbox's lifecycle events, each followed by delivery.

The init span: ended at INIT end in ``separate`` mode, ended with ERROR at an INIT error,
exported before a SnapStart snapshot, reported again after a restore, exported as unused at
shutdown. Invocation spans the platform stopped (SIGTERM after the function timeout) are
ended at shutdown. It subscribes to the lifecycle events itself.
"""

from __future__ import annotations

import sys
import threading
import time

from ._core import events as ev
from ._core.report import report_once
from ._core.vocabulary import TRACE_SEPARATE

_UNBOUNDED_S = 10.0  # a shutdown with no grace given: the exporter's own default timeout

TYPE_CHECKING = False  # typing and the SDK cost ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    from opentelemetry.trace import TracerProvider

    from ._core.config import Config
    from ._core.environment import SandboxEnvironment
    from ._core.events import Event, LifecycleEvents
    from ._core.records import ChildRecords
    from ._core.timeline import SandboxTimeline
    from ._core.vocabulary import DeliveryTrigger
    from ._sdk.emitter import InitSpanEmitter
    from ._sdk.lazy_exporter import LazySpanExporter

    class SpanHost(Protocol):
        """What the span reactions need of the sandbox's owner."""

        config: Config
        env: SandboxEnvironment
        timeline: SandboxTimeline
        records: ChildRecords
        deferred: Any  # the wrapper route's deferred INIT, while the SDK is left out
        exporters: list[LazySpanExporter]  # built by us: new connections after a restore

        @property
        def in_sandbox(self) -> bool: ...
        def provider(self) -> TracerProvider: ...
        def external_extensions(self) -> bool: ...
        def deliver(
            self, trigger: DeliveryTrigger, provider: Any, budget_s: float | None = None
        ) -> None: ...


class SpanReactions:
    """The init span's emitter (made on first use) and the invocations still open."""

    def __init__(
        self,
        host: SpanHost,
        make_emitter: Callable[[], InitSpanEmitter],
        count_invocation: Callable[[], None],
    ) -> None:
        self._host = host
        self._make_emitter = make_emitter
        self._count_invocation = count_invocation  # the state file's
        self._emitter: InitSpanEmitter | None = None
        self._lock = threading.Lock()
        # Invocation spans our wrapper started and has not ended: a platform timeout (SIGTERM)
        # ends them, so no exported span points at a parent that never left the sandbox.
        self._open_invocations: dict[int, Any] = {}

    def subscribe(self, events: LifecycleEvents) -> None:
        events.subscribe(ev.INIT_END, self._on_init_end)
        events.subscribe(ev.INIT_ERROR, self._on_init_error)
        events.subscribe(ev.BEFORE_SNAPSHOT, self._on_before_snapshot)
        events.subscribe(ev.RESTORED, self._on_restored)
        events.subscribe(ev.SHUTDOWN, self._on_shutdown)

    @property
    def emitter(self) -> InitSpanEmitter:
        emitter = self._emitter
        if emitter is None:
            with self._lock:
                if self._emitter is None:
                    self._emitter = self._make_emitter()
                emitter = self._emitter
        return emitter

    def _spans_possible(self) -> bool:
        """A span can exist: the emitter was made or OpenTelemetry's API is loaded."""
        return self._emitter is not None or "opentelemetry.trace" in sys.modules

    def invocation_opened(self, span: Any) -> None:
        self._open_invocations[id(span)] = span

    def invocation_closed(self, span: Any) -> None:
        self._open_invocations.pop(id(span), None)

    def _deliver_now(self, trigger: DeliveryTrigger, budget_s: float | None = None) -> None:
        host = self._host
        host.deliver(trigger, host.provider(), budget_s)

    def _materialize_deferred(self, for_shutdown: bool = False) -> None:
        """Exports that need the provider now: build what the wrapper route deferred (at
        shutdown, only what its export needs)."""
        deferred = self._host.deferred
        if deferred is not None:
            try:
                if for_shutdown:
                    deferred.materialize_for_shutdown()
                else:
                    deferred.materialize()
            except Exception:
                report_once("deferred-build", "could not build tracing for an export")

    # -- reactions ----------------------------------------------------------------------------
    def _on_init_end(self, event: Event) -> None:
        if (
            self._host.in_sandbox
            and self._host.config.trace_mode == TRACE_SEPARATE
            and self._spans_possible()
            and self.emitter.close_separate(event.time_ns)
        ):
            self._deliver_now("init-end")

    def _on_init_error(self, event: Event) -> None:
        """The runtime is about to report an INIT error and exit: export the init span first."""
        self._materialize_deferred()
        if self.emitter.on_init_error(event.time_ns, event.error or {}):
            self._deliver_now("init-error")

    def _on_before_snapshot(self, event: Event) -> None:
        """SnapStart: the snapshot's INIT is over; export its span once, here."""
        self.emitter.emit_own_trace(event.time_ns)
        self._deliver_now("before-snapshot")

    def _on_restored(self, event: Event) -> None:
        """A restored sandbox: new ids, new connections, a new cold start to report."""
        from ._sdk.snapstart import renew_exporters, reseed_ids

        reseed_ids()
        renew_exporters(self._host.exporters)
        if self._emitter is not None:
            self._emitter.begin_restore()

    def _on_shutdown(self, event: Event) -> None:
        """Lambda is shutting the sandbox down: end what the platform stopped, export an INIT
        nobody used, then the rest, within what is left of the grace."""
        self._end_timed_out_invocations(event.time_ns)
        t0 = time.monotonic()
        budget_s = event.budget_s
        if self._sent_without_sdk(event.time_ns, _UNBOUNDED_S if budget_s is None else budget_s):
            return
        self._materialize_deferred(for_shutdown=True)
        if budget_s is not None:  # building what was deferred spent part of the grace
            budget_s = max(0.05, budget_s - (time.monotonic() - t0))
        # (an open invocation span means OpenTelemetry is loaded: nothing to export otherwise)
        if self._spans_possible():
            self.emitter.emit_unused(event.time_ns)
            self._send_without_building(_UNBOUNDED_S if budget_s is None else budget_s)
            self._deliver_now("shutdown", budget_s)

    def _sent_without_sdk(self, now_ns: int, budget_s: float) -> bool:
        """The deferred route's INIT nobody used, with OpenTelemetry never imported: sent
        without importing the SDK (``_delivery.unused_init``), when the SDK would send the
        same. False when the SDK path must run."""
        host = self._host
        deferred = host.deferred
        if deferred is None or self._emitter is not None or "opentelemetry.trace" in sys.modules:
            return False
        try:
            handler = deferred.handler
            if deferred.provider is not None or (handler is not None and handler.taken):
                return False
            from ._delivery.unused_init import export_unused_init

            return export_unused_init(
                host.env,
                host.timeline.init,
                host.records,
                host.config,
                host.external_extensions,
                deferred.otel_env,
                now_ns,
                budget_s,
            )
        except Exception:
            report_once("shutdown-compose", "could not compose the unused INIT without the SDK")
            return False

    def _send_without_building(self, budget_s: float) -> None:
        """An exporter nothing has used yet would import the OTLP exporter and urllib3 inside
        the grace (~0.5 s of it at 128 MB's CPU share): to a loopback collector its first
        export goes through a sender that needs neither (docs/safety.md)."""
        unbuilt = [e for e in self._host.exporters if not e.built]
        if not unbuilt:
            return
        from ._delivery.shutdown_export import shutdown_sender

        for exporter in unbuilt:
            sender = shutdown_sender(budget_s)
            if sender is not None:
                exporter.send_next_with(sender)

    def _end_timed_out_invocations(self, end_ns: int) -> None:
        """SIGTERM with an invocation still open is Lambda resetting the sandbox after the
        function timeout: end its span (ERROR, ``error.type=timeout``) and count it, so the
        runtime Lambda starts next continues the sandbox's invocation counter."""
        open_spans = list(self._open_invocations.values())
        self._open_invocations.clear()
        if not open_spans:
            return
        from ._sdk.spans import end_timed_out

        for span in open_spans:
            end_timed_out(span, end_ns)
            self._count_invocation()
        if self._emitter is not None:
            self._emitter.close_root(end_ns)  # the root holding a timed-out first invocation

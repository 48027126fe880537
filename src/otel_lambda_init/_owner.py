"""The one owner of this process's sandbox instrumentation.

``SandboxInstrumentation`` holds the configuration, the sandbox's environment, its timeline,
the INIT's child records, the sandbox-local state file, the invocation claims, the span
emitter and delivery. Probes write into what it hands them; the runtime hooks publish
lifecycle events and its subscribers react. ``sandbox()`` is the one way to get it,
``reset_sandbox_for_tests()`` the one way to forget it.

It sits above the SDK adapters and delivery, which it imports lazily (inside the methods
that need them): ``import otel_lambda_init`` runs on every cold start's path and must not pay
for the OpenTelemetry SDK before something needs a span.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref

from ._core import events as ev
from ._core.config import Config, load_config
from ._core.environment import SandboxEnvironment, read_environment
from ._core.events import Event, LifecycleEvents
from ._core.records import ChildRecords
from ._core.report import quiet_repeated_export_errors, report_once
from ._core.timeline import InitRecord, SandboxTimeline
from ._core.vocabulary import (
    END_RESTORE_NEXT,
    END_RUNTIME_NEXT,
    FLUSH_AFTER_RESPONSE,
    FLUSH_SYNC,
    MANAGED_INSTANCES,
    PHASE_INVOKE,
    PHASE_RESTORE,
    SNAP_START,
    START_IMPORT,
    START_PROC,
    START_RESTORE,
    WORKER_PID,
)
from ._probes.process import (
    external_extensions_present,
    lineage,
    parent_start_ns,
    process_start_ns,
    runtime_client_loaded,
)

TYPE_CHECKING = False  # typing and the SDK cost ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from opentelemetry.trace import TracerProvider

    from ._core.claims import InvocationClaims
    from ._core.vocabulary import EndSource
    from ._delivery.policy import Delivery
    from ._probes.imports import ImportTracer
    from ._probes.runtime_hooks import RuntimeHooks
    from ._probes.state_file import StateFile
    from ._sdk.emitter import InitSpanEmitter
    from ._sdk.lazy_exporter import LazySpanExporter
    from ._sdk.metrics import InitMetrics
    from ._sdk.recorded_span import RecordedSpans

    T = TypeVar("T")


class SandboxInstrumentation:
    """This process's sandbox instrumentation state and the reactions to its lifecycle."""

    def __init__(self, environ: Any = None, now_ns: int | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.config: Config = load_config(environ)
        self.env: SandboxEnvironment = read_environment(environ)
        start = process_start_ns()
        if self.managed_instances and _forked_worker():
            # An LMI worker's own start is its fork; the sandbox's INIT began when the
            # runtime main process (its parent) started, and the worker's INIT (importing
            # the handler) is part of that wait: the init span starts there.
            start = parent_start_ns() or start
        if start is not None:
            init = InitRecord(start, START_PROC)
        else:
            init = InitRecord(now_ns or time.time_ns(), START_IMPORT)
        self.timeline = SandboxTimeline(init)
        self.records = ChildRecords()
        self.events = LifecycleEvents()
        self._hooks: RuntimeHooks | None = None
        self._claims: InvocationClaims | None = None
        self.import_tracer: ImportTracer | None = None
        self.state_file: StateFile | None = None
        self.started_by: str | None = None
        self.runtime_client_was_loaded: bool | None = None
        self.exporters: list[LazySpanExporter] = []  # built by us: renewed after a restore
        self._provider: TracerProvider | None = None
        self._processor_providers: weakref.WeakSet[Any] = weakref.WeakSet()
        # Invocation spans our wrapper started and has not ended: a platform timeout (SIGTERM)
        # ends them, so no exported span points at a parent that never left the sandbox.
        self._open_invocations: dict[int, Any] = {}
        self._emitter: InitSpanEmitter | None = None
        self._delivery: Delivery | None = None
        self._recorded: RecordedSpans | None = None  # warm spans built after the response
        self._metrics: InitMetrics | None = None
        # The wrapper route's deferred INIT (auto/deferred.py), while the SDK is left out.
        self.deferred: Any = None
        self._lock = threading.RLock()
        self.forked = False  # this process is one the function forked: nothing of ours runs
        self._subscribe()

    # -- what the owner is -----------------------------------------------------------------
    @property
    def in_sandbox(self) -> bool:
        """Inside a Lambda sandbox (a Runtime API exists) and not turned off."""
        return bool(self.env.runtime_api) and not self.config.disabled and not self.forked

    @property
    def managed_instances(self) -> bool:
        """Lambda Managed Instances: awslambdaric forks one worker per concurrency slot, each
        with its own INIT; extensions get no INVOKE events."""
        return self.env.initialization_type == MANAGED_INSTANCES

    @property
    def init_in_progress(self) -> bool:
        return self.in_sandbox and not self.timeline.init_over

    def provider(self) -> TracerProvider:
        """The one TracerProvider every span of ours goes to: the one handed to the public
        API, else the global one."""
        if self._provider is not None:
            return self._provider
        # Asked on every invocation: an import statement here costs the caller ~10 us with
        # the cold caches of an idle sandbox; the module is looked up instead, once loaded.
        loaded: Any = sys.modules.get("opentelemetry.trace")
        if loaded is None:
            from opentelemetry import trace as loaded
        return loaded.get_tracer_provider()

    def use_provider(self, provider: TracerProvider | None) -> None:
        if provider is not None:
            self._provider = provider

    def apply_overrides(self, **overrides: Any) -> None:
        """Keyword arguments of the public API win over environment variables."""
        self.config = self.config.with_overrides(**overrides)

    @property
    def emitter(self) -> InitSpanEmitter:
        if self._emitter is None:
            with self._lock:
                if self._emitter is None:
                    from ._sdk.emitter import InitSpanEmitter

                    self._emitter = InitSpanEmitter(
                        lambda: self.config,
                        self.env,
                        self.timeline,
                        self.records,
                        self.provider,
                        self._record_metrics,
                        lambda: external_extensions_present(self.config.extensions_dir),
                    )
        return self._emitter

    # Made on first use, not at ``import otel_lambda_init`` (each module is INIT time).
    @property
    def hooks(self) -> RuntimeHooks:
        """The one installer of runtime-client hooks, publishing into our events."""
        if self._hooks is None:
            with self._lock:
                if self._hooks is None:
                    from ._probes.runtime_hooks import RuntimeHooks

                    self._hooks = RuntimeHooks(self.events.publish)
        return self._hooks

    @property
    def claims(self) -> InvocationClaims:
        if self._claims is None:
            with self._lock:
                if self._claims is None:
                    from ._core.claims import InvocationClaims

                    self._claims = InvocationClaims()
        return self._claims

    @property
    def delivery(self) -> Delivery:
        if self._delivery is None:
            with self._lock:
                if self._delivery is None:
                    from ._delivery.policy import Delivery

                    self._delivery = Delivery(
                        lambda: self.config, before_export=self.materialize_recorded
                    )
        return self._delivery

    def _record_metrics(self, verdict: Any) -> None:
        if self._metrics is None:
            from ._sdk.metrics import InitMetrics

            self._metrics = InitMetrics()
        self._metrics.record(verdict)

    # -- INIT start: the probes ------------------------------------------------------------
    def begin(self, source: str, first_line_ns: int) -> None:
        """Our code runs for the first time in this process: note when and from where, and
        inside a sandbox start watching INIT (import tracer, state file, runtime hooks).
        Only the first call does anything."""
        init = self.timeline.init
        with self._lock:
            if self.started_by is not None:
                # Our auto routes import the package first ("import"): the way in that asked
                # is the one to name, and the earliest first line is ours.
                if self.started_by == "import" and source != "import":
                    self.started_by = source
                if init.first_line_ns is None or first_line_ns < init.first_line_ns:
                    init.first_line_ns = first_line_ns
                return
            self.started_by = source
        t0 = time.perf_counter_ns()
        init.first_line_ns = first_line_ns
        self.runtime_client_was_loaded = runtime_client_loaded()
        if not self.in_sandbox:
            return
        module = self.env.handler_module
        init.handler_code_before_us = module is not None and module in sys.modules
        try:
            # Imported here: the probes below only run inside a sandbox, and a unit test or
            # a script importing the package must not pay for them.
            from ._probes.imports import ImportTracer

            tracer = ImportTracer(self.records, self.config.import_threshold_ms, self.env.task_root)
            tracer.start()
            self.import_tracer = tracer
            if self.env.initialization_type != SNAP_START:
                # The snapshot would copy per-sandbox state into every restored sandbox.
                self._begin_state_file(self._state_key())
            if self.managed_instances and hasattr(os, "register_at_fork"):
                os.register_at_fork(after_in_child=self._forked_as_worker)
            else:
                from ._probes.fork_guard import on_fork

                on_fork(self._forked_by_the_function)
            self.hooks.install_when_loaded()
        except Exception:
            report_once("begin", "could not start watching INIT")
        finally:
            self.records.add_overhead(time.perf_counter_ns() - t0, bookkeeping=True)

    def _state_key(self) -> str | None:
        # LMI workers share /tmp and their parent: each keeps its own history.
        worker = self.managed_instances and _forked_worker()
        from ._core.history import sandbox_key

        return sandbox_key(self.env.log_stream_name, self.env.runtime_api, lineage(worker))

    def _forked_as_worker(self) -> None:
        """This process is an LMI worker forked after we started in the runtime main
        process (the wrapper route): its own state file and its own INIT from here."""
        try:
            self.state_file = None
            self.timeline.init.history = {}
            self._begin_state_file(self._state_key())
            self.timeline.init.history[WORKER_PID] = os.getpid()
        except Exception:
            report_once("lmi-fork", "could not set up the forked worker's state")

    def _forked_by_the_function(self) -> None:
        """A process the function forked (a multiprocessing pool, ``os.fork``) inherits this
        owner: like the SDK's processors, which drop their inherited queue, it exports
        nothing of ours, writes no state and runs no shutdown of ours (each checks this)."""
        self.forked = True

    def _begin_state_file(self, key: str | None) -> None:
        if not key:
            return
        from ._core.history import failed_attempt_record
        from ._probes.state_file import StateFile, state_dir, state_path

        state = StateFile(state_path(key, state_dir()), os.getpid())
        previous = state.begin(self.timeline.init.start_ns)
        self.state_file = state
        self.timeline.init.history = previous.init_span_attributes()
        if self.managed_instances and _forked_worker():
            self.timeline.init.history[WORKER_PID] = os.getpid()
        if previous.reran:
            self.timeline.init.phase = PHASE_INVOKE
            self.timeline.invocations_before = previous.invocations
            record = failed_attempt_record(previous, self.timeline.init.start_ns)
            if record is not None:
                self.records.add(record)

    def timed_setup(self, load: Callable[[], T]) -> T:
        """Run ``load()`` (one of our own lazy imports) as a stretch of our setup."""
        record = self.records.open_setup(time.time_ns())
        try:
            return load()
        finally:
            self.records.close_setup(record, time.time_ns())

    # -- the ways in hand over here ---------------------------------------------------------
    def start_delivery(self) -> None:
        """During INIT, set up how spans leave the sandbox (once): after-response on the
        runtime's thread with the SIGTERM extension, or ``sync`` said once."""
        delivery = self.delivery
        if delivery.started:
            return
        mode = delivery.start(
            self.env.runtime_api if runtime_client_loaded() else None,
            self.timeline.init_over,
            self.hooks.sees_posting,
            self.managed_instances,
        )
        if mode != self.config.flush:
            self.apply_overrides(flush=mode)
        if mode == FLUSH_AFTER_RESPONSE and not self.managed_instances:
            from ._delivery.shutdown import install_sigterm

            install_sigterm(self.shutdown)

    def configure_from_environment(self) -> TracerProvider:
        """The wrapper route: a TracerProvider from the standard ``OTEL_*`` variables (kept
        if somebody set one already), with lazily built exporters under after-response."""
        from ._sdk.provider import configure_tracer_provider

        flush = self.config.flush
        built = configure_tracer_provider(
            self.env, flush == FLUSH_AFTER_RESPONSE, held=flush == FLUSH_SYNC
        )
        self.exporters.extend(built.exporters)
        if built.exporters:  # a provider we built: flushed at interpreter exit, bounded
            import atexit

            atexit.register(self._flush_at_exit, built.provider)
        return built.provider

    def _flush_at_exit(self, provider: TracerProvider) -> None:
        if self.forked:
            return
        try:
            self.materialize_recorded()
            self.delivery.flusher.flush(provider, self.config.flush_timeout_ms / 1000.0)
        except Exception:
            report_once("exit-flush", "export at interpreter exit failed")

    def adopt_processor_provider(self, provider: TracerProvider) -> bool:
        """A processor goes on ``provider`` (once per provider); it becomes our provider
        unless the public API named one. False when it already has ours."""
        with self._lock:
            if provider in self._processor_providers:
                return False
            self._processor_providers.add(provider)
            if self._provider is None:
                self._provider = provider
        return True

    def end_init(self, end_ns: int, source: EndSource) -> None:
        """INIT is over (first caller wins): tell every subscriber, once."""
        if self.timeline.mark_init_end(end_ns, source):
            self.events.publish(Event(ev.INIT_END, end_ns, source=source))

    def init_span_emitted(self, provider: TracerProvider) -> None:
        self.delivery.init_span_ended(provider)

    def invocation_opened(self, span: Any) -> None:
        self._open_invocations[id(span)] = span

    def invocation_closed(self, span: Any) -> None:
        self._open_invocations.pop(id(span), None)

    def invocation_finished(self, request_id: str | None, provider: TracerProvider) -> None:
        """Our handler wrapper ended an invocation's spans (sampled or not)."""
        self.delivery.deliver("after-invocation", provider)

    def defers_warm_spans(self) -> bool:
        """Warm invocation spans are recorded and built after the response: under
        after-response delivery on the runtime's thread (unless opted out)."""
        delivery = self._delivery
        return (
            delivery is not None
            and delivery.after_post
            and self.config.defer_warm_spans
            and self.config.flush == FLUSH_AFTER_RESPONSE
        )

    def recorded_span_started(self, span: Any) -> None:
        """Keep a recorded warm invocation span until the export that builds it."""
        recorded = self._recorded
        if recorded is None:
            from ._sdk.recorded_span import RecordedSpans

            with self._lock:
                if self._recorded is None:
                    self._recorded = RecordedSpans()
                recorded = self._recorded
        if not recorded.add(span):
            recorded.materialize()  # too many wait: build the ended ones now
            recorded.add(span)

    def materialize_recorded(self) -> None:
        """Before an export: have the SDK build the recorded spans that have ended."""
        recorded = self._recorded
        if recorded is not None:
            recorded.materialize()  # nothing to do when none waits

    def shutdown(self, budget_s: float) -> None:
        """Lambda is shutting the sandbox down: export an INIT nobody used, then the rest."""
        self.events.publish(Event(ev.SHUTDOWN, time.time_ns(), budget_s=budget_s))

    # -- reactions to lifecycle events -------------------------------------------------------
    def _subscribe(self) -> None:
        on = self.events.subscribe
        on(ev.NEXT_REQUESTED, self._on_next_requested)
        on(ev.INVOCATION_RECEIVED, self._on_invocation_received)
        on(ev.INIT_END, self._on_init_end)
        on(ev.INIT_ERROR, self._on_init_error)
        on(ev.RESPONSE_POSTED, self._on_response_posted)
        on(ev.BEFORE_SNAPSHOT, self._on_before_snapshot)
        on(ev.RESTORED, self._on_restored)
        on(ev.SHUTDOWN, self._on_shutdown)

    def _on_next_requested(self, event: Event) -> None:
        self.claims.window_closed()
        if self.timeline.init.end_ns is None:  # every invocation comes here: INIT ends once
            self.end_init(event.time_ns, END_RUNTIME_NEXT)
        init = self.timeline.init
        if init.ready_ns is None and init.end_ns is not None:
            init.ready_ns = time.time_ns()  # after what INIT end did here: next leaves now

    def _on_invocation_received(self, event: Event) -> None:
        self.claims.window_opened()
        if self._delivery is not None:
            self._delivery.invocation_received(event.deadline)
        init = self.timeline.init
        if init.received_ns is None and init.ready_ns is not None:
            init.received_ns = event.time_ns  # the first event's hand-over: the idle gap ends

    def _stop_watching_init(self) -> None:
        if self.import_tracer is not None:
            self.import_tracer.stop()
        if self.timeline.init.cpu_ns is None:
            self.timeline.init.cpu_ns = time.process_time_ns()

    def _on_init_end(self, event: Event) -> None:
        self._stop_watching_init()
        if self.state_file is not None:
            self.state_file.init_done()
        if (
            self.in_sandbox
            and self._separate_mode_needs_emitter()
            and self.emitter.close_separate(event.time_ns)
        ):
            self.delivery.deliver("init-end", self.provider())

    def _separate_mode_needs_emitter(self) -> bool:
        from ._core.vocabulary import TRACE_SEPARATE

        return self.config.trace_mode == TRACE_SEPARATE and (
            self._emitter is not None or "opentelemetry.trace" in sys.modules
        )

    def _on_init_error(self, event: Event) -> None:
        """The runtime is about to report an INIT error and exit: export the init span first."""
        self._stop_watching_init()
        if self.state_file is not None:
            self.state_file.init_failed()
        self._materialize_deferred()
        if self.emitter.on_init_error(event.time_ns, event.error or {}):
            self.delivery.deliver("init-error", self.provider())

    def _on_response_posted(self, event: Event) -> None:
        # After the post returns: the caller has its answer before any of this runs.
        exported = True
        if self._delivery is not None:
            exported = self._delivery.response_posted(self.provider)
        if self.state_file is not None:
            # Under an export cadence the counter is written with the exports (and at
            # SIGTERM): the windows that export nothing write nothing either.
            self.state_file.count_invocation(write=exported)

    def _on_before_snapshot(self, event: Event) -> None:
        """SnapStart: the snapshot's INIT is over; export its span once, here."""
        self.end_init(event.time_ns, END_RESTORE_NEXT)
        self.emitter.emit_own_trace(event.time_ns)
        self.delivery.deliver("before-snapshot", self.provider())

    def _on_restored(self, event: Event) -> None:
        """This is a restored sandbox: new ids, new connections, a new cold start to report."""
        self.forked = False  # a restore that forks (the simulator's) is the runtime itself
        from ._sdk.snapstart import renew_exporters, reseed_ids

        reseed_ids()
        renew_exporters(self.exporters)
        self.records.reset()
        self.timeline.restart(InitRecord(event.time_ns, START_RESTORE, phase=PHASE_RESTORE))
        self.emitter.begin_restore()
        import random

        self.state_file = None
        self._begin_state_file(f"restore-{random.getrandbits(64):016x}")

    def _materialize_deferred(self) -> None:
        """Exports that need the provider now: build what the wrapper route deferred."""
        if self.deferred is not None:
            try:
                self.deferred.materialize()
            except Exception:
                report_once("deferred-build", "could not build tracing for an export")

    def _on_shutdown(self, event: Event) -> None:
        if self.forked:
            return
        if self.state_file is not None:
            self.state_file.write_pending()
        timed_out = self._end_timed_out_invocations(event.time_ns)
        self.materialize_recorded()  # warm spans waiting for an export, timed-out ones too
        t0 = time.monotonic()
        self._materialize_deferred()
        budget_s = event.budget_s
        if budget_s is not None:  # building what was deferred spent part of the grace
            budget_s = max(0.05, budget_s - (time.monotonic() - t0))
        if self._emitter is not None or "opentelemetry.trace" in sys.modules:
            self.emitter.emit_unused(event.time_ns)
            self.delivery.deliver("shutdown", self.provider(), budget_s=budget_s)
        elif timed_out:
            self.delivery.deliver("shutdown", self.provider(), budget_s=budget_s)

    def _end_timed_out_invocations(self, end_ns: int) -> int:
        """SIGTERM with an invocation still open is Lambda resetting the sandbox after the
        function timeout: end its span (ERROR, ``error.type=timeout``) and count it, so the
        runtime Lambda starts next continues the sandbox's invocation counter."""
        open_spans = list(self._open_invocations.values())
        self._open_invocations.clear()
        if not open_spans:
            return 0
        from ._sdk.emitter import end_timed_out

        for span in open_spans:
            end_timed_out(span, end_ns)
            if self.state_file is not None:
                self.state_file.count_invocation()
        if self._emitter is not None:
            self._emitter.close_root(end_ns)  # the root holding a timed-out first invocation
        return len(open_spans)


def _forked_worker() -> bool:
    """True in a process that multiprocessing forked (awslambdaric's LMI workers)."""
    process = sys.modules.get("multiprocessing.process")
    parent = getattr(process, "parent_process", None)
    try:
        return parent is not None and parent() is not None
    except Exception:
        return False


_sandbox: SandboxInstrumentation | None = None
_sandbox_lock = threading.Lock()


def sandbox() -> SandboxInstrumentation:
    """This process's owner, created on first use (reads env vars and /proc once)."""
    global _sandbox
    owner = _sandbox
    if owner is None:
        with _sandbox_lock:
            if _sandbox is None:
                _sandbox = SandboxInstrumentation()
                quiet_repeated_export_errors()
            owner = _sandbox
    return owner


def reset_sandbox_for_tests() -> SandboxInstrumentation:
    """Forget this process's owner and start a fresh one (tests only)."""
    global _sandbox
    old = _sandbox
    if old is not None and old.import_tracer is not None:
        old.import_tracer.stop()
    with _sandbox_lock:
        _sandbox = None
    return sandbox()

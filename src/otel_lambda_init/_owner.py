"""The one owner of this process's sandbox instrumentation.

``SandboxInstrumentation`` holds the configuration, the sandbox's environment, its timeline,
the INIT's child records and the lifecycle events, and makes the parts that react to them,
each subscribing itself: ``InvocationClaims`` (the runtime window), ``InitWatch`` (INIT start
and end, import tracer, state file), ``SpanReactions`` (the init span, open invocations) and
``Delivery``. The SDK adapters see it through
``_sdk.host.InvocationHost``. ``sandbox()`` is the one way to get it,
``reset_sandbox_for_tests()`` the one way to forget it.

Parts are made on first use (``_part``): ``import otel_lambda_init`` runs on every cold
start's path and must not pay for the OpenTelemetry SDK before something needs a span.
See docs/architecture.md.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref

from ._compat import EXPORT_LOGGERS, force_thread_polling
from ._core import events as ev
from ._core.claims import InvocationClaims
from ._core.config import Config, load_config
from ._core.environment import SandboxEnvironment, read_environment
from ._core.events import Event, LifecycleEvents
from ._core.records import ChildRecords
from ._core.report import quiet_repeated_export_errors, report_once
from ._core.timeline import SandboxTimeline
from ._core.vocabulary import FLUSH_AFTER_RESPONSE, FLUSH_SYNC, MANAGED_INSTANCES
from ._init_watch import InitWatch, init_start
from ._probes.process import external_extensions_present, forked_worker, runtime_client_loaded
from ._span_reactions import SpanReactions

TYPE_CHECKING = False  # typing and the SDK cost ms at import; this module is on the INIT path
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from ._core.vocabulary import DeliveryTrigger, EndSource
    from ._delivery.policy import Delivery
    from ._delivery.shutdown import SigtermHandler
    from ._probes.imports import ImportTracer
    from ._probes.runtime_hooks import RuntimeHooks
    from ._sdk.emitter import InitSpanEmitter
    from ._sdk.lazy_exporter import LazySpanExporter

    T = TypeVar("T")


class SandboxInstrumentation:
    """This process's sandbox instrumentation state; the parts react to its lifecycle."""

    def __init__(self, environ: Any = None, now_ns: int | None = None) -> None:
        environ = os.environ if environ is None else environ
        self.config: Config = load_config(environ)
        self.env: SandboxEnvironment = read_environment(environ)
        self.timeline = SandboxTimeline(init_start(self.managed_instances, now_ns))
        self.records = ChildRecords()
        self.events = LifecycleEvents()
        self.started_by: str | None = None
        self.runtime_client_was_loaded: bool | None = None
        self.exporters: list[LazySpanExporter] = []  # built by us: renewed after a restore
        self._provider: TracerProvider | None = None
        self._trace_api: Any = None  # the opentelemetry.trace module the provider came from
        self._processor_providers: weakref.WeakSet[Any] = weakref.WeakSet()
        self.deferred: Any = None  # the wrapper route's deferred INIT (auto/deferred.py)
        self.web: Any = None  # the web route's state (web/), behind the Lambda Web Adapter
        # External extensions that are the runtime client (the Lambda Web Adapter)
        self.runtime_client_extensions: frozenset[str] = frozenset()
        self._lock = threading.RLock()
        self._hooks: RuntimeHooks | None = None
        self._delivery: Delivery | None = None
        self._metrics: Any = None
        self.forked = False  # this process is one the function forked: nothing of ours runs
        self._sigterm: SigtermHandler | None = None
        # A restore that forks (the simulator's) is the runtime itself: first, before the rest.
        self.events.subscribe(ev.RESTORED, self._on_restored)
        # Lifecycle subscribers, in order: claims, INIT watch, spans (delivery when made).
        self.claims = InvocationClaims()
        self.claims.subscribe(self.events)
        self.watch = InitWatch(self)
        self.watch.subscribe(self.events)
        self.spans = SpanReactions(self, self._make_emitter, self.watch.count_invocation)
        self.spans.subscribe(self.events)

    # -- what the owner is -----------------------------------------------------------------
    @property
    def in_sandbox(self) -> bool:
        """Inside a Lambda sandbox (a Runtime API exists) and not turned off."""
        return bool(self.env.runtime_api) and not self.config.disabled and not self.forked

    @property
    def managed_instances(self) -> bool:
        """Lambda Managed Instances: awslambdaric forks one worker (its own INIT) per slot."""
        return self.env.initialization_type == MANAGED_INSTANCES

    @property
    def init_in_progress(self) -> bool:
        return self.in_sandbox and not self.timeline.init_over

    @property
    def import_tracer(self) -> ImportTracer | None:
        return self.watch.import_tracer

    def provider(self) -> TracerProvider:
        """Where every span of ours goes: the provider handed to the API, else the global one."""
        if self._provider is not None:
            return self._provider
        # Asked on every invocation: an import statement here costs the caller ~10 us with
        # the cold caches of an idle sandbox; the module is looked up instead, once loaded,
        # and kept: a handler that drops it from sys.modules still holds (and sets) this one.
        loaded: Any = self._trace_api or sys.modules.get("opentelemetry.trace")
        if loaded is None:
            from opentelemetry import trace as loaded
        self._trace_api = loaded
        return loaded.get_tracer_provider()

    def use_provider(self, provider: TracerProvider | None) -> None:
        if provider is not None:
            self._provider = provider

    def apply_overrides(self, **overrides: Any) -> None:
        """Keyword arguments of the public API win over environment variables."""
        self.config = self.config.with_overrides(**overrides)

    # -- parts made on first use --------------------------------------------------------------
    def _part(self, attribute: str, make: Callable[[], T]) -> T:
        """The part kept in ``attribute``, made by ``make`` on first use (once, any thread)."""
        part = getattr(self, attribute)
        if part is None:
            with self._lock:
                part = getattr(self, attribute)
                if part is None:
                    part = make()
                    setattr(self, attribute, part)
        return part

    @property
    def hooks(self) -> RuntimeHooks:
        """The one installer of runtime-client hooks, publishing into our events."""
        return self._part("_hooks", self._make_hooks)

    @property
    def delivery(self) -> Delivery:
        return self._part("_delivery", self._make_delivery)

    @property
    def emitter(self) -> InitSpanEmitter:
        return self.spans.emitter

    def _make_hooks(self) -> RuntimeHooks:
        from ._probes.runtime_hooks import RuntimeHooks

        return RuntimeHooks(self.events.publish, force_thread_polling)

    def _make_delivery(self) -> Delivery:
        from ._delivery.policy import Delivery

        delivery = Delivery(lambda: self.config)
        delivery.subscribe(self.events, self.provider)
        return delivery

    def _make_emitter(self) -> InitSpanEmitter:
        from ._sdk.emitter import InitSpanEmitter

        return InitSpanEmitter(
            lambda: self.config,
            self.env,
            self.timeline,
            self.records,
            self.provider,
            self._record_metrics,
            self.external_extensions,
        )

    def external_extensions(self) -> bool:
        """External extensions start in this sandbox: INIT may end late, the grace is short."""
        return external_extensions_present(
            self.config.extensions_dir, self.runtime_client_extensions
        )

    def _record_metrics(self, verdict: Any) -> None:
        self._part("_metrics", _make_metrics).record(verdict)

    def deliver(
        self, trigger: DeliveryTrigger, provider: Any, budget_s: float | None = None
    ) -> None:
        """Hand ``provider``'s finished spans to delivery for ``trigger``."""
        self.delivery.deliver(trigger, provider, budget_s=budget_s)

    def window_exported(self) -> bool:
        delivery = self._delivery
        return delivery is None or delivery.window_exported

    # -- INIT start: the probes ------------------------------------------------------------
    def begin(self, source: str, first_line_ns: int) -> None:
        """Our first line in this process: note when and from where, and inside a sandbox
        watch INIT (import tracer, state file, runtime hooks). Only the first call acts."""
        init = self.timeline.init
        with self._lock:
            if self.started_by is not None:
                # Our auto routes import the package first ("import"): the way in that asked
                # is the one to name, and the earliest first line is ours.
                if self.started_by == "import" and source != "import":
                    self.started_by = source
                    self._signal_lmi_workers()
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
            self.watch.start()
            if not self.managed_instances:  # LMI's forked workers are runtimes (the watch)
                from ._probes.fork_guard import on_fork

                on_fork(self._forked_by_the_function)
            self.hooks.install_when_loaded()
        except Exception:
            report_once("begin", "could not start watching INIT")
        finally:
            self.records.add_overhead(time.perf_counter_ns() - t0, bookkeeping=True)
        self._signal_lmi_workers()

    def _signal_lmi_workers(self) -> None:
        """In LMI's runtime main process on the wrapper route: SIGTERM for every worker."""
        if self.in_sandbox and self.managed_instances and not forked_worker() and not self._sigterm:
            self._sigterm = self.delivery.signal_workers(self.started_by, self.env, self.shutdown)

    def timed_setup(self, load: Callable[[], T]) -> T:
        """Run ``load()`` (one of our own lazy imports) as a stretch of our setup."""
        record = self.records.open_setup(time.time_ns())
        try:
            return load()
        finally:
            self.records.close_setup(record, time.time_ns())

    # -- the ways in hand over here ---------------------------------------------------------
    def start_delivery(self) -> None:
        """During INIT, once: after-response with the SIGTERM extension, else ``sync``."""
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

            self._sigterm = install_sigterm(self.shutdown, self.external_extensions)

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
            # Ours to keep: a handler replacing the global provider later (a test helper's
            # reset, a framework's own) takes its spans there, not ours.
            self.use_provider(built.provider)
        return built.provider

    def _flush_at_exit(self, provider: TracerProvider) -> None:
        if self.forked:
            return
        try:
            self.delivery.flusher.flush(provider, self.config.flush_timeout_ms / 1000.0)
        except Exception:
            report_once("exit-flush", "export at interpreter exit failed")

    def _forked_by_the_function(self) -> None:
        """A process the function forked (a pool, ``os.fork``): like the SDK's processors,
        it drops what it inherited, writes no state and leaves SIGTERM as it found it."""
        self.forked = True
        if self._sigterm is not None:
            self._sigterm.step_aside()

    def _on_restored(self, event: Event) -> None:
        self.forked = False
        if self._sigterm is not None:
            self._sigterm.resume()

    def adopt_processor_provider(self, provider: TracerProvider) -> bool:
        """A processor goes on ``provider`` (once), ours unless the API named one."""
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

    def shutdown(self, budget_s: float | None = None) -> None:
        """Lambda is shutting the sandbox down: export an INIT nobody used, then the rest."""
        if self.forked:
            return  # a forked child got the SIGTERM its parent's handler set (a pool's end)
        self.events.publish(Event(ev.SHUTDOWN, time.time_ns(), budget_s=budget_s))

    # -- what the SDK adapters call (``_sdk.host.InvocationHost``) ---------------------------
    def invocation_opened(self, span: Span) -> None:
        """Our wrapper started ``span``: hold it (a nested wrapper makes no second one) and
        end it at SIGTERM if the platform times the invocation out."""
        self.claims.hold(span.get_span_context().span_id, span)
        self.spans.invocation_opened(span)

    def invocation_closed(self, span: Span) -> None:
        self.spans.invocation_closed(span)
        self.claims.release(span.get_span_context().span_id)

    def invocation_finished(self, provider: TracerProvider) -> None:
        """Our handler wrapper ended an invocation's spans (sampled or not): deliver them."""
        self.delivery.deliver("after-invocation", provider)

    def first_invocation(
        self,
        span: Span,
        parent: Context | None,
        start_ns: int,
        provider: TracerProvider | None = None,
    ) -> dict[str, Any]:
        """Emit the init span for the first invocation ``span`` and return the attributes it
        should carry; with ``provider`` (our wrapper's), ``sync`` starts exporting it now."""
        attributes = self.emitter.on_first_invocation(span, parent, start_ns)
        if provider is not None:
            self.delivery.init_span_ended(provider)
        return attributes

    def open_root(self, tracer: Tracer, parent: Context | None, start_ns: int) -> Span | None:
        return self.emitter.open_root(tracer, parent, start_ns)

    def close_root(self, end_ns: int) -> None:
        self.emitter.close_root(end_ns)

    def adopt_into_root(self, span: Span) -> bool:
        return self.emitter.adopt_into_root(span)


def _make_metrics() -> Any:
    from ._sdk.metrics import InitMetrics

    return InitMetrics()


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
                quiet_repeated_export_errors(EXPORT_LOGGERS)
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

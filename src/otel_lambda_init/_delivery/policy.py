"""One delivery policy: every trigger that must get spans out of the sandbox goes here.

After an invocation the configured mode decides (``after-response``: exported on the runtime's
thread between its post of the response and its next ``next``; ``sync``: a bounded flush
before the handler returns; ``none``: someone else flushes). At INIT end (``separate``), an
INIT error, before a SnapStart snapshot and at shutdown the spans are flushed now, bounded,
whatever the mode. Where the runtime client's post cannot be seen, ``sync`` (said once).
See docs/delivery.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .._core import events as ev
from .._core.config import Config
from .._core.environment import SandboxEnvironment
from .._core.events import Event, LifecycleEvents
from .._core.report import report_once
from .._core.vocabulary import FLUSH_AFTER_RESPONSE, FLUSH_NONE, FLUSH_SYNC, DeliveryTrigger
from .cadence import ExportCadence
from .deadline import parse_deadline_ms, seconds_left
from .extension import ShutdownSignalExtension, is_foreign_process, start_shutdown_signal
from .flush import BoundedFlusher, Flushable
from .shutdown import SigtermHandler, for_workers, install_sigterm

# Our first line in LMI's runtime main process: the wrapper route's early hook. The
# decorator's module is imported in the workers only; under opentelemetry-instrument delivery
# falls back to sync, which registers no extension (as outside LMI).
_RUNTIME_MAIN_SOURCES = ("sitecustomize",)


class Delivery:
    """Decides, per trigger, whether and how long to flush; owns the flusher and extension."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config
        self.flusher = BoundedFlusher()
        # Export on the runtime's thread once it posted the response (Lambda Managed
        # Instances' workers too).
        self.after_post = False
        # Registered for no events, so that Lambda sends SIGTERM at shutdown.
        self.signal_extension: ShutdownSignalExtension | None = None
        self.cadence: ExportCadence | None = None
        self.started = False
        # The invocation in progress (one at a time per runtime process, LMI workers too):
        # its deadline, and the provider its spans went to, handed over by our wrapper.
        self._deadline: object = None
        self._handed: Flushable | object | None = None
        # Whether the last response window exported (an export cadence skips some).
        self.window_exported = True
        self._provider: Callable[[], Flushable | object] = lambda: None

    def subscribe(
        self, events: LifecycleEvents, provider: Callable[[], Flushable | object]
    ) -> None:
        """React to the runtime receiving an event and posting its response; ``provider``
        is flushed when our wrapper handed over none."""
        self._provider = provider
        events.subscribe(ev.INVOCATION_RECEIVED, self._on_invocation_received)
        events.subscribe(ev.RESPONSE_POSTED, self._on_response_posted)

    def _on_invocation_received(self, event: Event) -> None:
        self.invocation_received(event.deadline)

    def _on_response_posted(self, event: Event) -> None:
        # After the post returns: the caller has its answer before any of this runs.
        self.window_exported = self.response_posted(self._provider)

    def start(
        self,
        runtime_api: str | None,
        init_over: bool,
        sees_posting: bool,
        managed_instances: bool = False,
    ) -> str:
        """During INIT, set up after-response delivery (registering the internal extension).
        Returns the flush mode in effect: ``sync`` when after-response cannot be had (said
        once)."""
        config = self._config()
        self.started = True
        if config.flush != FLUSH_AFTER_RESPONSE:
            return config.flush
        cadence = (
            ExportCadence(config.export_interval_ms) if config.export_interval_ms > 0 else None
        )
        if not runtime_api or not sees_posting or is_foreign_process():
            report_once(
                "after-response-unavailable",
                "after-response flushing needs the Lambda runtime client (awslambdaric) in "
                "this process, hooked so that its response post is seen; falling back to "
                "OTEL_LAMBDA_INIT_FLUSH=sync",
                exc_info=False,
            )
            return FLUSH_SYNC
        self.after_post = True
        self.cadence = cadence
        if managed_instances:
            # LMI: no extension events; the runtime main process registered for SIGTERM.
            return FLUSH_AFTER_RESPONSE
        if init_over:
            report_once(
                "extension-late",
                "set up after INIT: Lambda accepts no extension now, so it sends no SIGTERM "
                "and an INIT no invocation used is not exported at shutdown",
                exc_info=False,
            )
        else:
            self.signal_extension = start_shutdown_signal(runtime_api)
        return FLUSH_AFTER_RESPONSE

    def signal_workers(
        self,
        source: str | None,
        env: SandboxEnvironment,
        on_worker_shutdown: Callable[[float], None],
    ) -> SigtermHandler | None:
        """Lambda Managed Instances, in the runtime main process before it forks (our first
        line there is the wrapper route's): the extension makes the platform send SIGTERM to
        every worker at shutdown, and the handler they inherit exports theirs (docs/safety.md).
        The workers are runtimes, not foreign processes."""
        if (
            source not in _RUNTIME_MAIN_SOURCES
            or not env.runtime_api
            or self._config().flush != FLUSH_AFTER_RESPONSE
            or is_foreign_process()
        ):
            return None
        try:
            self.signal_extension = start_shutdown_signal(env.runtime_api, claim=False)
            if self.signal_extension is None:  # refused: said once, no SIGTERM comes
                return None
            return install_sigterm(for_workers(on_worker_shutdown), for_forked_workers=True)
        except Exception:
            report_once("lmi-signal", "could not set up the workers' export at SIGTERM")
            return None

    def invocation_received(self, deadline: object) -> None:
        """The runtime received an invocation's event (on its own thread), with its deadline
        header as read (parsed after the response, off the caller's time)."""
        self._deadline = deadline
        self._handed = None

    def response_posted(self, provider: Callable[[], Flushable | object]) -> bool:
        """On the runtime's thread, right after it posted the result: the caller has its
        answer; Lambda waits for this thread's ``next`` before the next request. False when
        the export cadence left this window without an export."""
        if not self.after_post:
            return True
        # What our wrapper handed over; else (the decorated function was never reached: a
        # warm-up, a middleware that raised) whatever the provider holds.
        handed, self._handed = self._handed, None
        deadline, self._deadline = self._deadline, None
        if self.cadence is not None and not self.cadence.due(time.time_ns()):
            return False
        timeout_s = self._config().flush_timeout_ms / 1000.0
        deadline_ms = parse_deadline_ms(deadline)
        if deadline_ms is not None:
            timeout_s = min(timeout_s, seconds_left(deadline_ms))
        if timeout_s > 0:
            self.flusher.flush(handed if handed is not None else provider(), timeout_s)
        return True

    def deliver(
        self,
        trigger: DeliveryTrigger,
        provider: Flushable | object,
        *,
        budget_s: float | None = None,
    ) -> bool:
        """Get ``provider``'s finished spans out for ``trigger``. True when handed over or
        flushed within the bound."""
        config = self._config()
        if trigger == "after-invocation":  # every invocation, in the caller's time: the least
            if config.flush == FLUSH_AFTER_RESPONSE and self.after_post:
                self._handed = provider  # flushed once the runtime has posted the response
                return True
            if config.flush == FLUSH_NONE:
                return True
        bound_s = config.flush_timeout_ms / 1000.0 if budget_s is None else budget_s
        # The process may not outlive these: what an earlier, stuck export holds up is waited
        # for within the bound rather than given up at once.
        last_chance = trigger in ("shutdown", "init-error")
        return self.flusher.flush(provider, bound_s, wait_for_earlier=last_chance)

    def init_span_ended(self, provider: Flushable | object) -> None:
        """``sync``: start exporting the INIT span at once. The first invocation may be
        killed (Lambda's default 3 s timeout) before the SDK's 5 s batch delay, and its own
        flush at the end never comes."""
        config = self._config()
        if config.flush == FLUSH_SYNC:
            self.flusher.kick(provider, config.flush_timeout_ms / 1000.0)

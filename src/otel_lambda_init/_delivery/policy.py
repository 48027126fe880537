"""One delivery policy: every trigger that must get spans out of the sandbox goes here.

After an invocation the configured mode decides (``after-response``: the internal extension
exports once the caller has its response; ``sync``: a bounded flush before the handler
returns; ``none``: someone else flushes). At INIT end (``separate`` mode), at an INIT error,
before a SnapStart snapshot and at shutdown the spans are flushed now, bounded, whatever the
mode: the process may not live to export them later.
"""

from __future__ import annotations

from collections.abc import Callable

from .._core.config import Config
from .._core.report import report_once
from .._core.vocabulary import FLUSH_AFTER_RESPONSE, FLUSH_NONE, FLUSH_SYNC, DeliveryTrigger
from .cadence import ExportCadence
from .extension import AfterResponseExtension, start_after_response
from .flush import BoundedFlusher, Flushable


class Delivery:
    """Decides, per trigger, whether and how long to flush; owns the flusher and extension."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config
        self.flusher = BoundedFlusher()
        self.extension: AfterResponseExtension | None = None
        # Lambda Managed Instances: extensions get no INVOKE events, so "after the response"
        # is right after the runtime posted it, bounded, on the worker's own thread.
        self.after_post = False
        self.started = False

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
        if managed_instances:
            if sees_posting:
                self.after_post = True
                return FLUSH_AFTER_RESPONSE
            return FLUSH_SYNC
        if runtime_api and not init_over:
            self.extension = start_after_response(
                runtime_api, config.flush_timeout_ms, self.flusher, sees_posting
            )
            if self.extension is not None and config.export_interval_ms > 0:
                self.extension.export_due = ExportCadence(config.export_interval_ms).due
        else:
            report_once(
                "extension-late",
                "after-response flushing needs the package set up during INIT (or a Runtime "
                "API); falling back to OTEL_LAMBDA_INIT_FLUSH=sync",
                exc_info=False,
            )
        return FLUSH_AFTER_RESPONSE if self.extension is not None else FLUSH_SYNC

    def response_posted(
        self, request_id: str | None, provider: Callable[[], Flushable | object]
    ) -> None:
        if self.after_post:
            self.flusher.flush(provider(), self._config().flush_timeout_ms / 1000.0)
        elif self.extension is not None and request_id:
            self.extension.response_posted(request_id, provider())

    def deliver(
        self,
        trigger: DeliveryTrigger,
        provider: Flushable | object,
        *,
        request_id: str | None = None,
        budget_s: float | None = None,
    ) -> bool:
        """Get ``provider``'s finished spans out for ``trigger``. True when handed over or
        flushed within the bound."""
        config = self._config()
        bound_s = config.flush_timeout_ms / 1000.0 if budget_s is None else budget_s
        if trigger == "after-invocation":
            if config.flush == FLUSH_AFTER_RESPONSE and self.extension is not None and request_id:
                self.extension.handler_finished(request_id, provider)
                return True
            if config.flush == FLUSH_AFTER_RESPONSE and self.after_post:
                return True  # flushed once the runtime has posted the response
            if config.flush == FLUSH_NONE:
                return True
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

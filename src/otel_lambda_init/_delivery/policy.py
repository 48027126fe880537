"""One delivery policy: every trigger that must get spans out of the sandbox goes here.

After an invocation the configured mode decides (``after-response``: the internal extension
exports once the caller has its response; ``sync``: a bounded flush before the handler
returns; ``none``: someone else flushes). At INIT end (``separate`` mode), at an INIT error,
before a SnapStart snapshot and at shutdown the spans are flushed now, bounded, whatever the
mode: the process may not live to export them later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._core.config import Config
from .._core.report import report_once
from .._core.vocabulary import FLUSH_AFTER_RESPONSE, FLUSH_NONE, FLUSH_SYNC, DeliveryTrigger
from .cadence import ExportCadence
from .extension import AfterResponseExtension, start_after_response
from .flush import BoundedFlusher


class Delivery:
    """Decides, per trigger, whether and how long to flush; owns the flusher and extension."""

    def __init__(self, config: Callable[[], Config]) -> None:
        self._config = config
        self.flusher = BoundedFlusher()
        self.extension: AfterResponseExtension | None = None
        self.started = False

    def start(self, runtime_api: str | None, init_over: bool, sees_posting: bool) -> str:
        """During INIT, set up after-response delivery (registering the internal extension).
        Returns the flush mode in effect: ``sync`` when after-response cannot be had (said
        once)."""
        config = self._config()
        self.started = True
        if config.flush != FLUSH_AFTER_RESPONSE:
            return config.flush
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

    def response_posted(self, request_id: str | None) -> None:
        if self.extension is not None and request_id:
            self.extension.response_posted(request_id)

    def deliver(
        self,
        trigger: DeliveryTrigger,
        provider: Any,
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
            if config.flush == FLUSH_NONE:
                return True
        return self.flusher.flush(provider, bound_s)

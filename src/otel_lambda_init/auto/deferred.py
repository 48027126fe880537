"""The wrapper route's deferred INIT: decide it, watch for OpenTelemetry, go live.

When nothing in the process needs a live span (``_core.deferred.why_not_defer``), the shim
builds nothing from the SDK during INIT: INIT and the first invocation are recorded as plain
facts and built after the first response (``_sdk.deferred.DeferredHandler``). Whoever
imports ``opentelemetry.trace`` first (the function's module during INIT, the handler during
its first call) gets the provider built at that moment, as without deferral. See
docs/wrapper.md, "Deferred INIT".
"""

from __future__ import annotations

import os
import sys

from .._core.deferred import why_not_defer
from .._core.report import logger, report_once
from .._probes.otel_watch import OpenTelemetryImportWatch

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .._owner import SandboxInstrumentation
    from .._sdk.deferred import DeferredHandler
    from .._sdk.handler import HandlerInstrumentation


class DeferredInit:
    """The wrapper route's INIT while the SDK is left out of it."""

    def __init__(self, owner: SandboxInstrumentation) -> None:
        self.owner = owner
        self.provider: Any = None
        self.handler: DeferredHandler | None = None
        self.watch = OpenTelemetryImportWatch(self._opentelemetry_imported)
        # The configuration as INIT saw it: the build may come after a handler changed it.
        self.otel_env = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}

    def _opentelemetry_imported(self) -> None:
        """Something imported ``opentelemetry.trace``: it may start spans from now on."""
        try:
            if self.handler is None:
                self.live_provider()  # during INIT: as if nothing had been deferred
            else:
                self.handler.materialize()
        except Exception:
            report_once("deferred-live", "could not build tracing when OpenTelemetry arrived")

    def live_provider(self, *, build_exporters: bool = True) -> Any:
        """The wrapper route's provider, built now (once); after INIT its exporters too, as
        the export is next (not at shutdown: the loopback sender may stand in for them)."""
        self.watch.stop()
        if self.provider is None:
            with _as_at_init(self.otel_env):
                self.provider = self.owner.configure_from_environment()
                if build_exporters and self.owner.timeline.init_over:
                    for exporter in self.owner.exporters:
                        exporter.build()
        return self.provider

    def materialize(self) -> Any:
        """Build what was deferred (the owner calls this before an INIT error or shutdown
        export, which need the provider)."""
        if self.handler is not None:
            return self.handler.materialize()
        return self.live_provider()

    def materialize_for_shutdown(self) -> Any:
        """Before the shutdown export: with an invocation taken, everything; for an INIT
        nobody used, only the provider (docs/safety.md)."""
        handler = self.handler
        if handler is not None and handler.taken:
            return handler.materialize()
        return self.live_provider(build_exporters=False)

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any] | None:
        """The deferred handler for ``fn``; None when the provider had to be built during
        INIT (the shim then wraps ``fn`` as usual)."""
        if self.provider is not None:
            return None
        from .._sdk.deferred import DeferredHandler

        self.handler = DeferredHandler(fn, self.owner, lambda: self._go_live(fn))
        return self.handler

    def _go_live(self, fn: Callable[..., Any]) -> tuple[HandlerInstrumentation, Any, Any]:
        provider = self.live_provider()
        from .._sdk.handler import HandlerInstrumentation, wrap_handler

        instrumentation = HandlerInstrumentation(self.owner)
        return instrumentation, wrap_handler(fn, instrumentation), provider


class _as_at_init:  # noqa: N801 - used like a function: ``with _as_at_init(env):``
    """Build as INIT would have: the ``OTEL_*`` variables INIT saw (a handler may have cleared
    or changed ``os.environ`` by the first response) and room to import the SDK (a handler may
    have lowered the recursion limit); the process gets its own values back afterwards."""

    _ROOM = 1000  # Python's default; importing the SDK and the exporter needs less

    def __init__(self, otel_env: dict[str, str]) -> None:
        self._otel_env = otel_env
        self._changed: dict[str, str | None] = {}
        self._limit = 0

    def __enter__(self) -> None:
        for name, value in self._otel_env.items():
            now = os.environ.get(name)
            if now != value:
                self._changed[name] = now
                os.environ[name] = value
        self._limit = sys.getrecursionlimit()
        if self._limit < self._ROOM:
            sys.setrecursionlimit(self._ROOM)

    def __exit__(self, *exc: object) -> None:
        for name, value in self._changed.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        if self._limit < self._ROOM:
            sys.setrecursionlimit(self._limit)


def plan(owner: SandboxInstrumentation) -> DeferredInit | None:
    """A ``DeferredInit`` when INIT may leave the SDK out (after-response delivery started
    here, during INIT); None when the provider must be built now."""
    config = owner.config
    if config.disabled or not config.deferred_init or not owner.init_in_progress:
        return None
    reason = why_not_defer(
        flush=config.flush,
        trace_mode=config.trace_mode,
        initialization_type=owner.env.initialization_type,
        opentelemetry_loaded="opentelemetry" in sys.modules,
        after_response_running=True,
    )
    if reason is None:
        owner.start_delivery()  # registers the extension; the live route does it after load
        reason = why_not_defer(
            flush=owner.config.flush,
            trace_mode=config.trace_mode,
            initialization_type=owner.env.initialization_type,
            opentelemetry_loaded=False,
            after_response_running=owner.delivery.after_post,
        )
    if reason is not None:
        logger.debug("otel-lambda-init: INIT builds tracing now: %s", reason)
        return None
    deferred = DeferredInit(owner)
    deferred.watch.start()
    owner.deferred = deferred
    return deferred

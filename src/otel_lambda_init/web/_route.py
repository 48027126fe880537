"""The web route: what the ASGI and WSGI middleware share behind the Lambda Web Adapter.

The adapter forwards each event as an HTTP request carrying ``x-amzn-lambda-context``; its
readiness probes carry none. A request with it is an invocation, handed to the same handler
wrapper as the other routes (a Lambda-shaped event built from the adapter's headers, so the
trigger, the parent context and the event-time rules are the other routes' own). INIT ends
when the app answers a readiness probe healthy: the adapter calls the Runtime API's ``next``
right after. Everything here is guarded: a failure is reported once and the request is
served unchanged. See docs/web-apps.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry.trace import Status, StatusCode, TracerProvider

from .._core import vocabulary as v
from .._core.claims import NESTED
from .._core.event_time import received_ns_from_request_context
from .._core.report import report_once
from .._owner import SandboxInstrumentation, sandbox
from .._probes.process import parent_start_ns, server_worker_process
from .._sdk.handler import HandlerInstrumentation
from ._headers import (
    REQUEST_CONTEXT,
    AdapterContext,
    parse_lambda_context,
    parse_request_context,
)

HTTP_METHOD = "http.request.method"
HTTP_STATUS = "http.response.status_code"
SHUTDOWN_EXPORT_S = 0.25
"""Of the grace Lambda gives the runtime at shutdown with an external extension (the
adapter) present, what the export may spend after the server's own shutdown."""
_HEALTHY = "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS"
_MIN_UNHEALTHY = "AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS"
_MAX_PROPAGATION_CHARS = 8192
ADAPTER = "lambda-adapter"
"""The adapter's file name in /opt/extensions (its layer and its container recipe)."""


def healthy_statuses(environ: Mapping[str, str]) -> frozenset[int]:
    """The statuses the adapter takes as ready, read from its own variables as it does:
    ``AWS_LWA_READINESS_CHECK_HEALTHY_STATUS`` ("200-399,404"), else the deprecated minimum
    unhealthy status, else 100-499."""
    spec = (environ.get(_HEALTHY) or "").strip()
    if spec:
        statuses: set[int] = set()
        for part in spec.split(","):
            low, _, high = part.strip().partition("-")
            try:
                statuses.update(range(int(low), int(high or low) + 1))
            except ValueError:
                continue
        if statuses:
            return frozenset(statuses)
    try:
        limit = int(environ.get(_MIN_UNHEALTHY) or 500)
    except ValueError:
        limit = 500
    return frozenset(range(100, limit))


class Request:
    """One invocation in flight: the wrapper's state and the adapter's context."""

    __slots__ = ("invocation", "context")

    def __init__(self, invocation: Any, context: AdapterContext) -> None:
        self.invocation = invocation
        self.context = context


class WebRoute:
    """This process's web route: one per process, shared by every middleware instance."""

    def __init__(self, owner: SandboxInstrumentation) -> None:
        self.owner = owner
        self.instrumentation = HandlerInstrumentation(owner)
        self.healthy = healthy_statuses(os.environ)
        self.extension: Any = None  # the INVOKE extension, when after-response is had
        self._cadence: Any = None
        self._shutdown_done = False

    # -- setup, during INIT -------------------------------------------------------------------
    def set_up(self, tracer_provider: TracerProvider | None) -> None:
        owner = self.owner
        owner.use_provider(tracer_provider)
        if server_worker_process():
            # A server's worker: the sandbox's INIT began when its master started.
            start = parent_start_ns()
            init = owner.timeline.init
            if start is not None and start < init.start_ns and not owner.timeline.init_over:
                init.start_ns = start
        if not owner.in_sandbox:
            return
        # The adapter is an external extension, but it is the runtime client too: it calls
        # the runtime's next right after readiness (its extension next came at once).
        owner.runtime_client_extensions = frozenset({ADAPTER})
        self._start_delivery()
        if tracer_provider is None:
            owner.configure_from_environment()
        if owner.init_in_progress:
            owner.emitter.open_during_init()
        import atexit

        atexit.register(self.at_shutdown)

    def _start_delivery(self) -> None:
        """After-response through our own INVOKE extension in the server's one process; a
        bounded flush before each response (``sync``) where that cannot be had."""
        owner = self.owner
        if owner.config.flush != v.FLUSH_AFTER_RESPONSE:
            return
        from .._delivery.extension import _OWNER_ENV, is_foreign_process

        why = None
        if server_worker_process():
            why = "the server runs worker processes (Lambda sends INVOKE to one extension)"
        elif is_foreign_process():
            why = "an extension of ours is registered by another process"
        elif owner.timeline.init_over:
            why = "INIT is over (Lambda accepts no extension now)"
        if why is None:
            from ._extension import InvokeExtension

            extension = InvokeExtension(owner.env.runtime_api or "", self._export)
            extension.timeout_s = lambda: owner.config.flush_timeout_ms / 1000.0
            try:
                extension.register()
            except Exception as error:
                why = f"the extension could not register ({error})"
            else:
                os.environ[_OWNER_ENV] = str(os.getpid())
                if owner.config.export_interval_ms > 0:
                    from .._delivery.cadence import ExportCadence

                    self._cadence = ExportCadence(owner.config.export_interval_ms)
                extension.start()
                self.extension = extension
                return
        report_once(
            "web-after-response-unavailable",
            f"after-response flushing is not available here: {why}; spans are flushed "
            "before each response (OTEL_LAMBDA_INIT_FLUSH=sync)",
            exc_info=False,
        )
        owner.apply_overrides(flush=v.FLUSH_SYNC)

    def _export(self, timeout_s: float) -> None:
        """On the extension's thread, the app's response sent: export what ended (at most
        every ``OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS``; the rest goes at shutdown)."""
        owner = self.owner
        cadence = self._cadence
        if cadence is not None and not cadence.due(time.time_ns()):
            return
        owner.delivery.flusher.flush(owner.provider(), timeout_s)

    # -- readiness probes ------------------------------------------------------------------
    def probe_answered(self, status: int | None, end_ns: int) -> None:
        """A request without the adapter's lambda context was answered: during INIT it is a
        readiness probe, and a healthy answer ends INIT."""
        try:
            owner = self.owner
            if owner.timeline.init_over:
                report_once(
                    "web-no-lambda-context",
                    "a request without x-amzn-lambda-context (not an event the Lambda Web "
                    "Adapter forwarded) was served and not recorded as an invocation",
                    exc_info=False,
                )
                return
            if status in self.healthy:
                owner.end_init(end_ns, v.END_READINESS)
                owner.timeline.init.ready_ns = end_ns
        except Exception:
            report_once("web-probe", "could not note the readiness check")

    @property
    def flushes_before_response(self) -> bool:
        """``sync``: the spans must be out before the adapter has the whole response (it then
        posts it, and Lambda may freeze the sandbox), so the invocation ends just before the
        app's last bytes are handed to the server."""
        return self.extension is None and self.owner.config.flush == v.FLUSH_SYNC

    @property
    def probing(self) -> bool:
        """Requests without the lambda context are still readiness probes (INIT not over)."""
        return not self.owner.timeline.init_over

    # -- invocations -------------------------------------------------------------------------
    def start(
        self,
        lambda_context: str | None,
        request_context: str | None,
        headers: dict[str, str],
        method: str | None,
    ) -> Request:
        """An event the adapter forwarded: its invocation span started. Whatever fails, the
        request is still finished and delivered (the extension waits to hear of it)."""
        context = AdapterContext()
        try:
            context, problem = parse_lambda_context(lambda_context)
            if problem:
                report_once(
                    "web-lambda-context",
                    f"{problem}; the request is served and traced with what could be read",
                    exc_info=False,
                )
            kept, problem = parse_request_context(request_context)
            if kept:
                problem = problem or self._future_time(kept)
            if problem:
                report_once(
                    "web-request-context",
                    f"{problem}; the request is served and traced without the trigger's time",
                    exc_info=False,
                )
            # The Lambda-shaped event the adapter received, as far as we use it: the
            # trigger's request context (its time only) and the propagation headers.
            event = {"requestContext": kept, "headers": headers}
            invocation = self.instrumentation.start(event, context)
            if invocation is NESTED:  # inside another wrapper of ours: it owns the span
                return Request(None, context)
            if invocation is not None and method:
                invocation.span.set_attribute(HTTP_METHOD, method[:16])
            return Request(invocation, context)
        except Exception:
            report_once("web-invocation-start", "could not start the invocation span")
            return Request(None, context)

    def _future_time(self, kept: dict[str, Any]) -> str | None:
        """A time of receipt after now (beyond the tolerance) is a lie or a clock gone
        wrong: the event-time rules ignore it; said once."""
        received = received_ns_from_request_context(kept)
        tolerance_ns = int(self.owner.config.event_time_tolerance_ms * 1_000_000)
        if received is not None and received > time.time_ns() + tolerance_ns:
            return f"{REQUEST_CONTEXT} says the request was received in the future"
        return None

    def finish(
        self, request: Request | None, status: int | None, error: BaseException | None
    ) -> None:
        """The app answered (or raised): end the spans, then deliver them."""
        if request is None:
            return
        try:
            invocation = request.invocation
            if invocation is not None and isinstance(status, int):
                invocation.span.set_attribute(HTTP_STATUS, status)
                if status >= 500 and error is None:
                    invocation.span.set_status(Status(StatusCode.ERROR))
            self.instrumentation.finish(invocation, error, deliver=False)
        except Exception:
            report_once("web-invocation-finish", "could not end the invocation span")
        try:
            if self.extension is not None:
                self.extension.request_finished(request.context.aws_request_id)
            else:
                provider = (
                    request.invocation.provider
                    if request.invocation is not None
                    else self.owner.provider()
                )
                self.owner.delivery.deliver("after-invocation", provider)
        except Exception:
            report_once("web-delivery", "could not deliver the invocation's spans")

    # -- shutdown ------------------------------------------------------------------------------
    def at_shutdown(self) -> None:
        """The server is shutting down (ASGI lifespan, interpreter exit): export what is left,
        the INIT of a sandbox that served nothing included. Once."""
        if self._shutdown_done or not self.owner.in_sandbox:
            return
        self._shutdown_done = True
        try:
            self.owner.shutdown(SHUTDOWN_EXPORT_S)
        except Exception:
            report_once("web-shutdown", "export at shutdown failed")


def propagation_headers(pairs: Any) -> dict[str, str]:
    """Request headers a propagator may read, lower-cased, the adapter's own left out."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        if len(value) <= _MAX_PROPAGATION_CHARS and not name.startswith("x-amzn-lambda"):
            headers[name] = value
    return headers


def web_route(
    tracer_provider: TracerProvider | None = None,
    flush: str | None = None,
    trace_mode: str | None = None,
) -> WebRoute | None:
    """This process's web route (kept by the owner), set up on first use; None (said once)
    when it is turned off or could not be set up: the app is then served uninstrumented."""
    try:
        owner = sandbox()
        if isinstance(owner.web, WebRoute):
            return owner.web
        owner.begin("web", time.time_ns())
        owner.apply_overrides(flush=flush, trace_mode=trace_mode)
        if owner.config.disabled:
            return None
        route = WebRoute(owner)
        owner.web = route
        route.set_up(tracer_provider)
    except Exception as error:
        if isinstance(error, ValueError) and (flush or trace_mode):
            raise  # a bad keyword is the caller's bug, said when the app is built
        report_once("web-setup", "setup failed; the app is served uninstrumented")
        return None
    return route


class WrappedApp:
    """What the ASGI and WSGI middlewares share: the app they wrap and this process's route."""

    def __init__(
        self,
        app: Any,
        *,
        tracer_provider: TracerProvider | None = None,
        flush: str | None = None,
        trace_mode: str | None = None,
    ) -> None:
        self.app = app
        self._route = web_route(tracer_provider, flush, trace_mode)

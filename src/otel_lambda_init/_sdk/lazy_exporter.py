"""A span exporter that imports and builds the real OTLP exporter on its first export.

With after-response delivery the first export runs after the caller has its response, so the
exporter's import leaves INIT and the caller's path; in ``sync`` mode it only moves into the
first invocation. See docs/performance.md.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.context import attach, detach, set_value
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .._compat import suppress_instrumentation_key, urllib3_exporter_transport
from .._core.report import report_once

__all__ = ["LazySpanExporter", "otlp_exporter_factory"]

# OTLP protocol (OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL) -> module and class of its exporter.
_EXPORTERS = {
    "http/protobuf": ("opentelemetry.exporter.otlp.proto.http.trace_exporter", "OTLPSpanExporter"),
    "http/json": ("opentelemetry.exporter.otlp.json.http.trace_exporter", "OTLPSpanExporter"),
    "grpc": ("opentelemetry.exporter.otlp.proto.grpc.trace_exporter", "OTLPSpanExporter"),
}
_DEFAULT_PROTOCOL = "http/protobuf"


def otlp_exporter_factory(protocol: str | None = None, **kwargs: Any) -> Callable[[], SpanExporter]:
    """A factory for the OTLP span exporter of ``protocol`` (default: the standard
    ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``, then
    ``http/protobuf``); ``kwargs`` go to the exporter's constructor."""
    if protocol is None:
        protocol = (
            os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or _DEFAULT_PROTOCOL
        ).strip()
    if protocol not in _EXPORTERS:
        report_once(
            "lazy-exporter-protocol",
            f"unknown OTLP protocol {protocol!r} (accepted: {', '.join(_EXPORTERS)}); "
            f"using {_DEFAULT_PROTOCOL}",
            exc_info=False,
        )
        protocol = _DEFAULT_PROTOCOL
    module_name, class_name = _EXPORTERS[protocol]

    def build() -> SpanExporter:
        import importlib

        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if protocol == _DEFAULT_PROTOCOL:
                raise
            report_once(
                f"exporter-{protocol}",
                f"OTLP protocol {protocol!r} needs its exporter package, which is not "
                f"installed; using {_DEFAULT_PROTOCOL}",
                exc_info=False,
            )
            module = importlib.import_module(_EXPORTERS[_DEFAULT_PROTOCOL][0])
        options = dict(kwargs)
        if (
            module_name == _EXPORTERS[_DEFAULT_PROTOCOL][0]
            and "session" not in options
            and _is_loopback(options.get("endpoint"))
        ):
            options.update(_loopback_transport(options.get("endpoint")))
        exporter: SpanExporter = getattr(module, class_name)(**options)
        return exporter

    return build


def _suppressed() -> Any:
    """Attach a context in which instrumentors make no spans; None when the API has no key."""
    key = suppress_instrumentation_key()
    return None if key is None else attach(set_value(key, True))


_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _is_loopback(endpoint: str | None) -> bool:
    """True for a plain-HTTP collector on this machine (the collector extension in Lambda)."""
    from urllib.parse import urlsplit

    url = (
        endpoint
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or "http://localhost:4318"
    )
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme == "http" and (host in _LOOPBACK or host.startswith("127."))


def _loopback_transport(endpoint: str | None) -> dict[str, Any]:
    """Exporter options for a loopback collector: the exporter's own urllib3 transport
    (``opentelemetry-exporter-http-transport``; retries, backoff, timeout, compression and
    headers stay the exporter's), so ``requests`` (~20 ms of CPU to import) is not loaded
    for it; with an exporter too old for transports, a ``requests`` session that skips the
    environment's proxy, netrc and CA settings (~0.5 ms per export). A proxy for a loopback
    address would be a misconfiguration, and plain HTTP has no certificates."""
    options = urllib3_exporter_transport()
    if not options:
        session = _loopback_session(endpoint)
        return {} if session is None else {"session": session}
    return options


def _loopback_session(endpoint: str | None) -> Any:
    """A ``requests`` session that does not read proxy, netrc and CA settings from the
    environment on every request, for a loopback ``endpoint`` (None: the configured one);
    None for any other endpoint."""
    if not _is_loopback(endpoint):
        return None
    import requests

    session = requests.Session()
    session.trust_env = False
    return session


class LazySpanExporter(SpanExporter):
    """Defers building the real exporter (``factory()``) to the first export.

    ``shutdown`` and ``force_flush`` never build it: before the first export there is
    nothing to flush. If building fails, it is said once and every export reports FAILURE;
    the user's function is never affected.
    """

    def __init__(self, factory: Callable[[], SpanExporter] | None = None):
        self._factory = factory if factory is not None else otlp_exporter_factory()
        self._exporter: SpanExporter | None = None
        self._failed = False
        self._shutdown = False
        self._lock = threading.Lock()
        self._once: SpanExporter | None = None  # the next export only, while not built

    @property
    def built(self) -> bool:
        """True once the real exporter exists (tests and benchmarks look at this)."""
        return self._exporter is not None

    def build(self) -> bool:
        """Build the real exporter now (``sync`` delivery: no reason to wait). True if built."""
        return self._real() is not None

    def send_next_with(self, exporter: SpanExporter) -> None:
        """The next export, if the real exporter is not built by then, goes through
        ``exporter`` (a shutdown that cannot wait for the real one's import); later ones
        build the real exporter as usual."""
        self._once = exporter

    def _real(self) -> SpanExporter | None:
        exporter = self._exporter
        if exporter is not None or self._failed:
            return exporter
        with self._lock:
            if self._exporter is None and not self._failed and not self._shutdown:
                try:
                    self._exporter = self._factory()
                except Exception:
                    self._failed = True
                    report_once(
                        "lazy-exporter-build", "could not build the span exporter; spans dropped"
                    )
            return self._exporter

    def renew(self) -> bool:
        """Drop the real exporter (after a SnapStart restore its connections belong to the
        snapshot); the next export builds a new one. True when one was dropped."""
        with self._lock:
            exporter, self._exporter = self._exporter, None
            self._failed = False
        if exporter is None:
            return False
        try:
            exporter.shutdown()
        except Exception:
            report_once("lazy-exporter-renew", "could not shut down the old span exporter")
        return True

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._shutdown:
            return SpanExportResult.FAILURE
        exporter, self._once = self._exporter or self._once, None
        exporter = exporter or self._real()
        if exporter is None:
            return SpanExportResult.FAILURE
        # The SDK's batch worker exports with instrumentation suppressed; the after-response
        # flush runs on the runtime's thread, where an HTTP client instrumentor would
        # otherwise trace the export itself (a span per export, exported by the next one).
        token = _suppressed()
        try:
            return exporter.export(spans)
        finally:
            if token is not None:
                detach(token)

    def shutdown(self) -> None:
        # Under the lock: an exporter being built right now is shut down once it exists.
        with self._lock:
            self._shutdown = True
            exporter = self._exporter
        if exporter is not None:
            exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        exporter = self._exporter
        if exporter is None:
            return True
        return exporter.force_flush(timeout_millis)

"""At SIGTERM, an INIT nobody used leaves through a sender that fits the shutdown grace.

On the deferred wrapper route the SDK is first imported at SIGTERM. The OTLP/HTTP exporter's
own import (its module and urllib3, ~60% of the build's CPU) does not fit beside a loaded
host; for a plain-HTTP loopback collector (the collector extension in Lambda) the spans are
encoded by the exporter package's own encoder and posted on one local connection, with the
standard ``OTEL_EXPORTER_OTLP_(TRACES_)*`` settings. See docs/safety.md.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from .._core.report import report_once
from .local_http import LocalHTTPConnection

_DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces"
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def _setting(name: str) -> str | None:
    """``OTEL_EXPORTER_OTLP_TRACES_<name>``, else ``OTEL_EXPORTER_OTLP_<name>``."""
    value = os.environ.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}")
    if value is None:
        value = os.environ.get(f"OTEL_EXPORTER_OTLP_{name}")
    return None if value is None else value.strip()


def _endpoint() -> str:
    traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if traces:
        return traces.strip()
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if base:
        return base.strip().rstrip("/") + "/v1/traces"
    return _DEFAULT_ENDPOINT


def _protocol() -> str:
    return _setting("PROTOCOL") or "http/protobuf"


class ShutdownSpanSender(SpanExporter):
    """OTLP/HTTP protobuf to a loopback collector, bounded by the shutdown grace."""

    def __init__(self, address: str, path: str, deadline: float) -> None:
        self._address = address
        self._path = path
        self._deadline = deadline
        from opentelemetry.util.re import parse_env_headers

        try:
            user_headers = parse_env_headers(_setting("HEADERS") or "", liberal=True)
        except TypeError:  # before SDK 1.26 (no liberal parsing): the exporter's own call then
            user_headers = parse_env_headers(_setting("HEADERS") or "")
        self._headers = {"Content-Type": "application/x-protobuf", **user_headers}
        self._compression = (_setting("COMPRESSION") or "none").lower()
        if self._compression in ("gzip", "deflate"):
            self._headers["Content-Encoding"] = self._compression
        try:
            self._timeout = float(_setting("TIMEOUT") or 10)
        except ValueError:
            self._timeout = 10.0

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

        body = encode_spans(spans).SerializePartialToString()
        if self._compression == "gzip":
            import gzip

            body = gzip.compress(body)
        elif self._compression == "deflate":
            import zlib

            body = zlib.compress(body)
        timeout = min(self._timeout, self._deadline - time.monotonic())
        if timeout <= 0:
            return SpanExportResult.FAILURE
        connection = LocalHTTPConnection(self._address, timeout)
        try:
            connection.request("POST", self._path, body, self._headers)
            status = connection.getresponse().status
        except OSError:
            report_once("shutdown-send", "could not send the unused INIT at shutdown")
            return SpanExportResult.FAILURE
        finally:
            connection.close()
        if 200 <= status < 300:
            return SpanExportResult.SUCCESS
        report_once("shutdown-send", f"the collector answered {status} at shutdown", exc_info=False)
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def shutdown_sender(budget_s: float) -> ShutdownSpanSender | None:
    """The sender for the configured collector, or None when the exporter is needed (not
    http/protobuf, TLS, a remote host, a client certificate)."""
    if _protocol() != "http/protobuf" or _setting("CERTIFICATE") or _setting("CLIENT_KEY"):
        return None
    try:
        parts = urlsplit(_endpoint())
        host, port = parts.hostname or "", parts.port or 80
    except ValueError:
        return None
    if parts.scheme != "http" or not (host in _LOOPBACK or host.startswith("127.")):
        return None
    if ":" in host:  # LocalHTTPConnection speaks IPv4 and names
        return None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return ShutdownSpanSender(f"{host}:{port}", path, time.monotonic() + budget_s)

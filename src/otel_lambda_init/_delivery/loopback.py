"""The configured OTLP/HTTP collector, when it is a plain-HTTP one on this machine (the
collector extension in Lambda), and one bounded POST to it: what the shutdown exports use
instead of building the OTLP exporter inside the grace (docs/safety.md). Standard library only.
"""

from __future__ import annotations

import os
import time
from urllib.parse import urlsplit

from .._core.report import report_once
from .local_http import LocalHTTPConnection

TYPE_CHECKING = False  # typing costs ms at import; this module is on the shutdown path
if TYPE_CHECKING:
    from collections.abc import Mapping

_DEFAULT_ENDPOINT = "http://localhost:4318/v1/traces"
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


def setting(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``OTEL_EXPORTER_OTLP_TRACES_<name>``, else ``OTEL_EXPORTER_OTLP_<name>``."""
    env = os.environ if environ is None else environ
    value = env.get(f"OTEL_EXPORTER_OTLP_TRACES_{name}")
    if value is None:
        value = env.get(f"OTEL_EXPORTER_OTLP_{name}")
    return None if value is None else value.strip()


def _endpoint(env: Mapping[str, str]) -> str:
    traces = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if traces:
        return traces.strip()
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if base:
        return base.strip().rstrip("/") + "/v1/traces"
    return _DEFAULT_ENDPOINT


class LoopbackCollector:
    """Where to POST (``host:port`` and path) and how: content encoding and timeout."""

    __slots__ = ("address", "path", "compression", "timeout_s")

    def __init__(self, address: str, path: str, compression: str, timeout_s: float) -> None:
        self.address = address
        self.path = path
        self.compression = compression
        self.timeout_s = timeout_s

    def encode(self, body: bytes) -> bytes:
        if self.compression == "gzip":
            import gzip

            return gzip.compress(body)
        if self.compression == "deflate":
            import zlib

            return zlib.compress(body)
        return body

    def post(self, body: bytes, headers: Mapping[str, str], deadline: float) -> bool:
        """POST ``body`` (encoded already) before ``deadline`` (monotonic); True on a 2xx."""
        timeout = min(self.timeout_s, deadline - time.monotonic())
        if timeout <= 0:
            return False
        connection = LocalHTTPConnection(self.address, timeout)
        try:
            connection.request("POST", self.path, body, headers)
            status = connection.getresponse().status
        except OSError as error:  # refused, reset, timed out: the reason is the message
            reason = f"{type(error).__name__}: {error}"
            report_once(
                "shutdown-send",
                f"could not send to the collector at shutdown ({reason}); spans lost",
                exc_info=False,
            )
            return False
        finally:
            connection.close()
        if 200 <= status < 300:
            return True
        report_once(
            "shutdown-send",
            f"the collector answered {status} at shutdown; spans lost",
            exc_info=False,
        )
        return False


def loopback_collector(environ: Mapping[str, str] | None = None) -> LoopbackCollector | None:
    """The configured collector, or None when the exporter is needed (not http/protobuf,
    TLS, a remote host, a client certificate)."""
    env = os.environ if environ is None else environ
    protocol = setting("PROTOCOL", env) or "http/protobuf"
    if protocol != "http/protobuf" or setting("CERTIFICATE", env) or setting("CLIENT_KEY", env):
        return None
    try:
        parts = urlsplit(_endpoint(env))
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
    compression = (setting("COMPRESSION", env) or "none").lower()
    try:
        timeout_s = float(setting("TIMEOUT", env) or 10)
    except ValueError:
        timeout_s = 10.0
    if not 0 < timeout_s < float("inf"):  # nan, negative, infinite: the exporter's default
        timeout_s = 10.0
    return LoopbackCollector(f"{host}:{port}", path, compression, timeout_s)


def request_headers(collector: LoopbackCollector, environ: Mapping[str, str]) -> dict[str, str]:
    """Protobuf, the configured compression and the user's ``OTEL_EXPORTER_OTLP_*HEADERS``
    (parsed by OpenTelemetry's own parser, imported only when there are some)."""
    headers = {"Content-Type": "application/x-protobuf"}
    raw = setting("HEADERS", environ)
    if raw:
        from opentelemetry.util.re import parse_env_headers

        try:
            headers.update(parse_env_headers(raw, liberal=True))
        except TypeError:  # before SDK 1.26 (no liberal parsing): the exporter's own call then
            headers.update(parse_env_headers(raw))
    if collector.compression in ("gzip", "deflate"):
        headers["Content-Encoding"] = collector.compression
    return headers

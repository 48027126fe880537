"""An OTLP/HTTP receiver on 127.0.0.1: the collector stand-in tests and the demo export to.

No collector can be installed on our machines, so this small server decodes what the SDK's
exporters send (protobuf or OTLP/JSON), keeps the raw requests for payload searches, and can
misbehave on purpose (errors, throttling, hanging) to test how exporters cope.
"""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from ._loopback import LoopbackServer
from .otlp_spans import (
    ReceivedEvent,
    ReceivedLink,
    ReceivedSpan,
    decode_any_value,
    request_to_otlp_json,
    spans_from_request,
    trace_request_from_otlp_json,
)

__all__ = [
    "Behaviour",
    "OtlpReceiver",
    "RawRequest",
    "ReceivedEvent",
    "ReceivedLink",
    "ReceivedSpan",
    "decode_any_value",
    "request_to_otlp_json",
    "spans_from_request",
    "trace_request_from_otlp_json",
]

# A hanging request sleeps in slices this long so stop() is never held up.
_SLEEP_SLICE_S = 0.05


@dataclass(frozen=True)
class Behaviour:
    """How the receiver answers: a status, an optional delay (a hanging collector), Retry-After."""

    status: int = 200
    delay_s: float = 0.0
    retry_after_s: float | None = None


@dataclass(frozen=True)
class RawRequest:
    """A request as it arrived, kept so tests can search payloads for secrets."""

    path: str
    headers: dict[str, str]
    body: bytes
    received_ns: int
    status: int = 200


class _Server(LoopbackServer):
    receiver: OtlpReceiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass  # keep test output clean

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        receiver = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        behaviour = receiver.behaviour
        receiver._sleep(behaviour.delay_s)
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path.split("?", 1)[0]
        status = behaviour.status
        if path not in ("/v1/traces", "/v1/metrics", "/v1/logs"):
            status = 404
        receiver._record(RawRequest(path, headers, body, time.time_ns(), status))
        is_json = "json" in headers.get("content-type", "")
        if status == 200:
            try:
                receiver._decode(path, _decompress(body, headers), is_json)
            except Exception as exc:  # a malformed payload is the sender's bug: say so
                self._reply(400, json.dumps({"message": str(exc)}).encode(), "application/json")
                return
            response = (
                ExportTraceServiceResponse()
                if path == "/v1/traces"
                else ExportMetricsServiceResponse()
            )
            if is_json:
                self._reply(200, b"{}", "application/json")
            else:
                self._reply(200, response.SerializeToString(), "application/x-protobuf")
            return
        extra = {}
        if behaviour.retry_after_s is not None:
            extra["Retry-After"] = str(int(behaviour.retry_after_s))
        self._reply(status, b"", "application/x-protobuf", extra)

    def _reply(
        self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)


def _decompress(body: bytes, headers: dict[str, str]) -> bytes:
    encoding = headers.get("content-encoding", "")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    return body


class OtlpReceiver:
    """OTLP/HTTP receiver on 127.0.0.1 (ephemeral port); a context manager."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour: Behaviour = behaviour or Behaviour()
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._requests: list[RawRequest] = []
        self._trace_requests: list[ExportTraceServiceRequest] = []
        self._spans: list[ReceivedSpan] = []
        self._metrics: list[ExportMetricsServiceRequest] = []
        self._server: _Server | None = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self) -> OtlpReceiver:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(_Handler)
        server.receiver = self
        self._server = server
        server.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.stop()

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces)."""
        if self._server is None:
            raise RuntimeError("receiver not started")
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("receiver not started")
        return self._server.port

    # data ------------------------------------------------------------------------------------
    @property
    def requests(self) -> list[RawRequest]:
        """Every request as received (bodies and headers), including rejected ones."""
        with self._lock:
            return list(self._requests)

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._spans)

    def trace_requests(self) -> list[ExportTraceServiceRequest]:
        with self._lock:
            return list(self._trace_requests)

    def metrics_requests(self) -> list[ExportMetricsServiceRequest]:
        with self._lock:
            return list(self._metrics)

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._trace_requests.clear()
            self._spans.clear()
            self._metrics.clear()

    def wait_for(
        self, predicate: Callable[[list[ReceivedSpan]], bool], timeout: float
    ) -> list[ReceivedSpan]:
        """Wait until predicate(spans) holds; TimeoutError lists what did arrive."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                spans = list(self._spans)
                if predicate(spans):
                    return spans
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    names = [f"{s.name} ({s.trace_id[:8]}/{s.span_id[:8]})" for s in spans]
                    raise TimeoutError(
                        f"predicate not met within {timeout}s; {len(spans)} spans received: {names}"
                    )
                self._lock.wait(min(remaining, 0.1))

    def to_jsonl(self, path: Path | str) -> Path:
        """Write one OTLP/JSON ExportTraceServiceRequest per line (the view's input format)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", encoding="utf-8") as fh:
            for request in self.trace_requests():
                fh.write(json.dumps(request_to_otlp_json(request), separators=(",", ":")))
                fh.write("\n")
        return out

    # internals -------------------------------------------------------------------------------
    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stopping.is_set():
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            time.sleep(min(remaining, _SLEEP_SLICE_S))

    def _record(self, raw: RawRequest) -> None:
        with self._lock:
            self._requests.append(raw)
            self._lock.notify_all()

    def _decode(self, path: str, body: bytes, is_json: bool) -> None:
        if path == "/v1/traces":
            request = trace_request_from_otlp_json(body) if is_json else ExportTraceServiceRequest()
            if not is_json:
                request.ParseFromString(body)
            spans = spans_from_request(request)
            with self._lock:
                self._trace_requests.append(request)
                self._spans.extend(spans)
                self._lock.notify_all()
        elif path == "/v1/metrics":
            metrics = ExportMetricsServiceRequest()
            if is_json:
                json_format.Parse(body, metrics, ignore_unknown_fields=True)
            else:
                metrics.ParseFromString(body)
            with self._lock:
                self._metrics.append(metrics)
                self._lock.notify_all()

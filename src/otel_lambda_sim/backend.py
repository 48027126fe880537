"""The user's OTLP backend: check the URL, probe it before a run, forward what arrived after it.

Sandboxes always export to the embedded receiver on 127.0.0.1, as a function exports to a
collector extension on localhost in Lambda; this module forwards every trace request the
receiver accepted to the user's backend and counts what the backend answered. So one run gives
the local view *and* the backend, a dead backend never changes the run (after-response export
to a dead endpoint keeps a sandbox busy up to its flush bound, which in Lambda is real but
here only hides what the backend did), and the CLI can say exactly what the backend refused.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from .receiver import RawRequest, _decompress, trace_request_from_otlp_json

__all__ = [
    "BackendError",
    "ForwardReport",
    "forward",
    "parse_otlp_headers",
    "probe",
    "traces_url",
]

TRACES_PATH = "/v1/traces"
_OTHER_SIGNALS = ("/v1/metrics", "/v1/logs")
# Headers that belong to one hop (or that urllib sets itself), never forwarded.
_HOP_HEADERS = frozenset(
    {"host", "content-length", "connection", "accept-encoding", "transfer-encoding", "keep-alive"}
)


class BackendError(ValueError):
    """The backend URL is unusable or the backend refused the probe; the message says why."""


@dataclass(frozen=True)
class Endpoint:
    """Where traces go: the base URL (OTEL_EXPORTER_OTLP_ENDPOINT's form) and the full URL."""

    base: str
    traces: str
    note: str = ""  # said to the user when the given URL was rewritten


def traces_url(url: str) -> Endpoint:
    """Accept a base URL or a full `.../v1/traces` URL; refuse what an exporter would mangle.

    The OTLP exporters append `/v1/traces` to OTEL_EXPORTER_OTLP_ENDPOINT, so the full URL
    some backends print (Phoenix: `http://127.0.0.1:6006/v1/traces`) would become
    `/v1/traces/v1/traces`; we take it as what the user meant and say so.
    """
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise BackendError(
            f"--endpoint {url!r} is not an http(s) URL; give the backend's OTLP/HTTP base URL, "
            "e.g. http://127.0.0.1:4318"
        )
    if parsed.query or parsed.fragment:
        raise BackendError(f"--endpoint {url!r}: a query or fragment is not part of an OTLP URL")
    path = parsed.path.rstrip("/")
    for other in _OTHER_SIGNALS:
        if path.endswith(other):
            raise BackendError(
                f"--endpoint {url!r} names the {other} endpoint; traces go to {TRACES_PATH}: "
                f"give the base URL {_join(parsed, path[: -len(other)])}"
            )
    note = ""
    if path.endswith(TRACES_PATH):
        path = path[: -len(TRACES_PATH)]
        note = (
            f"{url} is a full traces URL; using base URL {_join(parsed, path)} "
            f"(the OTLP exporters append {TRACES_PATH} themselves)"
        )
    base = _join(parsed, path)
    return Endpoint(base=base, traces=base + TRACES_PATH, note=note)


def _join(parsed: urllib.parse.SplitResult, path: str) -> str:
    return urllib.parse.urlunsplit((parsed.scheme, parsed.netloc, path, "", ""))


def parse_otlp_headers(value: str | None) -> dict[str, str]:
    """OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, values URL-encoded), as the SDK reads it."""
    headers: dict[str, str] = {}
    for item in (value or "").split(","):
        if "=" not in item:
            continue
        key, _, val = item.partition("=")
        if key.strip():
            headers[key.strip().lower()] = urllib.parse.unquote(val.strip())
    return headers


def _post(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> tuple[int, str]:
    """POST and return (status, short reason); status 0 when no HTTP answer came."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.reason or ""
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode("utf-8", "replace").strip()
        reason = str(exc.reason or "")
        return exc.code, f"{reason}: {detail}" if detail else reason
    except OSError as exc:  # URLError, refused, timeouts
        return 0, str(getattr(exc, "reason", None) or exc)


def probe(endpoint: Endpoint, headers: Mapping[str, str], timeout_s: float = 5.0) -> None:
    """POST a trace request with no spans (it stores nothing); raise when refused.

    One empty ResourceSpans rather than an empty request: MLflow answers 400 "no spans found"
    to an empty one, and accepts this.
    """
    request = ExportTraceServiceRequest()
    request.resource_spans.add()
    body = request.SerializeToString()
    status, reason = _post(
        endpoint.traces,
        body,
        {**headers, "content-type": "application/x-protobuf"},
        timeout_s,
    )
    if status == 0:
        raise BackendError(
            f"cannot reach the backend at {endpoint.traces}: {reason}. Is it running, and is "
            "this its OTLP/HTTP port (4318 for a collector, 6006 for Phoenix, the server port "
            "for MLflow)?"
        )
    if status in (404, 405):
        raise BackendError(
            f"the backend answered {status} {reason} to POST {endpoint.traces}: this URL does "
            f"not take OTLP traces. Give the base URL the exporters append {TRACES_PATH} to "
            "(for example http://127.0.0.1:4318), and check the backend's OTLP/HTTP path"
        )
    if not 200 <= status < 300:
        raise BackendError(
            f"the backend refused a probe at {endpoint.traces}: {status} {reason}"
            + (
                " (does it need a header? set OTEL_EXPORTER_OTLP_HEADERS, e.g. "
                "x-mlflow-experiment-id=<id> for MLflow)"
                if status in (400, 401, 403, 422)
                else ""
            )
        )


@dataclass
class ForwardReport:
    """What the backend did with the trace requests the sandboxes exported."""

    endpoint: str
    requests: int = 0
    accepted: int = 0
    spans_accepted: int = 0
    spans_refused: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def refused(self) -> int:
        return self.requests - self.accepted

    def lines(self) -> list[str]:
        out = [
            f"backend {self.endpoint}: accepted {self.accepted}/{self.requests} export requests "
            f"({self.spans_accepted} spans), refused {self.refused} ({self.spans_refused} spans)"
        ]
        out += [f"  {n} x {what}" for what, n in self.failures.most_common()]
        return out


def forward(
    requests: Iterable[RawRequest],
    endpoint: Endpoint,
    *,
    timeout_s: float = 10.0,
) -> ForwardReport:
    """Send each accepted trace request, as it arrived (body, encoding, the exporter's headers)."""
    report = ForwardReport(endpoint.traces)
    for raw in requests:
        if raw.path != TRACES_PATH or raw.status != 200:
            continue
        report.requests += 1
        headers = {k: v for k, v in raw.headers.items() if k not in _HOP_HEADERS}
        status, reason = _post(endpoint.traces, raw.body, headers, timeout_s)
        spans = _span_count(raw)
        if 200 <= status < 300:
            report.accepted += 1
            report.spans_accepted += spans
        else:
            report.spans_refused += spans
            report.failures[f"{status} {reason}" if status else f"no answer: {reason}"] += 1
    return report


def _span_count(raw: RawRequest) -> int:
    """Spans in one request (0 when the body cannot be read)."""
    try:
        body = _decompress(raw.body, raw.headers)
        if "json" in raw.headers.get("content-type", ""):
            request = trace_request_from_otlp_json(body)
        else:
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
    except Exception:
        return 0
    return sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)

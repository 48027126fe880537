"""A self-contained HTML view of OTLP JSON lines: flame graphs and a sandbox timeline.

Rendered server-side as SVG (no JavaScript, no network): it opens from disk, prints, and
screenshots headlessly. Each trace is a flame graph (INIT bar, gap, invocation, nested
children; a click on a bar shows its attribute table through CSS :target, a hover its
summary; long idle stretches cut out of the axis; links listed, and a linked INIT drawn as a ghost
bar so the gap shows whatever the placement mode). The sandbox timeline lines up every
sandbox's INIT and invocations on one time axis.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .otlp_spans import ReceivedSpan, spans_from_request, trace_request_from_otlp_json
from .summary import format_summary, summarize
from .view_flame import flame
from .view_svg import COLORS, esc
from .view_timeline import Queued, timeline

__all__ = [
    "QUEUED_MIN_MS",
    "load_jsonl",
    "load_requests",
    "load_truth",
    "render_html",
    "truth_path",
    "write_html",
]

# A warm request handed over later than this after its arrival waited for a busy sandbox (a
# request that finds an idle one is placed within the same tick of the fleet's loop).
QUEUED_MIN_MS = 5.0


def truth_path(jsonl: Path | str) -> Path:
    """Where a run's ground truth is kept beside its JSON lines: NAME.truth.json."""
    p = Path(jsonl)
    return p.with_name(p.stem + ".truth.json")


def load_truth(jsonl: Path | str) -> tuple[dict[str, Any] | None, list[str]]:
    """The ground truth and notes written beside a JSON lines file, if any."""
    path = truth_path(jsonl)
    if not path.exists():
        return None, []
    data = json.loads(path.read_text(encoding="utf-8"))
    return data.get("truth"), [str(n) for n in data.get("notes", [])]


def load_requests(jsonl: Path | str) -> list[dict[str, Any]]:
    """The per-request ground truth written beside a JSON lines file (none for older runs)."""
    path = truth_path(jsonl)
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("requests", []))


def _queued(requests: Iterable[Mapping[str, Any]]) -> dict[str, Queued]:
    """Requests that waited at least QUEUED_MIN_MS for a busy sandbox, by invocation id."""
    return {
        str(r["request_id"]): Queued(int(r["arrival_ns"]), float(r["queued_ms"]))
        for r in requests
        if float(r.get("queued_ms") or 0.0) >= QUEUED_MIN_MS and r.get("request_id")
    }


def load_jsonl(path: Path | str) -> list[ReceivedSpan]:
    """Spans from an OTLP JSON lines file (one ExportTraceServiceRequest per line)."""
    spans: list[ReceivedSpan] = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            spans.extend(spans_from_request(trace_request_from_otlp_json(line)))
        except Exception as exc:
            raise ValueError(f"{path}:{n}: not an OTLP/JSON trace request: {exc}") from exc
    return spans


_CSS = """
body{font-family:system-ui,sans-serif;margin:16px;color:#222}
svg{width:100%;height:auto;max-width:1360px;display:block}
svg a{cursor:pointer}svg a:hover rect{stroke:#222;stroke-width:1.5}
.lblout{font-size:11px;fill:#333}.cut{fill:#fafafa;stroke:#ccc;stroke-dasharray:2,3}
text.tag{font-size:11px;font-weight:600}text.cold{fill:#c0392b}text.proactive{fill:#8e44ad}
text.warm{fill:#2c7a3f}text.queued{fill:#c0392b}text.initdur{fill:#a8610f}
span.tag{font-size:12px;padding:1px 6px;border-radius:3px;color:#fff;font-weight:normal}
span.cold{background:#c0392b}span.proactive{background:#8e44ad}span.warm{background:#2c7a3f}
span.unused{background:#777}span.queued{background:#e57373}
.attrs{display:none;font-size:12px;background:#fffbe6;border:1px solid #e0d38a;padding:6px;
margin:6px 0}.attrs:target{display:block}.attrs table{border-collapse:collapse;margin-top:4px}
.attrs th{text-align:left;font-weight:normal;color:#555;padding:1px 10px 1px 0}
.attrs td{font-family:ui-monospace,monospace}
.ghost .lbl{fill:#5a4a32}
pre{white-space:pre-wrap;background:#f6f6f6;padding:10px;border-radius:4px;font-size:13px}
.lbl{font-size:11px;fill:#fff}.gaplbl{font-size:11px;fill:#555}
.name{font-size:12px;fill:#333}.axis{font-size:10px;fill:#666}
section.trace{margin:10px 0 18px;border-top:1px solid #ddd}
h3 small{font-weight:normal;color:#777;font-size:12px}
.legend span{display:inline-block;padding:2px 8px;margin-right:6px;border-radius:2px;color:#fff}
ul.links{font-size:12px;color:#444}
"""


def render_html(
    spans: Iterable[ReceivedSpan],
    *,
    title: str = "otel-lambda-init: local Lambda run",
    truth: Mapping[str, Any] | None = None,
    notes: Iterable[str] = (),
    requests: Iterable[Mapping[str, Any]] = (),
) -> str:
    """The whole page as a string; requests (the run's per-request truth) mark the warm
    requests that queued behind a busy sandbox."""
    spans = list(spans)
    queued = _queued(requests)
    waits = {k: q.queued_ms for k, q in queued.items()}
    by_id = {s.span_id: s for s in spans}
    traces: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for s in spans:
        traces[s.trace_id].append(s)
    order = sorted(traces.items(), key=lambda kv: min(s.start_ns for s in kv[1]))
    summary = format_summary(summarize(spans), truth, notes)
    legend = (
        "<p class='legend'>"
        f"<span style='background:{COLORS['init']}'>INIT</span>"
        "<span style='background:#eee;color:#555'>gap</span>"
        f"<span style='background:{COLORS['invocation']}'>invocation</span>"
        f"<span style='background:{COLORS['child']}'>child span</span>"
        f"<span style='background:{COLORS['ghost']};color:#555'>linked INIT</span>"
        "<span style='background:#fbe9e7;color:#c0392b'>queued behind a busy sandbox</span>"
        " Click a bar for its attributes (hover for a summary). Long idle stretches are cut "
        "out of the time axis (marked <i>axis cut</i>) so the bars stay readable.</p>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>{legend}<pre>{esc(summary)}</pre>"
        "<h2>Sandbox timeline</h2>"
        + timeline(spans, queued)
        + f"<h2>Traces ({len(order)})</h2>"
        + "".join(flame(tid, group, by_id, waits) for tid, group in order)
        + "</body></html>"
    )


def write_html(
    jsonl: Path | str,
    out: Path | str | None = None,
    *,
    truth: Mapping[str, Any] | None = None,
    notes: Iterable[str] = (),
    requests: Iterable[Mapping[str, Any]] = (),
) -> Path:
    """Render an OTLP JSON lines file to HTML next to it (or at out)."""
    src = Path(jsonl)
    target = Path(out) if out else src.with_suffix(".html")
    page = render_html(load_jsonl(src), truth=truth, notes=notes, requests=requests)
    target.write_text(page, encoding="utf-8")
    return target

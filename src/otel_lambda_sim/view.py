"""A self-contained HTML view of OTLP JSON lines: flame graphs and a sandbox timeline.

Rendered server-side as SVG (no JavaScript, no network): it opens from disk, prints, and
screenshots headlessly. Each trace is a flame graph (INIT bar, gap, invocation, nested
children; attributes on hover via <title>; links listed, and a linked INIT drawn as a ghost
bar so the gap shows whatever the placement mode). The sandbox timeline lines up every
sandbox's INIT and invocations on one time axis.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .receiver import ReceivedSpan, spans_from_request, trace_request_from_otlp_json
from .summary import format_summary, is_init_span, is_invocation_span, sandbox_key, summarize

__all__ = ["load_jsonl", "render_html", "write_html"]

_WIDTH = 1000
_LABEL_W = 190
_ROW_H = 22
_COLORS = {
    "init": "#e8912d",
    "invocation": "#3b7dd8",
    "child": "#5aa469",
    "ghost": "#f3d2a6",
    "root": "#8a8fa3",  # INIT start to invocation end: holds the init and invocation spans
}
_ROOT_PREFIXES = ("cold start ", "first invocation ")


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


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _tooltip(span: ReceivedSpan) -> str:
    lines = [f"{span.name} [{span.kind}] {span.duration_ms:.1f} ms", f"trace {span.trace_id}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in sorted(span.attributes.items())]
    for link in span.links:
        lines.append(f"link -> {link.trace_id}/{link.span_id} {json.dumps(link.attributes)}")
    if span.status_code != "UNSET":
        lines.append(f"status {span.status_code} {span.status_message}")
    return "\n".join(lines)


def _role(span: ReceivedSpan) -> str:
    if is_init_span(span):
        return "init"
    if is_invocation_span(span):
        return "invocation"
    if not span.parent_span_id and span.name.startswith(_ROOT_PREFIXES):
        return "root"
    return "child"


class _Scale:
    def __init__(self, start: int, end: int, width: int = _WIDTH - _LABEL_W - 10) -> None:
        self.start = start
        self.span = max(end - start, 1)
        self.width = width

    def x(self, t: int) -> float:
        return _LABEL_W + (t - self.start) / self.span * self.width

    def w(self, a: int, b: int) -> float:
        return max((b - a) / self.span * self.width, 2.0)


def _bar(
    scale: _Scale, y: float, start: int, end: int, color: str, label: str, tip: str, cls: str
) -> str:
    x, w = scale.x(start), scale.w(start, end)
    text = f'<text x="{x + 3:.1f}" y="{y + 15}" class="lbl">{_esc(label)}</text>' if w > 40 else ""
    return (
        f'<g class="{cls}"><title>{_esc(tip)}</title>'
        f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_ROW_H - 4}" rx="2" fill="{color}"/>'
        f"{text}</g>"
    )


def _gap(scale: _Scale, y: float, start: int, end: int, label: str) -> str:
    if end <= start:
        return ""
    x, w = scale.x(start), scale.w(start, end)
    return (
        f'<g class="gap"><title>{_esc(label)}</title>'
        f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_ROW_H - 4}" fill="url(#hatch)" '
        f'stroke="#999" stroke-dasharray="3,2"/>'
        f'<text x="{x + w / 2:.1f}" y="{y + 15}" class="gaplbl" text-anchor="middle">'
        f"{_esc(label)}</text></g>"
    )


def _axis(scale: _Scale, y: float) -> str:
    parts = []
    for i in range(6):
        t = scale.start + scale.span * i // 5
        x = scale.x(t)
        ms = (t - scale.start) / 1e6
        parts.append(
            f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#888"/>'
            f'<text x="{x:.1f}" y="{y + 15}" class="axis" text-anchor="middle">{ms:.0f} ms</text>'
        )
    return "".join(parts)


_DEFS = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="2"/></pattern></defs>'
)


def _flame(trace_id: str, spans: list[ReceivedSpan], by_id: Mapping[str, ReceivedSpan]) -> str:
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[ReceivedSpan]] = defaultdict(list)
    for s in spans:
        parent = s.parent_span_id if s.parent_span_id in ids else None
        children[parent].append(s)
    rows: list[tuple[int, ReceivedSpan]] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda s: s.start_ns):
            rows.append((depth, s))
            walk(s.span_id, depth + 1)

    walk(None, 0)
    # A linked INIT from another trace is drawn as a ghost bar, so the gap shows here too.
    ghosts: list[tuple[ReceivedSpan, ReceivedSpan]] = []
    for s in spans:
        for link in s.links:
            target = by_id.get(link.span_id)
            if target is not None and target.trace_id != trace_id and is_init_span(target):
                ghosts.append((target, s))
    start = min([s.start_ns for s in spans] + [g.start_ns for g, _ in ghosts])
    end = max([s.end_ns for s in spans] + [g.end_ns for g, _ in ghosts])
    scale = _Scale(start, end)
    body: list[str] = []
    y = 4
    for ghost, source in ghosts:
        body.append(
            f'<text x="4" y="{y + 15}" class="name">linked INIT (other trace)</text>'
            + _bar(
                scale,
                y,
                ghost.start_ns,
                ghost.end_ns,
                _COLORS["ghost"],
                ghost.name,
                _tooltip(ghost),
                "bar ghost",
            )
            + _gap(
                scale,
                y,
                ghost.end_ns,
                source.start_ns,
                f"gap {(source.start_ns - ghost.end_ns) / 1e6:.0f} ms",
            )
        )
        y += _ROW_H
    inits = [s for _, s in rows if is_init_span(s)]
    invocations = [s for _, s in rows if is_invocation_span(s)]
    for depth, s in rows:
        label = ("\u00a0\u00a0" * depth) + s.name
        body.append(
            f'<text x="4" y="{y + 15}" class="name">{_esc(label[:28])}</text>'
            + _bar(
                scale,
                y,
                s.start_ns,
                s.end_ns,
                _COLORS[_role(s)],
                f"{s.name} {s.duration_ms:.0f} ms",
                _tooltip(s),
                f"bar {_role(s)}",
            )
        )
        if is_invocation_span(s):
            for init in inits:
                if init.end_ns < s.start_ns:
                    body.append(
                        _gap(
                            scale,
                            y,
                            init.end_ns,
                            s.start_ns,
                            f"gap {(s.start_ns - init.end_ns) / 1e6:.0f} ms",
                        )
                    )
        y += _ROW_H
    body.append(_axis(scale, y + 2))
    height = y + 24
    links = []
    for s in spans:
        for link in s.links:
            target = by_id.get(link.span_id)
            what = _esc(target.name) if target else "span not in this file"
            links.append(
                f"<li>{_esc(s.name)} &rarr; <a href='#t-{link.trace_id}'>{what}</a> "
                f"(trace {link.trace_id[:8]}&hellip;, span {link.span_id}) "
                f"{_esc(json.dumps(link.attributes))}</li>"
            )
    title = invocations[0].name if invocations else (inits[0].name if inits else spans[0].name)
    kind = "cold start" if any(s.attributes.get("faas.coldstart") for s in invocations) else ""
    if any(s.attributes.get("lambda_init.proactive_initialization") for s in spans):
        kind = "proactive"
    return (
        f'<section class="trace" id="t-{trace_id}"><h3>{_esc(title)} '
        f"<small>trace {trace_id} {_esc(kind)}</small></h3>"
        f'<svg width="{_WIDTH}" height="{height}" xmlns="http://www.w3.org/2000/svg">{_DEFS}'
        + "".join(body)
        + "</svg>"
        + (f"<ul class='links'>{''.join(links)}</ul>" if links else "")
        + "</section>"
    )


def _timeline(spans: list[ReceivedSpan]) -> str:
    per_sandbox: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for s in spans:
        if is_init_span(s) or is_invocation_span(s):
            per_sandbox[sandbox_key(s) or "(no faas.instance)"].append(s)
    if not per_sandbox:
        return "<p>No init or invocation spans.</p>"
    relevant = [s for group in per_sandbox.values() for s in group]
    scale = _Scale(min(s.start_ns for s in relevant), max(s.end_ns for s in relevant))
    order = sorted(per_sandbox.items(), key=lambda kv: min(s.start_ns for s in kv[1]))
    body, y = [], 4
    for n, (key, group) in enumerate(order, 1):
        body.append(
            f'<text x="4" y="{y + 15}" class="name">sandbox {n} '
            f"<title>{_esc(key)}</title>{_esc(key[-8:])}</text>"
        )
        inits = sorted((s for s in group if is_init_span(s)), key=lambda s: s.start_ns)
        invs = sorted((s for s in group if is_invocation_span(s)), key=lambda s: s.start_ns)
        for init in inits:
            body.append(
                _bar(
                    scale,
                    y,
                    init.start_ns,
                    init.end_ns,
                    _COLORS["init"],
                    "INIT",
                    _tooltip(init),
                    "bar init",
                )
            )
            nxt = next((s for s in invs if s.start_ns >= init.end_ns), None)
            if nxt is not None:
                body.append(
                    _gap(
                        scale,
                        y,
                        init.end_ns,
                        nxt.start_ns,
                        f"gap {(nxt.start_ns - init.end_ns) / 1e6:.0f} ms",
                    )
                )
        for inv in invs:
            label = "cold" if inv.attributes.get("faas.coldstart") else "inv"
            if inv.attributes.get("lambda_init.proactive_initialization"):
                label = "proactive"
            body.append(
                _bar(
                    scale,
                    y,
                    inv.start_ns,
                    inv.end_ns,
                    _COLORS["invocation"],
                    label,
                    _tooltip(inv),
                    "bar invocation",
                )
            )
        y += _ROW_H + 4
    body.append(_axis(scale, y + 2))
    return (
        f'<svg width="{_WIDTH}" height="{y + 24}" xmlns="http://www.w3.org/2000/svg">'
        f"{_DEFS}{''.join(body)}</svg>"
    )


_CSS = """
body{font-family:system-ui,sans-serif;margin:16px;color:#222}
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
) -> str:
    """The whole page as a string."""
    spans = list(spans)
    by_id = {s.span_id: s for s in spans}
    traces: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for s in spans:
        traces[s.trace_id].append(s)
    order = sorted(traces.items(), key=lambda kv: min(s.start_ns for s in kv[1]))
    summary = format_summary(summarize(spans), truth, notes)
    legend = (
        "<p class='legend'>"
        f"<span style='background:{_COLORS['init']}'>INIT</span>"
        "<span style='background:#eee;color:#555'>gap</span>"
        f"<span style='background:{_COLORS['invocation']}'>invocation</span>"
        f"<span style='background:{_COLORS['child']}'>child span</span>"
        f"<span style='background:{_COLORS['ghost']};color:#555'>linked INIT</span>"
        " Hover a bar for its attributes.</p>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_esc(title)}</h1>{legend}<pre>{_esc(summary)}</pre>"
        "<h2>Sandbox timeline</h2>"
        + _timeline(spans)
        + f"<h2>Traces ({len(order)})</h2>"
        + "".join(_flame(tid, group, by_id) for tid, group in order)
        + "</body></html>"
    )


def write_html(
    jsonl: Path | str,
    out: Path | str | None = None,
    *,
    truth: Mapping[str, Any] | None = None,
    notes: Iterable[str] = (),
) -> Path:
    """Render an OTLP JSON lines file to HTML next to it (or at out)."""
    src = Path(jsonl)
    target = Path(out) if out else src.with_suffix(".html")
    target.write_text(render_html(load_jsonl(src), truth=truth, notes=notes), encoding="utf-8")
    return target

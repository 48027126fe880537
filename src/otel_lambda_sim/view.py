"""A self-contained HTML view of OTLP JSON lines: flame graphs and a sandbox timeline.

Rendered server-side as SVG (no JavaScript, no network): it opens from disk, prints, and
screenshots headlessly. Each trace is a flame graph (INIT bar, gap, invocation, nested
children; a click on a bar shows its attribute table through CSS :target, a hover its
summary; long idle stretches cut out of the axis; links listed, and a linked INIT drawn as a ghost
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

__all__ = ["load_jsonl", "load_truth", "render_html", "truth_path", "write_html"]

_WIDTH = 1360  # the SVG's own width; CSS scales it to the window
_LABEL_W = 250
_ROW_H = 22
_TAG_H = 13  # a line above a timeline row for the cold/proactive/warm tags
_CHAR_PX = 6.6  # average glyph width at 11-12 px sans-serif, to fit labels without overflow
_BREAK_PX = 96.0  # what a cut-out idle stretch of the axis keeps on screen
_BREAK_MIN_FRACTION = 0.3  # an empty stretch longer than this share of the chart is cut out
_COLORS = {
    "init": "#e8912d",
    "invocation": "#3b7dd8",
    "child": "#5aa469",
    "ghost": "#f3d2a6",
    "root": "#8a8fa3",  # INIT start to invocation end: holds the init and invocation spans
}
_ROOT_PREFIXES = ("cold start ", "first invocation ")


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


def _fit(text: str, px: float) -> str:
    """text cut to about px wide, with an ellipsis when cut."""
    room = int(px / _CHAR_PX)
    if len(text) <= room:
        return text
    return text[: max(room - 1, 0)] + "\u2026" if room > 1 else ""


def _fmt_ms(ms: float) -> str:
    return f"{ms:.0f} ms" if abs(ms) < 10_000 else f"{ms / 1000:.1f} s"


def _tooltip(span: ReceivedSpan) -> str:
    lines = [f"{span.name} [{span.kind}] {span.duration_ms:.1f} ms", f"trace {span.trace_id}"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in sorted(span.attributes.items())]
    for link in span.links:
        lines.append(f"link -> {link.trace_id}/{link.span_id} {json.dumps(link.attributes)}")
    if span.status_code != "UNSET":
        lines.append(f"status {span.status_code} {span.status_message}")
    lines.append("(click for the attribute table)")
    return "\n".join(lines)


def _role(span: ReceivedSpan) -> str:
    if is_init_span(span):
        return "init"
    if is_invocation_span(span):
        return "invocation"
    if not span.parent_span_id and span.name.startswith(_ROOT_PREFIXES):
        return "root"
    return "child"


def _verdict(span: ReceivedSpan) -> str:
    """cold, proactive or warm for an invocation span (from its attributes only)."""
    if span.attributes.get("lambda_init.proactive_initialization") is True:
        return "proactive"
    return "cold" if span.attributes.get("faas.coldstart") is True else "warm"


class _Scale:
    """Time to x, linear except for long idle stretches, which are cut to _BREAK_PX (a broken
    axis): at an 11 s gap the INIT and invocation bars stay wide enough to read."""

    def __init__(
        self, intervals: Iterable[tuple[int, int]], width: float = _WIDTH - _LABEL_W - 14
    ) -> None:
        merged: list[list[int]] = []
        for a, b in sorted((a, max(a, b)) for a, b in intervals):
            if merged and a <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        if not merged:
            merged = [[0, 1]]
        self.start, self.end = merged[0][0], max(merged[-1][1], merged[0][0] + 1)
        total = self.end - self.start
        holes = [
            (merged[i][1], merged[i + 1][0])
            for i in range(len(merged) - 1)
            if merged[i + 1][0] - merged[i][1] > _BREAK_MIN_FRACTION * total
        ]
        holes = holes if len(holes) * _BREAK_PX < width / 2 else []
        linear_ns = total - sum(b - a for a, b in holes)
        per_ns = (width - len(holes) * _BREAK_PX) / max(linear_ns, 1)
        # Segments (t0, t1, x0, x1, cut): contiguous, covering start..end.
        self.segments: list[tuple[int, int, float, float, bool]] = []
        t, x = self.start, float(_LABEL_W)
        for a, b in [*holes, (self.end, self.end)]:
            if a > t:
                self.segments.append((t, a, x, x + (a - t) * per_ns, False))
                x += (a - t) * per_ns
            if b > a:
                self.segments.append((a, b, x, x + _BREAK_PX, True))
                x += _BREAK_PX
            t = b
        if not self.segments:
            self.segments.append((self.start, self.end, x, x + width, False))
        self.width = width

    @property
    def breaks(self) -> list[tuple[int, int, float, float, bool]]:
        return [seg for seg in self.segments if seg[4]]

    def x(self, t: int) -> float:
        for t0, t1, x0, x1, _ in self.segments:
            if t <= t1:
                return x0 + (max(t, t0) - t0) / max(t1 - t0, 1) * (x1 - x0)
        return self.segments[-1][3]

    def w(self, a: int, b: int) -> float:
        return max(self.x(b) - self.x(a), 2.0)


def _bar(
    scale: _Scale,
    y: float,
    start: int,
    end: int,
    color: str,
    label: str,
    tip: str,
    cls: str,
    span_id: str = "",
    label_outside: bool = True,
) -> str:
    """A bar, labelled inside when the label fits, else just after it (flame rows are free
    to the right of their one bar); a link to the span's attribute table when span_id."""
    x, w = scale.x(start), scale.w(start, end)
    if len(label) * _CHAR_PX + 6 <= w:
        text = f'<text x="{x + 3:.1f}" y="{y + 14}" class="lbl">{_esc(label)}</text>'
    elif label_outside:
        room = _WIDTH - (x + w) - 6
        need = len(label) * _CHAR_PX
        if need > room and x - _LABEL_W - 6 > room:  # no room on the right: on the left
            text = (
                f'<text x="{x - 4:.1f}" y="{y + 14}" class="lblout" text-anchor="end">'
                f"{_esc(_fit(label, x - _LABEL_W - 6))}</text>"
            )
        else:
            text = (
                f'<text x="{x + w + 4:.1f}" y="{y + 14}" class="lblout">'
                f"{_esc(_fit(label, room))}</text>"
            )
    else:
        text = ""
    rect = (
        f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_ROW_H - 4}" rx="2" fill="{color}"/>'
    )
    inner = f"<title>{_esc(tip)}</title>{rect}{text}"
    if span_id:
        inner = f'<a href="#s-{span_id}">{inner}</a>'
    return f'<g class="{cls}">{inner}</g>'


def _gap(scale: _Scale, y: float, start: int, end: int, label: str) -> str:
    if end <= start:
        return ""
    x, w = scale.x(start), scale.w(start, end)
    text = ""
    if len(label) * _CHAR_PX + 4 <= w:
        text = (
            f'<text x="{x + w / 2:.1f}" y="{y + 14}" class="gaplbl" text-anchor="middle">'
            f"{_esc(label)}</text>"
        )
    return (
        f'<g class="gap"><title>{_esc(label)}</title>'
        f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{_ROW_H - 4}" fill="url(#hatch)" '
        f'stroke="#999" stroke-dasharray="3,2"/>{text}</g>'
    )


def _cut_bands(scale: _Scale, top: float, bottom: float) -> str:
    """Light bands behind the bars where the axis is cut (drawn first, so bars stay on top)."""
    return "".join(
        f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{bottom - top:.1f}" '
        'class="cut"/>'
        for _, _, x0, x1, _ in scale.breaks
    )


def _axis(scale: _Scale, y: float) -> str:
    """Ticks per linear segment, labels that never overlap or leave the picture, and a cut
    mark (with the time cut out) where the axis is broken."""
    parts: list[str] = []
    ticks: list[tuple[float, int]] = []
    for t0, t1, x0, x1, cut in scale.segments:
        if cut:
            cut_ms = (t1 - t0) / 1e6
            mid = (x0 + x1) / 2
            parts.append(
                f'<text x="{mid:.1f}" y="{y + 26}" class="axis" '
                f'text-anchor="middle">axis cut: {_esc(_fmt_ms(cut_ms))}</text>'
                f'<path d="M{mid - 7:.1f},{y + 6} l6,-8 M{mid - 1:.1f},{y + 6} l6,-8" '
                'stroke="#888"/>'
            )
            ticks.append((x0, t0))
            ticks.append((x1, t1))
            continue
        n = max(1, int((x1 - x0) // 130))
        ticks += [(x0 + (x1 - x0) * i / n, t0 + (t1 - t0) * i // n) for i in range(n + 1)]
    last_right = -1e9
    for x, t in sorted(ticks):
        label = _fmt_ms((t - scale.start) / 1e6)
        half = len(label) * _CHAR_PX / 2
        anchor, left, right = "middle", x - half, x + half
        if right > _WIDTH - 2:
            anchor, left, right = "end", x - 2 * half, x
        if left < last_right + 8:
            continue
        last_right = right
        parts.append(
            f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#888"/>'
            f'<text x="{x:.1f}" y="{y + 15}" class="axis" text-anchor="{anchor}">'
            f"{_esc(label)}</text>"
        )
    return "".join(parts)


_DEFS = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="2"/></pattern></defs>'
)


def _svg(height: float, body: str) -> str:
    return (
        f'<svg viewBox="0 0 {_WIDTH} {height:.0f}" width="{_WIDTH}" height="{height:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg">{_DEFS}{body}</svg>'
    )


def _attr_table(span: ReceivedSpan, by_id: Mapping[str, ReceivedSpan]) -> str:
    """The span's attributes and links, shown when its bar is clicked (CSS :target)."""
    rows = [
        f"<tr><th>{_esc(k)}</th><td>{_esc(json.dumps(v))}</td></tr>"
        for k, v in sorted(span.attributes.items())
    ]
    for link in span.links:
        target = by_id.get(link.span_id)
        what = _esc(target.name) if target else "span not in this file"
        rows.append(
            f"<tr><th>link</th><td><a href='#s-{link.span_id}'>{what}</a> (trace "
            f"{link.trace_id}) {_esc(json.dumps(link.attributes))}</td></tr>"
        )
    if span.status_code != "UNSET":
        rows.append(
            f"<tr><th>status</th><td>{_esc(span.status_code)} {_esc(span.status_message)}</td></tr>"
        )
    return (
        f'<div class="attrs" id="s-{span.span_id}"><b>{_esc(span.name)}</b> '
        f"[{_esc(span.kind)}] {span.duration_ms:.1f} ms, span {span.span_id}, trace "
        f"<a href='#t-{span.trace_id}'>{span.trace_id}</a> <a href='#' class='close'>close</a>"
        f"<table>{''.join(rows)}</table></div>"
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
    scale = _Scale(
        [(s.start_ns, s.end_ns) for s in spans] + [(g.start_ns, g.end_ns) for g, _ in ghosts]
    )
    body: list[str] = []
    y = 4
    for ghost, source in ghosts:
        body.append(
            f'<text x="4" y="{y + 14}" class="name">linked INIT (other trace)</text>'
            + _bar(
                scale,
                y,
                ghost.start_ns,
                ghost.end_ns,
                _COLORS["ghost"],
                ghost.name,
                _tooltip(ghost),
                "bar ghost",
                ghost.span_id,
                label_outside=False,
            )
            + _gap(
                scale,
                y,
                ghost.end_ns,
                source.start_ns,
                f"gap {_fmt_ms((source.start_ns - ghost.end_ns) / 1e6)}",
            )
        )
        y += _ROW_H
    inits = [s for _, s in rows if is_init_span(s)]
    invocations = [s for _, s in rows if is_invocation_span(s)]
    for depth, s in rows:
        label = ("\u00a0\u00a0" * depth) + s.name
        label_text = s.name + (f" ({_verdict(s)})" if is_invocation_span(s) else "")
        body.append(
            f'<text x="4" y="{y + 14}" class="name"><title>{_esc(s.name)}</title>'
            f"{_esc(_fit(label, _LABEL_W - 10))}</text>"
            + _bar(
                scale,
                y,
                s.start_ns,
                s.end_ns,
                _COLORS[_role(s)],
                f"{label_text} {_fmt_ms(s.duration_ms)}",
                _tooltip(s),
                f"bar {_role(s)}",
                s.span_id,
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
                            f"gap {_fmt_ms((s.start_ns - init.end_ns) / 1e6)}",
                        )
                    )
        y += _ROW_H
    body.insert(0, _cut_bands(scale, 0, y + 2))
    body.append(_axis(scale, y + 2))
    height = y + (36 if scale.breaks else 24)
    links = []
    for s in spans:
        for link in s.links:
            target = by_id.get(link.span_id)
            what = _esc(target.name) if target else "span not in this file"
            links.append(
                f"<li>{_esc(s.name)} &rarr; <a href='#s-{link.span_id}'>{what}</a> "
                f"(trace <a href='#t-{link.trace_id}'>{link.trace_id[:8]}&hellip;</a>, span "
                f"{link.span_id}) {_esc(json.dumps(link.attributes))}</li>"
            )
    title = invocations[0].name if invocations else (inits[0].name if inits else spans[0].name)
    verdicts = {_verdict(s) for s in invocations}
    kind = next((v for v in ("proactive", "cold", "warm") if v in verdicts), "")
    if not invocations and any(
        s.attributes.get("lambda_init.proactive_initialization") for s in inits
    ):
        kind = "proactive INIT"
    elif not invocations and any(s.attributes.get("lambda_init.unused") for s in inits):
        kind = "unused INIT"
    tag = f" <span class='tag {kind.split()[0]}'>{_esc(kind)}</span>" if kind else ""
    return (
        f'<section class="trace" id="t-{trace_id}"><h3>{_esc(title)}{tag} '
        f"<small>trace {trace_id}</small></h3>"
        + _svg(height, "".join(body))
        + (f"<ul class='links'>{''.join(links)}</ul>" if links else "")
        + "".join(_attr_table(s, by_id) for _, s in rows)
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
    scale = _Scale((s.start_ns, s.end_ns) for s in relevant)
    order = sorted(per_sandbox.items(), key=lambda kv: min(s.start_ns for s in kv[1]))
    body, y = [], 4
    for n, (key, group) in enumerate(order, 1):
        y += _TAG_H
        body.append(
            f'<text x="4" y="{y + 14}" class="name">sandbox {n} '
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
                    init.span_id,
                    label_outside=False,
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
                        f"gap {_fmt_ms((nxt.start_ns - init.end_ns) / 1e6)}",
                    )
                )
        # Verdict tags above the bars: they never collide with a gap label in the row.
        tag_right = -1e9
        for inv in invs:
            verdict = _verdict(inv)
            body.append(
                _bar(
                    scale,
                    y,
                    inv.start_ns,
                    inv.end_ns,
                    _COLORS["invocation"],
                    "",
                    _tooltip(inv),
                    "bar invocation",
                    inv.span_id,
                    label_outside=False,
                )
            )
            x = scale.x(inv.start_ns)
            text = verdict if x >= tag_right + 4 else ""
            if not text and verdict != "warm":
                text = verdict[0]  # c / p: still visible when crowded
            if text and x >= tag_right + 2:
                body.append(f'<text x="{x:.1f}" y="{y - 3}" class="tag {verdict}">{text}</text>')
                tag_right = x + len(text) * _CHAR_PX
        y += _ROW_H + 4
    body.insert(0, _cut_bands(scale, 4, y + 2))
    body.append(_axis(scale, y + 2))
    return _svg(y + (36 if scale.breaks else 24), "".join(body))


_CSS = """
body{font-family:system-ui,sans-serif;margin:16px;color:#222}
svg{width:100%;height:auto;max-width:1360px;display:block}
svg a{cursor:pointer}svg a:hover rect{stroke:#222;stroke-width:1.5}
.lblout{font-size:11px;fill:#333}.cut{fill:#fafafa;stroke:#ccc;stroke-dasharray:2,3}
text.tag{font-size:11px;font-weight:600}text.cold{fill:#c0392b}text.proactive{fill:#8e44ad}
text.warm{fill:#2c7a3f}
span.tag{font-size:12px;padding:1px 6px;border-radius:3px;color:#fff;font-weight:normal}
span.cold{background:#c0392b}span.proactive{background:#8e44ad}span.warm{background:#2c7a3f}
span.unused{background:#777}
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
        " Click a bar for its attributes (hover for a summary). Long idle stretches are cut "
        "out of the time axis (marked <i>axis cut</i>) so the bars stay readable.</p>"
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

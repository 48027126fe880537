"""One trace as a flame graph: nested bars, the gap after INIT, a linked INIT as a ghost bar,
the links, and each span's attribute table (shown on click through CSS :target)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping

from .otlp_spans import ReceivedSpan
from .summary import is_init_span, is_invocation_span
from .view_svg import (
    COLORS,
    LABEL_W,
    ROW_H,
    Scale,
    axis,
    bar,
    cut_bands,
    esc,
    fit,
    fmt_ms,
    gap,
    svg,
)

__all__ = ["flame", "tooltip", "verdict"]

_ROOT_PREFIXES = ("cold start ", "first invocation ")


def tooltip(span: ReceivedSpan) -> str:
    """The hover text of a bar: name, kind, duration, attributes, links, status."""
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


def verdict(span: ReceivedSpan) -> str:
    """cold, proactive or warm for an invocation span (from its attributes only)."""
    if span.attributes.get("lambda_init.proactive_initialization") is True:
        return "proactive"
    return "cold" if span.attributes.get("faas.coldstart") is True else "warm"


def _attr_table(span: ReceivedSpan, by_id: Mapping[str, ReceivedSpan]) -> str:
    """The span's attributes and links, shown when its bar is clicked (CSS :target)."""
    rows = [
        f"<tr><th>{esc(k)}</th><td>{esc(json.dumps(v))}</td></tr>"
        for k, v in sorted(span.attributes.items())
    ]
    for link in span.links:
        target = by_id.get(link.span_id)
        what = esc(target.name) if target else "span not in this file"
        rows.append(
            f"<tr><th>link</th><td><a href='#s-{link.span_id}'>{what}</a> (trace "
            f"{link.trace_id}) {esc(json.dumps(link.attributes))}</td></tr>"
        )
    if span.status_code != "UNSET":
        rows.append(
            f"<tr><th>status</th><td>{esc(span.status_code)} {esc(span.status_message)}</td></tr>"
        )
    return (
        f'<div class="attrs" id="s-{span.span_id}"><b>{esc(span.name)}</b> '
        f"[{esc(span.kind)}] {span.duration_ms:.1f} ms, span {span.span_id}, trace "
        f"<a href='#t-{span.trace_id}'>{span.trace_id}</a> <a href='#' class='close'>close</a>"
        f"<table>{''.join(rows)}</table></div>"
    )


def _tree_rows(spans: list[ReceivedSpan]) -> list[tuple[int, ReceivedSpan]]:
    """Spans depth-first by start time, with their depth; a missing parent makes a root."""
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
    return rows


def _ghosts(
    trace_id: str, spans: list[ReceivedSpan], by_id: Mapping[str, ReceivedSpan]
) -> list[tuple[ReceivedSpan, ReceivedSpan]]:
    """(linked INIT in another trace, the span linking to it): drawn so the gap shows here."""
    found = []
    for s in spans:
        for link in s.links:
            target = by_id.get(link.span_id)
            if target is not None and target.trace_id != trace_id and is_init_span(target):
                found.append((target, s))
    return found


def _gap_label(start_ns: int, end_ns: int) -> str:
    return f"gap {fmt_ms((end_ns - start_ns) / 1e6)}"


def _ghost_row(scale: Scale, y: float, ghost: ReceivedSpan, source: ReceivedSpan) -> str:
    return (
        f'<text x="4" y="{y + 14}" class="name">linked INIT (other trace)</text>'
        + bar(
            scale,
            y,
            ghost.start_ns,
            ghost.end_ns,
            COLORS["ghost"],
            ghost.name,
            tooltip(ghost),
            "bar ghost",
            ghost.span_id,
            label_outside=False,
        )
        + gap(scale, y, ghost.end_ns, source.start_ns, _gap_label(ghost.end_ns, source.start_ns))
    )


def _span_row(
    scale: Scale, y: float, depth: int, s: ReceivedSpan, inits: list[ReceivedSpan]
) -> str:
    """A span's name, its bar, and for an invocation the gap after each earlier INIT."""
    label = ("\u00a0\u00a0" * depth) + s.name
    label_text = s.name + (f" ({verdict(s)})" if is_invocation_span(s) else "")
    row = f'<text x="4" y="{y + 14}" class="name"><title>{esc(s.name)}</title>'
    row += f"{esc(fit(label, LABEL_W - 10))}</text>"
    row += bar(
        scale,
        y,
        s.start_ns,
        s.end_ns,
        COLORS[_role(s)],
        f"{label_text} {fmt_ms(s.duration_ms)}",
        tooltip(s),
        f"bar {_role(s)}",
        s.span_id,
    )
    if is_invocation_span(s):
        for init in inits:
            if init.end_ns < s.start_ns:
                row += gap(scale, y, init.end_ns, s.start_ns, _gap_label(init.end_ns, s.start_ns))
    return row


def _links_list(spans: list[ReceivedSpan], by_id: Mapping[str, ReceivedSpan]) -> str:
    items = []
    for s in spans:
        for link in s.links:
            target = by_id.get(link.span_id)
            what = esc(target.name) if target else "span not in this file"
            items.append(
                f"<li>{esc(s.name)} &rarr; <a href='#s-{link.span_id}'>{what}</a> "
                f"(trace <a href='#t-{link.trace_id}'>{link.trace_id[:8]}&hellip;</a>, span "
                f"{link.span_id}) {esc(json.dumps(link.attributes))}</li>"
            )
    return f"<ul class='links'>{''.join(items)}</ul>" if items else ""


def _heading(
    trace_id: str, ordered: list[ReceivedSpan], fallback: str, queued: Mapping[str, float]
) -> str:
    """The trace's title and its cold/proactive/warm (or INIT-only) tag (spans in row order);
    a warm request that queued behind its busy sandbox says how long."""
    inits = [s for s in ordered if is_init_span(s)]
    invocations = [s for s in ordered if is_invocation_span(s)]
    title = invocations[0].name if invocations else (inits[0].name if inits else fallback)
    verdicts = {verdict(s) for s in invocations}
    kind = next((v for v in ("proactive", "cold", "warm") if v in verdicts), "")
    if not invocations and any(
        s.attributes.get("lambda_init.proactive_initialization") for s in inits
    ):
        kind = "proactive INIT"
    elif not invocations and any(s.attributes.get("lambda_init.unused") for s in inits):
        kind = "unused INIT"
    tag = f" <span class='tag {kind.split()[0]}'>{esc(kind)}</span>" if kind else ""
    waits = [queued[i] for s in invocations if (i := _invocation_id(s)) in queued]
    if kind == "warm" and waits:
        tag += f" <span class='tag queued'>queued {esc(fmt_ms(max(waits)))}</span>"
    return f"<h3>{esc(title)}{tag}{_caller_wait(invocations)} <small>trace {trace_id}</small></h3>"


def _caller_wait(invocations: list[ReceivedSpan]) -> str:
    """What the trigger's clock says the caller went through (lambda_init.caller_wait_ms)."""
    for s in invocations:
        wait = s.attributes.get("lambda_init.caller_wait_ms")
        if isinstance(wait, (int, float)) and not isinstance(wait, bool):
            if wait > 0:
                return f" <small class='wait'>the user waited {wait:.0f} ms for INIT</small>"
            return " <small class='wait'>the request came after INIT ended: nobody waited</small>"
    return ""


def _invocation_id(span: ReceivedSpan) -> str:
    return str(span.attributes.get("faas.invocation_id", ""))


def flame(
    trace_id: str,
    spans: list[ReceivedSpan],
    by_id: Mapping[str, ReceivedSpan],
    queued: Mapping[str, float] | None = None,
) -> str:
    """The trace's section: heading, flame graph, links and attribute tables; queued maps an
    invocation id to how long (ms) it waited behind a busy sandbox."""
    rows = _tree_rows(spans)
    ghosts = _ghosts(trace_id, spans, by_id)
    scale = Scale(
        [(s.start_ns, s.end_ns) for s in spans] + [(g.start_ns, g.end_ns) for g, _ in ghosts]
    )
    body: list[str] = []
    y = 4
    for ghost, source in ghosts:
        body.append(_ghost_row(scale, y, ghost, source))
        y += ROW_H
    inits = [s for _, s in rows if is_init_span(s)]
    for depth, s in rows:
        body.append(_span_row(scale, y, depth, s, inits))
        y += ROW_H
    body.insert(0, cut_bands(scale, 0, y + 2))
    body.append(axis(scale, y + 2))
    height = y + (36 if scale.breaks else 24)
    heading = _heading(trace_id, [s for _, s in rows], spans[0].name, queued or {})
    return (
        f'<section class="trace" id="t-{trace_id}">{heading}'
        + svg(height, "".join(body))
        + _links_list(spans, by_id)
        + "".join(_attr_table(s, by_id) for _, s in rows)
        + "</section>"
    )

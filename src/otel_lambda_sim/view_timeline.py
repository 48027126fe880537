"""The sandbox timeline: every sandbox's INIT and invocations on one time axis, one row each,
with the gap after INIT and a cold/proactive/warm tag above each invocation."""

from __future__ import annotations

from collections import defaultdict

from .otlp_spans import ReceivedSpan
from .summary import is_init_span, is_invocation_span, sandbox_key
from .view_flame import tooltip, verdict
from .view_svg import (
    CHAR_PX,
    COLORS,
    ROW_H,
    TAG_H,
    Scale,
    axis,
    bar,
    cut_bands,
    esc,
    fmt_ms,
    gap,
    svg,
)

__all__ = ["timeline"]


def _init_bars(scale: Scale, y: float, inits: list[ReceivedSpan], invs: list[ReceivedSpan]) -> str:
    """Each INIT's bar and the gap to the first invocation after it."""
    parts = []
    for init in inits:
        parts.append(
            bar(
                scale,
                y,
                init.start_ns,
                init.end_ns,
                COLORS["init"],
                "INIT",
                tooltip(init),
                "bar init",
                init.span_id,
                label_outside=False,
            )
        )
        nxt = next((s for s in invs if s.start_ns >= init.end_ns), None)
        if nxt is not None:
            label = f"gap {fmt_ms((nxt.start_ns - init.end_ns) / 1e6)}"
            parts.append(gap(scale, y, init.end_ns, nxt.start_ns, label))
    return "".join(parts)


def _invocation_bars(scale: Scale, y: float, invs: list[ReceivedSpan]) -> str:
    """Invocation bars, with verdict tags above them: they never collide with a gap label."""
    parts = []
    tag_right = -1e9
    for inv in invs:
        kind = verdict(inv)
        parts.append(
            bar(
                scale,
                y,
                inv.start_ns,
                inv.end_ns,
                COLORS["invocation"],
                "",
                tooltip(inv),
                "bar invocation",
                inv.span_id,
                label_outside=False,
            )
        )
        x = scale.x(inv.start_ns)
        text = kind if x >= tag_right + 4 else ""
        if not text and kind != "warm":
            text = kind[0]  # c / p: still visible when crowded
        if text and x >= tag_right + 2:
            parts.append(f'<text x="{x:.1f}" y="{y - 3}" class="tag {kind}">{text}</text>')
            tag_right = x + len(text) * CHAR_PX
    return "".join(parts)


def timeline(spans: list[ReceivedSpan]) -> str:
    """One SVG with a row per sandbox (by faas.instance), in order of first activity."""
    per_sandbox: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for s in spans:
        if is_init_span(s) or is_invocation_span(s):
            per_sandbox[sandbox_key(s) or "(no faas.instance)"].append(s)
    if not per_sandbox:
        return "<p>No init or invocation spans.</p>"
    relevant = [s for group in per_sandbox.values() for s in group]
    scale = Scale((s.start_ns, s.end_ns) for s in relevant)
    order = sorted(per_sandbox.items(), key=lambda kv: min(s.start_ns for s in kv[1]))
    body, y = [], 4
    for n, (key, group) in enumerate(order, 1):
        y += TAG_H
        body.append(
            f'<text x="4" y="{y + 14}" class="name">sandbox {n} '
            f"<title>{esc(key)}</title>{esc(key[-8:])}</text>"
        )
        inits = sorted((s for s in group if is_init_span(s)), key=lambda s: s.start_ns)
        invs = sorted((s for s in group if is_invocation_span(s)), key=lambda s: s.start_ns)
        body.append(_init_bars(scale, y, inits, invs))
        body.append(_invocation_bars(scale, y, invs))
        y += ROW_H + 4
    body.insert(0, cut_bands(scale, 4, y + 2))
    body.append(axis(scale, y + 2))
    return svg(y + (36 if scale.breaks else 24), "".join(body))

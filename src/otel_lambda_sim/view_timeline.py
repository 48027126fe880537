"""The sandbox timeline: every sandbox's INIT and invocations on one time axis, one row each,
with the gap after INIT, each INIT's duration, a cold/proactive/warm tag above each
invocation, and, when the run's ground truth is at hand, the time a request queued behind
its busy sandbox drawn before its bar."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import NamedTuple

from .otlp_spans import ReceivedSpan
from .summary import is_init_span, is_invocation_span, sandbox_key
from .view_flame import tooltip, verdict
from .view_svg import (
    CHAR_PX,
    COLORS,
    ROW_H,
    TAG_H,
    WIDTH,
    Scale,
    axis,
    bar,
    cut_bands,
    esc,
    fmt_ms,
    gap,
    svg,
)

__all__ = ["Queued", "timeline"]


class Queued(NamedTuple):
    """A warm request that arrived while its sandbox was busy: when, and for how long."""

    arrival_ns: int
    queued_ms: float


class _Tag(NamedTuple):
    x: float
    texts: tuple[str, ...]  # the longest first; the first that fits is drawn
    cls: str
    priority: int  # lower is placed first: a queued request's tag before a warm one's


_PRIORITY = {"queued": 0, "cold": 1, "proactive": 1, "initdur": 2, "warm": 3}


def _place_tags(tags: list[_Tag], y: float) -> str:
    """Tags above the row, most telling first, each in its longest form that overlaps no tag
    already placed; a tag with no room left is dropped (its bar keeps its tooltip)."""
    parts: list[str] = []
    taken: list[tuple[float, float]] = []
    for tag in sorted(tags, key=lambda t: (t.priority, t.x)):
        for text in tag.texts:
            left = min(tag.x, WIDTH - 2 - len(text) * CHAR_PX)  # never past the right edge
            right = left + len(text) * CHAR_PX
            if all(right + 3 <= a or left >= b + 3 for a, b in taken):
                parts.append(f'<text x="{left:.1f}" y="{y - 3}" class="tag {tag.cls}">')
                parts.append(f"{esc(text)}</text>")
                taken.append((left, right))
                break
    return "".join(parts)


def _init_bars(
    scale: Scale, y: float, inits: list[ReceivedSpan], invs: list[ReceivedSpan], tags: list[_Tag]
) -> str:
    """Each INIT's bar with its duration (inside, or above when the bar is too short) and the
    gap to the first invocation after it."""
    parts = []
    for init in inits:
        duration = fmt_ms(init.duration_ms)
        label = f"INIT {duration}"
        parts.append(
            bar(
                scale,
                y,
                init.start_ns,
                init.end_ns,
                COLORS["init"],
                label,
                tooltip(init),
                "bar init",
                init.span_id,
                label_outside=False,
            )
        )
        if len(label) * CHAR_PX + 6 > scale.w(init.start_ns, init.end_ns):
            tags.append(_Tag(scale.x(init.start_ns), (label, duration), "initdur", 2))
        nxt = next((s for s in invs if s.start_ns >= init.end_ns), None)
        if nxt is not None:
            text = f"gap {fmt_ms((nxt.start_ns - init.end_ns) / 1e6)}"
            parts.append(gap(scale, y, init.end_ns, nxt.start_ns, text))
    return "".join(parts)


def _queue_bar(scale: Scale, y: float, queued: Queued, start_ns: int) -> str:
    """The wait of a request behind its busy sandbox, from its arrival to its invocation: a
    strip under the row, so the invocation it waited for stays visible above it."""
    x, w = scale.x(queued.arrival_ns), scale.w(queued.arrival_ns, start_ns)
    tip = f"queued {fmt_ms(queued.queued_ms)} behind the busy sandbox (arrived here)"
    return (
        f'<g class="queue"><title>{esc(tip)}</title><rect x="{x:.1f}" y="{y + ROW_H - 4}" '
        f'width="{w:.1f}" height="5" fill="url(#queue)" stroke="#c0392b" '
        'stroke-width="0.8"/></g>'
    )


def _invocation_bars(
    scale: Scale,
    y: float,
    invs: list[ReceivedSpan],
    queued: Mapping[str, Queued],
    tags: list[_Tag],
) -> str:
    """Invocation bars (a queued one after its queue bar) and their verdict tags."""
    parts = []
    for inv in invs:
        kind = verdict(inv)
        wait = queued.get(str(inv.attributes.get("faas.invocation_id", "")))
        if wait is not None:
            parts.append(_queue_bar(scale, y, wait, inv.start_ns))
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
        if wait is not None:
            long = f"{kind}, queued {fmt_ms(wait.queued_ms)}"
            tags.append(_Tag(scale.x(wait.arrival_ns), (long, "queued", "q"), "queued", 0))
        else:
            short = (kind[0],) if kind != "warm" else ()
            tags.append(_Tag(scale.x(inv.start_ns), (kind, *short), kind, _PRIORITY[kind]))
    return "".join(parts)


def timeline(spans: list[ReceivedSpan], queued: Mapping[str, Queued] | None = None) -> str:
    """One SVG with a row per sandbox (by faas.instance), in order of first activity;
    queued maps an invocation id to its wait behind a busy sandbox (from the ground truth)."""
    per_sandbox: dict[str, list[ReceivedSpan]] = defaultdict(list)
    for s in spans:
        if is_init_span(s) or is_invocation_span(s):
            per_sandbox[sandbox_key(s) or "(no faas.instance)"].append(s)
    if not per_sandbox:
        return "<p>No init or invocation spans.</p>"
    relevant = [(s.start_ns, s.end_ns) for group in per_sandbox.values() for s in group]
    relevant += [(q.arrival_ns, q.arrival_ns) for q in (queued or {}).values()]
    scale = Scale(relevant)
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
        tags: list[_Tag] = []
        body.append(_init_bars(scale, y, inits, invs, tags))
        body.append(_invocation_bars(scale, y, invs, queued or {}, tags))
        body.append(_place_tags(tags, y))
        y += ROW_H + 6
    body.insert(0, cut_bands(scale, 4, y + 2))
    body.append(axis(scale, y + 2))
    return svg(y + (36 if scale.breaks else 24), "".join(body))

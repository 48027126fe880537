"""SVG drawing for the HTML view: a time scale with cut-out idle stretches, bars, gaps, axis."""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any

__all__ = [
    "CHAR_PX",
    "COLORS",
    "LABEL_W",
    "ROW_H",
    "TAG_H",
    "WIDTH",
    "Scale",
    "axis",
    "bar",
    "cut_bands",
    "esc",
    "fit",
    "fmt_ms",
    "gap",
    "svg",
]

WIDTH = 1360  # the SVG's own width; CSS scales it to the window
LABEL_W = 250
ROW_H = 22
TAG_H = 13  # a line above a timeline row for the cold/proactive/warm tags
CHAR_PX = 6.6  # average glyph width at 11-12 px sans-serif, to fit labels without overflow
BREAK_PX = 96.0  # what a cut-out idle stretch of the axis keeps on screen
BREAK_MIN_FRACTION = 0.3  # an empty stretch longer than this share of the chart is cut out
COLORS = {
    "init": "#e8912d",
    "invocation": "#3b7dd8",
    "child": "#5aa469",
    "ghost": "#f3d2a6",
    "root": "#8a8fa3",  # INIT start to invocation end: holds the init and invocation spans
}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def fit(text: str, px: float) -> str:
    """text cut to about px wide, with an ellipsis when cut."""
    room = int(px / CHAR_PX)
    if len(text) <= room:
        return text
    return text[: max(room - 1, 0)] + "\u2026" if room > 1 else ""


def fmt_ms(ms: float, decimals: int | None = None) -> str:
    """A time for a label: seconds from 10 s, else ms with as many decimals as the value
    needs (0.42 ms, 3.5 ms, 120 ms), or as many as asked (one axis, one precision)."""
    if abs(ms) >= 10_000:
        return f"{ms / 1000:.1f} s"
    if decimals is None:
        decimals = 0 if abs(ms) >= 10 else (1 if abs(ms) >= 1 else 2)
    return f"{ms:.{decimals}f} ms"


def _tick_decimals(step_ms: float) -> int:
    """Decimals that tell ticks step_ms apart: 0 from 1 ms, 1 from 0.1 ms, then 2, then 3."""
    for decimals, least in ((0, 1.0), (1, 0.1), (2, 0.01)):
        if step_ms >= least:
            return decimals
    return 3


class Scale:
    """Time to x, linear except for long idle stretches, which are cut to BREAK_PX (a broken
    axis): at an 11 s gap the INIT and invocation bars stay wide enough to read."""

    def __init__(
        self, intervals: Iterable[tuple[int, int]], width: float = WIDTH - LABEL_W - 14
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
            if merged[i + 1][0] - merged[i][1] > BREAK_MIN_FRACTION * total
        ]
        holes = holes if len(holes) * BREAK_PX < width / 2 else []
        linear_ns = total - sum(b - a for a, b in holes)
        per_ns = (width - len(holes) * BREAK_PX) / max(linear_ns, 1)
        # Segments (t0, t1, x0, x1, cut): contiguous, covering start..end.
        self.segments: list[tuple[int, int, float, float, bool]] = []
        t, x = self.start, float(LABEL_W)
        for a, b in [*holes, (self.end, self.end)]:
            if a > t:
                self.segments.append((t, a, x, x + (a - t) * per_ns, False))
                x += (a - t) * per_ns
            if b > a:
                self.segments.append((a, b, x, x + BREAK_PX, True))
                x += BREAK_PX
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


def bar(
    scale: Scale,
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
    if len(label) * CHAR_PX + 6 <= w:
        text = f'<text x="{x + 3:.1f}" y="{y + 14}" class="lbl">{esc(label)}</text>'
    elif label_outside:
        room = WIDTH - (x + w) - 6
        need = len(label) * CHAR_PX
        if need > room and x - LABEL_W - 6 > room:  # no room on the right: on the left
            text = (
                f'<text x="{x - 4:.1f}" y="{y + 14}" class="lblout" text-anchor="end">'
                f"{esc(fit(label, x - LABEL_W - 6))}</text>"
            )
        else:
            text = (
                f'<text x="{x + w + 4:.1f}" y="{y + 14}" class="lblout">'
                f"{esc(fit(label, room))}</text>"
            )
    else:
        text = ""
    rect = f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW_H - 4}" rx="2" fill="{color}"/>'
    inner = f"<title>{esc(tip)}</title>{rect}{text}"
    if span_id:
        inner = f'<a href="#s-{span_id}">{inner}</a>'
    return f'<g class="{cls}">{inner}</g>'


def gap(scale: Scale, y: float, start: int, end: int, label: str) -> str:
    if end <= start:
        return ""
    x, w = scale.x(start), scale.w(start, end)
    text = ""
    if len(label) * CHAR_PX + 4 <= w:
        text = (
            f'<text x="{x + w / 2:.1f}" y="{y + 14}" class="gaplbl" text-anchor="middle">'
            f"{esc(label)}</text>"
        )
    return (
        f'<g class="gap"><title>{esc(label)}</title>'
        f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW_H - 4}" fill="url(#hatch)" '
        f'stroke="#999" stroke-dasharray="3,2"/>{text}</g>'
    )


def cut_bands(scale: Scale, top: float, bottom: float) -> str:
    """Light bands behind the bars where the axis is cut (drawn first, so bars stay on top)."""
    return "".join(
        f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{bottom - top:.1f}" '
        'class="cut"/>'
        for _, _, x0, x1, _ in scale.breaks
    )


def _cut_mark(t0: int, t1: int, x0: float, x1: float, y: float) -> str:
    mid = (x0 + x1) / 2
    return (
        f'<text x="{mid:.1f}" y="{y + 26}" class="axis" '
        f'text-anchor="middle">axis cut: {esc(fmt_ms((t1 - t0) / 1e6))}</text>'
        f'<path d="M{mid - 7:.1f},{y + 6} l6,-8 M{mid - 1:.1f},{y + 6} l6,-8" '
        'stroke="#888"/>'
    )


def _ticks(scale: Scale) -> tuple[list[tuple[float, int]], float]:
    """Tick positions (x, time) over every segment, and the smallest step between them (ms)."""
    ticks: list[tuple[float, int]] = []
    step_ms = float("inf")
    for t0, t1, x0, x1, cut in scale.segments:
        if cut:
            ticks += [(x0, t0), (x1, t1)]
            continue
        n = max(1, int((x1 - x0) // 130))
        ticks += [(x0 + (x1 - x0) * i / n, t0 + (t1 - t0) * i // n) for i in range(n + 1)]
        step_ms = min(step_ms, (t1 - t0) / n / 1e6)
    return sorted(ticks), step_ms


def axis(scale: Scale, y: float) -> str:
    """Ticks per linear segment with labels precise enough to tell them apart (sub-ms traces
    too), never overlapping nor leaving the picture, the end of the axis always labelled, and
    a cut mark (with the time cut out) where the axis is broken."""
    parts = [_cut_mark(t0, t1, x0, x1, y) for t0, t1, x0, x1, cut in scale.segments if cut]
    ticks, step_ms = _ticks(scale)
    decimals = _tick_decimals(step_ms)
    placed: list[tuple[float, float, str, str]] = []  # (left, right, anchor, svg)
    for n, (x, t) in enumerate(ticks):
        label = fmt_ms((t - scale.start) / 1e6, decimals)
        half = len(label) * CHAR_PX / 2
        anchor, left, right = "middle", x - half, x + half
        if right > WIDTH - 2:
            anchor, left, right = "end", x - 2 * half, x
        last = n == len(ticks) - 1
        while last and placed and left < placed[-1][1] + 8:
            placed.pop()  # the end of the axis wins over the tick before it
        if placed and left < placed[-1][1] + 8:
            continue
        mark = (
            f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" stroke="#888"/>'
            f'<text x="{x:.1f}" y="{y + 15}" class="axis" text-anchor="{anchor}">'
            f"{esc(label)}</text>"
        )
        placed.append((left, right, anchor, mark))
    return "".join(parts) + "".join(mark for *_, mark in placed)


DEFS = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#bbb" stroke-width="2"/></pattern>'
    '<pattern id="queue" width="5" height="5" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(-45)"><rect width="5" height="5" fill="#fbe9e7"/>'
    '<line x1="0" y1="0" x2="0" y2="5" stroke="#e57373" stroke-width="1.5"/></pattern></defs>'
)


def svg(height: float, body: str) -> str:
    return (
        f'<svg viewBox="0 0 {WIDTH} {height:.0f}" width="{WIDTH}" height="{height:.0f}" '
        f'xmlns="http://www.w3.org/2000/svg">{DEFS}{body}</svg>'
    )

"""What the spans say about initializations, next to what the simulator knows happened.

Reads only span attributes (design.md): init spans are named `init {faas.name}`; invocation
spans carry `faas.coldstart`, first invocations `lambda_init.proactive_initialization`,
`lambda_init.gap_ms` and, when the trigger said when it received the request,
`lambda_init.caller_wait_ms`. Printing the ground truth beside it is how a user (or a test) sees
whether the instrumentation's verdicts are right.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .receiver import ReceivedSpan

__all__ = ["SpanSummary", "format_summary", "is_init_span", "is_invocation_span", "summarize"]


def is_init_span(span: ReceivedSpan) -> bool:
    return span.name.startswith("init ") and span.kind in ("INTERNAL", "UNSPECIFIED")


def is_invocation_span(span: ReceivedSpan) -> bool:
    """An invocation span: has faas.coldstart or faas.invocation_id, and is not an init span."""
    if is_init_span(span):
        return False
    return "faas.coldstart" in span.attributes or "faas.invocation_id" in span.attributes


def sandbox_key(span: ReceivedSpan) -> str | None:
    """faas.instance (the log stream) from the span, else the resource."""
    value = span.attributes.get("faas.instance") or span.resource.get("faas.instance")
    return str(value) if value else None


@dataclass
class SpanSummary:
    initializations: int = 0
    unused: int = 0
    invocations: int = 0
    cold_starts: int = 0
    proactive: int = 0
    first_invocations: int = 0
    gaps_ms: list[float] = field(default_factory=list)
    init_ms: list[float] = field(default_factory=list)
    caller_waits_ms: list[float] = field(default_factory=list)  # waited-for first invocations
    # The same gaps split by verdict: a cold start's gap is the hand-over (ms), a proactive
    # one's is idle time (seconds): mixed, their percentiles describe neither.
    cold_gaps_ms: list[float] = field(default_factory=list)
    proactive_gaps_ms: list[float] = field(default_factory=list)


def summarize(spans: Iterable[ReceivedSpan]) -> SpanSummary:
    out = SpanSummary()
    seen: set[str] = set()
    for span in spans:
        if span.span_id in seen:
            continue  # a retried export can deliver a span twice
        seen.add(span.span_id)
        attrs = span.attributes
        if is_init_span(span):
            out.initializations += 1
            out.init_ms.append(span.duration_ms)
            if attrs.get("lambda_init.unused"):
                out.unused += 1
        elif is_invocation_span(span):
            out.invocations += 1
            if attrs.get("faas.coldstart") is True:
                out.cold_starts += 1
            if attrs.get("lambda_init.proactive_initialization") is True:
                out.proactive += 1
            wait = attrs.get("lambda_init.caller_wait_ms")
            if isinstance(wait, (int, float)) and wait > 0:
                out.caller_waits_ms.append(float(wait))
            gap = attrs.get("lambda_init.gap_ms")
            if isinstance(gap, (int, float)):
                out.first_invocations += 1
                out.gaps_ms.append(float(gap))
                if attrs.get("lambda_init.proactive_initialization") is True:
                    out.proactive_gaps_ms.append(float(gap))
                elif attrs.get("faas.coldstart") is True:
                    out.cold_gaps_ms.append(float(gap))
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if abs(value) >= 10 else f"{value:.1f} ms"


def _dist(values: list[float]) -> str:
    if not values:
        return "none"
    return (
        f"n={len(values)} min {_ms(min(values))}, p50 {_ms(_quantile(values, 0.5))}, "
        f"p90 {_ms(_quantile(values, 0.9))}, max {_ms(max(values))}"
    )


def format_summary(
    summary: SpanSummary,
    truth: Mapping[str, Any] | None = None,
    notes: Iterable[str] = (),
) -> str:
    """The text summary the CLI prints: span verdicts, ground truth beside them."""

    def t(key: str) -> str:
        return f"   (simulator: {truth[key]})" if truth and key in truth else ""

    lines = [
        "What the spans say"
        + ("                          vs what happened (simulator)" if truth else ""),
        f"  initializations (init spans)   {summary.initializations:4d}{t('initializations')}",
        f"  cold starts (faas.coldstart)   {summary.cold_starts:4d}"
        + (f"   (simulator: {truth['waited_for']} waited for)" if truth else ""),
        f"  proactive initializations      {summary.proactive:4d}"
        + (f"   (simulator: {truth['not_waited_for']} not waited for)" if truth else ""),
        f"  unused initializations         {summary.unused:4d}{t('unused')}",
        f"  invocations                    {summary.invocations:4d}{t('requests')}",
        f"  INIT duration     {_dist(summary.init_ms)}",
        "  gap (first invocation start - INIT end)",
        f"    after a cold start          {_dist(summary.cold_gaps_ms)}",
        f"    after a proactive INIT      {_dist(summary.proactive_gaps_ms)}",
    ]
    if summary.caller_waits_ms:
        # Only requests whose trigger said when it received them (lambda_init.caller_wait_ms).
        lines.append(f"  users waited for INIT  {_dist(summary.caller_waits_ms)}")
    if truth and truth.get("init_reruns"):
        lines.append(f"  INIT re-run inside an invocation: {truth['init_reruns']}")
    if truth and truth.get("errors"):
        lines.append(f"  failed requests: {truth['errors']}")
    lines.extend(f"  note: {n}" for n in notes)
    return "\n".join(lines)

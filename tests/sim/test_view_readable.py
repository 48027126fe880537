"""The HTML view reads right at every scale: sub-millisecond axes, the end of the axis
labelled, INIT durations without hovering, a request that queued behind a busy sandbox drawn
as such, and gap percentiles kept apart for cold starts and proactive INITs."""

from __future__ import annotations

import re

from otel_lambda_sim.otlp_spans import ReceivedSpan
from otel_lambda_sim.summary import format_summary, summarize
from otel_lambda_sim.view import render_html
from otel_lambda_sim.view_svg import Scale, axis

T0 = 1_700_000_000_000_000_000
MS = 1_000_000


def _span(
    name: str, start_ms: float, end_ms: float, sandbox: str = "s1", **attrs: object
) -> ReceivedSpan:
    return ReceivedSpan(
        trace_id=f"{abs(hash((name, start_ms))):032x}"[:32],
        span_id=f"{abs(hash((name, start_ms, 1))):016x}"[:16],
        parent_span_id=None,
        name=name,
        kind="SERVER" if not name.startswith("init ") else "INTERNAL",
        start_ns=T0 + int(start_ms * MS),
        end_ns=T0 + int(end_ms * MS),
        attributes={"faas.instance": sandbox, **attrs},
        links=[],
        status_code="UNSET",
        status_message="",
        events=[],
        resource={},
        scope_name="test",
    )


def _labels(svg: str) -> list[str]:
    return re.findall(r'class="axis" text-anchor="\w+">([^<]+)</text>', svg)


def test_a_sub_millisecond_trace_labels_its_axis_in_fractions_of_a_millisecond() -> None:
    labels = _labels(axis(Scale([(T0, T0 + 340_000)]), 10))
    assert labels[0] == "0.00 ms" and labels[-1] == "0.34 ms"
    assert len(set(labels)) == len(labels) >= 4  # every tick says a different time


def test_the_end_of_the_axis_is_always_labelled_inside_the_picture() -> None:
    for end_ms in (151.3, 4159.0, 999.0, 12_345.0):
        svg = axis(Scale([(T0, T0 + int(end_ms * MS))]), 10)
        last = re.findall(r'<text x="([\d.]+)" y="[\d.]+" class="axis" text-anchor="(\w+)">', svg)[
            -1
        ]
        assert last[1] == "end" and float(last[0]) <= 1360
        assert _labels(svg)[-1] in (f"{end_ms:.0f} ms", f"{end_ms / 1000:.1f} s")


def test_init_bars_on_the_timeline_show_their_duration() -> None:
    spans = [
        _span("init fn", 0, 414.2),
        _span("fn", 416, 417, **{"faas.coldstart": True, "faas.invocation_id": "a"}),
        _span("init fn", 5000, 5003.4, sandbox="s2"),  # too short for its label inside
        _span("fn", 9000, 9001, sandbox="s2", **{"faas.invocation_id": "b"}),
    ]
    page = render_html(spans)
    timeline = page.split("<h2>Traces")[0]
    assert "INIT 414 ms" in timeline
    assert "INIT 3.4 ms" in timeline or ">3.4 ms<" in timeline


def test_a_request_that_queued_behind_a_busy_sandbox_is_drawn_as_queued() -> None:
    spans = [
        _span("init fn", 0, 500),
        _span("fn", 502, 600, **{"faas.coldstart": True, "faas.invocation_id": "a"}),
        _span("fn", 2000, 2150, **{"faas.coldstart": False, "faas.invocation_id": "b"}),
        _span("fn", 2151, 2300, **{"faas.coldstart": False, "faas.invocation_id": "c"}),
    ]
    requests = [
        {"request_id": "b", "arrival_ns": T0 + 2000 * MS, "queued_ms": 0.1},
        {"request_id": "c", "arrival_ns": T0 + 2010 * MS, "queued_ms": 141.7},
    ]
    page = render_html(spans, requests=requests)
    assert page.count('<g class="queue">') == 1
    assert "warm, queued 142 ms" in page  # the timeline's tag
    assert "<span class='tag queued'>queued 142 ms</span>" in page  # the trace's heading
    assert '<g class="queue">' not in render_html(spans)  # without the truth: spans only


def test_gap_percentiles_are_split_by_cold_start_and_proactive_init() -> None:
    spans = [
        _span("fn", 0, 1, **{"faas.coldstart": True, "lambda_init.gap_ms": 1.8}),
        _span("fn", 5, 6, sandbox="s2", **{"faas.coldstart": False,
              "lambda_init.proactive_initialization": True, "lambda_init.gap_ms": 3537.0}),
    ]  # fmt: skip
    text = format_summary(summarize(spans))
    assert "after a cold start          n=1 min 1.8 ms, p50 1.8 ms" in text
    assert "after a proactive INIT      n=1 min 3537 ms, p50 3537 ms" in text

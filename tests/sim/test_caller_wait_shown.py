"""The CLI summary and the HTML view say how long users waited for INIT, from
`lambda_init.caller_wait_ms` alone, and say nothing when no trigger gave a time."""

from __future__ import annotations

from typing import Any

from otel_lambda_sim.otlp_spans import ReceivedSpan
from otel_lambda_sim.summary import format_summary, summarize
from otel_lambda_sim.view import render_html

T0 = 1_790_000_000_000_000_000


def span(name: str, span_id: str, trace_id: str, **attributes: Any) -> ReceivedSpan:
    return ReceivedSpan(
        trace_id, span_id, None, name, "SERVER", T0, T0 + 10**8, attributes, [], "UNSET", "",
        [], {"faas.instance": span_id}, "otel_lambda_init",
    )  # fmt: skip


def first(span_id: str, trace_id: str, **extra: Any) -> ReceivedSpan:
    attrs = {"faas.invocation_id": span_id, "faas.coldstart": True, "lambda_init.gap_ms": 2.0}
    return span("GET /orders", span_id, trace_id, **{**attrs, **extra})


def test_the_summary_says_how_long_users_waited_for_init() -> None:
    spans = [
        first("a" * 16, "1" * 32, **{"lambda_init.caller_wait_ms": 612.4}),
        first("b" * 16, "2" * 32, **{"lambda_init.caller_wait_ms": 388.0}),
        first("c" * 16, "3" * 32, **{"lambda_init.caller_wait_ms": 0.0}),  # nobody waited
        first("d" * 16, "4" * 32),  # an SQS event: no time, no line item
    ]
    text = format_summary(summarize(spans))
    assert "users waited for INIT  n=2 min 388 ms" in text
    assert "max 612 ms" in text


def test_without_event_times_the_summary_has_no_wait_line() -> None:
    assert "waited for INIT" not in format_summary(summarize([first("d" * 16, "4" * 32)]))


def test_the_view_says_the_user_waited_for_init() -> None:
    html = render_html(
        [
            first("a" * 16, "1" * 32, **{"lambda_init.caller_wait_ms": 612.4}),
            first("c" * 16, "3" * 32, **{"lambda_init.caller_wait_ms": 0.0}),
            first("d" * 16, "4" * 32),
        ]
    )
    assert "the user waited 612 ms for INIT" in html
    assert "the request came after INIT ended: nobody waited" in html
    assert html.count("class='wait'") == 2

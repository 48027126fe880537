"""The decision table of the design, row by row, with its boundaries."""

from __future__ import annotations

import pytest

from otel_lambda_init._core import classify
from otel_lambda_init._core.classify import InitTimeline, classify_first_invocation

MS = 1_000_000
S = 1_000 * MS
T0 = 1_700_000_000 * S  # INIT start, epoch ns


def timeline(duration_ms: float = 800, phase: str = "init") -> InitTimeline:
    return InitTimeline(T0, T0 + int(duration_ms * MS), phase)


# (initialization type, phase, first invocation - INIT start (ms), coldstart, proactive)
DECISION_TABLE = [
    ("on-demand", "init", 900, True, False),
    ("on-demand", "init", 10_000, True, False),  # boundary: exactly the threshold waited
    ("on-demand", "init", 10_000.001, False, True),  # just past it: proactive
    ("on-demand", "init", 11_000, False, True),
    ("on-demand", "init", 6 * 60_000, False, True),
    ("on-demand", "invoke", 900, True, False),
    ("on-demand", "invoke", 25_000, True, False),  # re-run INIT is a cold start at any gap
    ("provisioned-concurrency", "init", 900, False, False),
    ("provisioned-concurrency", "init", 3_600_000, False, False),
    ("snap-start", "restore", 300, True, False),
    ("snap-start", "restore", 60_000, True, False),
    ("lambda-managed-instances", "init", 900, False, False),
    ("lambda-managed-instances", "init", 60_000, False, False),
    ("some-future-type", "init", 900, True, False),  # unknown: judged like on-demand
    ("some-future-type", "init", 11_000, False, True),
]


@pytest.mark.parametrize("init_type,phase,since_start_ms,coldstart,proactive", DECISION_TABLE)
def test_decision_table_row(
    init_type: str, phase: str, since_start_ms: float, coldstart: bool, proactive: bool
) -> None:
    verdict = classify_first_invocation(
        timeline(duration_ms=200, phase=phase), T0 + int(since_start_ms * MS), init_type
    )
    assert (verdict.coldstart, verdict.proactive) == (coldstart, proactive)
    assert verdict.initialization_type == init_type
    assert verdict.phase == phase


def test_first_invocation_after_eleven_seconds_is_proactive() -> None:
    verdict = classify_first_invocation(timeline(800), T0 + 11 * S, "on-demand")
    assert verdict.proactive and not verdict.coldstart
    assert verdict.gap_ms == pytest.approx(10_200.0)
    assert verdict.duration_ms == pytest.approx(800.0)


def test_threshold_is_configurable() -> None:
    first = T0 + 2 * S
    assert classify_first_invocation(timeline(), first, "on-demand", 1_500).proactive
    assert not classify_first_invocation(timeline(), first, "on-demand", 2_000).proactive


def test_gap_is_end_of_init_to_first_invocation_and_never_negative() -> None:
    assert classify.gap_ms(T0 + 5 * MS, T0 + 7 * MS) == pytest.approx(2.0)
    assert classify.gap_ms(T0 + 7 * MS, T0 + 5 * MS) == 0.0


@pytest.mark.parametrize(
    "mode,coldstart,expected",
    [
        ("auto", True, classify.PLACE_INVOCATION_TRACE),
        ("auto", False, classify.PLACE_OWN_TRACE),
        ("first-invocation", False, classify.PLACE_INVOCATION_TRACE),
        ("first-invocation", True, classify.PLACE_INVOCATION_TRACE),
        ("separate", True, classify.PLACE_OWN_TRACE),
        ("separate", False, classify.PLACE_OWN_TRACE),
    ],
)
def test_placement_by_trace_mode(mode: str, coldstart: bool, expected: str) -> None:
    verdict = classify.InitVerdict(coldstart, not coldstart, 1.0, 1.0, "on-demand", "init")
    assert classify.placement(verdict, mode) == expected


@pytest.mark.parametrize(
    "duration_ms,billed",
    [(0.0, 0), (0.0001, 1), (1.0, 1), (1.2, 2), (123.999, 124), (124.0, 124)],
)
def test_billed_duration_rounds_up_to_the_millisecond(duration_ms: float, billed: int) -> None:
    assert classify.billed_duration_ms(duration_ms) == billed


def test_init_attributes_use_semconv_and_package_namespace() -> None:
    verdict = classify_first_invocation(timeline(800), T0 + 900 * MS, "on-demand")
    attrs = classify.init_attributes(verdict)
    assert attrs["faas.coldstart"] is True
    assert attrs["lambda_init.proactive_initialization"] is False
    assert attrs["lambda_init.gap_ms"] == pytest.approx(100.0)
    assert set(attrs) == {
        "faas.coldstart",
        "lambda_init.proactive_initialization",
        "lambda_init.gap_ms",
        "lambda_init.duration_ms",
        "lambda_init.initialization_type",
        "lambda_init.phase",
        "lambda_init.classified_by",
    }


def test_classification_never_imports_opentelemetry() -> None:
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(classify))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m.startswith("opentelemetry")]


# The idle-gap rule beside the 10 s rule: (initialization type, phase, INIT ms, gap after
# INIT end (ms), idle-gap threshold (ms), coldstart, proactive, classified_by)
IDLE_GAP_TABLE = [
    ("on-demand", "init", 500, 3, 100, True, False, "pending-request"),
    ("on-demand", "init", 500, 100, 100, True, False, "pending-request"),  # boundary: waited
    ("on-demand", "init", 500, 100.001, 100, False, True, "idle-gap"),  # just past: idle
    ("on-demand", "init", 500, 145, 100, False, True, "idle-gap"),  # eager assignment
    ("on-demand", "init", 500, 392, 100, False, True, "idle-gap"),
    ("on-demand", "init", 500, 600, 2_000, True, False, "pending-request"),  # slow extension
    ("on-demand", "init", 500, 2_000.001, 2_000, False, True, "idle-gap"),
    ("on-demand", "init", 9_000, 1_000.001, 100, False, True, "threshold"),  # 10 s rule first
    ("on-demand", "init", 9_000, 50, 100, True, False, "pending-request"),
    ("on-demand", "init", 500, 60_000, 0, False, True, "threshold"),  # 0: rule off
    ("on-demand", "init", 500, 145, 0, True, False, "threshold"),  # 0: the 10 s rule alone
    ("on-demand", "invoke", 12_000, 900, 100, True, False, "phase"),  # re-run INIT
    ("provisioned-concurrency", "init", 500, 145, 100, False, False, "initialization-type"),
    ("snap-start", "restore", 300, 900, 100, True, False, "initialization-type"),
    ("lambda-managed-instances", "init", 500, 900, 100, False, False, "initialization-type"),
    ("some-future-type", "init", 500, 145, 100, False, True, "idle-gap"),
]


@pytest.mark.parametrize(
    "init_type,phase,init_ms,gap,idle_ms,coldstart,proactive,by", IDLE_GAP_TABLE
)
def test_idle_gap_rule_row(
    init_type: str,
    phase: str,
    init_ms: float,
    gap: float,
    idle_ms: float,
    coldstart: bool,
    proactive: bool,
    by: str,
) -> None:
    first = T0 + int((init_ms + gap) * MS)
    verdict = classify_first_invocation(
        timeline(init_ms, phase), first, init_type, 10_000.0, idle_ms
    )
    assert (verdict.coldstart, verdict.proactive, verdict.classified_by) == (
        coldstart,
        proactive,
        by,
    )
    assert classify.init_attributes(verdict)["lambda_init.classified_by"] == by


@pytest.mark.parametrize(
    "configured,with_extensions,present,measured,expected",
    [
        (None, 2_000.0, False, False, classify.DEFAULT_IDLE_GAP_MS),
        (None, 2_000.0, False, True, classify.DEFAULT_IDLE_GAP_LESS_CPU_WAIT_MS),
        (None, 2_000.0, True, True, 2_000.0),
        (250.0, 2_000.0, True, False, 250.0),  # the user's value wins
        (250.0, 2_000.0, False, True, 250.0),
        (0.0, 2_000.0, False, True, 0.0),  # rule off
    ],
)
def test_idle_gap_threshold_depends_on_external_extensions_and_the_cpu_wait(
    configured: float | None, with_extensions: float, present: bool, measured: bool, expected: float
) -> None:
    assert (
        classify.idle_gap_threshold_ms(configured, with_extensions, present, measured) == expected
    )


def test_idle_gap_counts_from_when_the_runtime_asked_for_work() -> None:
    # INIT ended at 500 ms, but our own export at INIT end held the runtime's next for
    # 300 ms: the request pending all along reached the handler 5 ms after the next left.
    line = InitTimeline(T0, T0 + 500 * MS, "init", ready_ns=T0 + 800 * MS)
    verdict = classify_first_invocation(line, T0 + 805 * MS, "on-demand", 10_000.0, 100.0)
    assert verdict.coldstart and verdict.classified_by == "pending-request"
    assert verdict.gap_ms == pytest.approx(305.0)  # gap_ms still from INIT end
    idle = classify_first_invocation(line, T0 + 901 * MS, "on-demand", 10_000.0, 100.0)
    assert idle.proactive and idle.classified_by == "idle-gap"


def test_idle_gap_ends_when_the_first_event_was_handed_over() -> None:
    # The runtime got its first event 3 ms after asking; the runtime client and our wrapper
    # took 150 ms more (a busy machine) before the handler started: nobody sat idle.
    line = InitTimeline(T0, T0 + 500 * MS, "init", T0 + 500 * MS, T0 + 503 * MS)
    verdict = classify_first_invocation(line, T0 + 653 * MS, "on-demand", 10_000.0, 100.0)
    assert verdict.coldstart and verdict.classified_by == "pending-request"
    assert verdict.gap_ms == pytest.approx(153.0)

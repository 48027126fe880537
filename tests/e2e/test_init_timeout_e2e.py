"""An INIT longer than the cap: Lambda kills the runtime and re-runs INIT inside the first
invocation. The first invocation's trace shows the failed attempt and the re-run."""

from __future__ import annotations

import time
from pathlib import Path

from lambda_harness import assert_cold_start_shape, init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

HANDLERS = Path(__file__).parents[1] / "anatomy_handlers"
CAP_S = 1.5


def test_timed_out_init_shows_the_failed_attempt_and_the_rerun_in_the_first_trace() -> None:
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "slow_init_app.handler",
            receiver,
            code_dir=HANDLERS,
            init_timeout_s=CAP_S,
            env={"SLOW_INIT_S": "2.5"},
        ) as sandbox,
    ):
        assert sandbox.wait_init(30).status == "timeout"
        first = sandbox.invoke({}, timeout=60)
        second = sandbox.invoke({}, timeout=30)
        assert first.status == second.status == "success"
        receiver.wait_for(
            lambda s: (
                len(invocation_spans(s)) == 2 and any(x.name == "failed attempt 1" for x in s)
            ),
            timeout=20,
        )
        time.sleep(0.3)
        spans = receiver.spans()
        killed_attempt = sandbox.attempts[0]
    (init,) = init_spans(spans)
    first_inv, second_inv = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    (failed,) = [s for s in spans if s.name == "failed attempt 1"]

    # One trace: the first invocation, the re-run INIT inside it, the failed attempt below.
    assert init.trace_id == first_inv.trace_id == failed.trace_id
    assert_cold_start_shape(spans, init, first_inv)
    assert failed.parent_span_id == init.span_id
    assert failed.status_code == "ERROR"
    assert failed.attributes["lambda_init.attempt.outcome"] == "timeout"
    # From the killed process's start to the cap (the re-run started after the kill).
    assert abs(failed.start_ns - killed_attempt.started_ns) < 200_000_000
    assert CAP_S * 1000 - 50 <= failed.duration_ms <= CAP_S * 1000 + 1_000
    # The init span covers both attempts (the caller waited through both); the re-run's
    # process (its runtime child) starts after the failed attempt ended.
    assert init.start_ns == failed.start_ns
    (runtime,) = [s for s in spans if s.name == "runtime" and s.parent_span_id == init.span_id]
    assert failed.end_ns <= runtime.start_ns

    for span in (init, first_inv):
        assert span.attributes["lambda_init.phase"] == "invoke"
        assert span.attributes["faas.coldstart"] is True
        assert span.attributes["lambda_init.proactive_initialization"] is False
    assert init.attributes["lambda_init.init_attempt"] == 2
    assert init.duration_ms >= 2_500  # the successful re-run, 2.5 s of user INIT
    assert [s.name for s in spans if s.parent_span_id == init.span_id].count("warm caches") == 1
    assert first_inv.attributes["lambda_init.sandbox_invocation"] == 1
    assert second_inv.attributes["lambda_init.sandbox_invocation"] == 2
    assert second_inv.attributes["faas.coldstart"] is False

"""Export cadence for busy sandboxes (OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS): spans of the
invocations between exports wait, and leave when Lambda sends SIGTERM."""

from __future__ import annotations

import time

from lambda_harness import HANDLERS, init_spans, invocation_spans, running_sandbox

from otel_lambda_init._delivery.cadence import ExportCadence
from otel_lambda_sim.receiver import OtlpReceiver

MS = 1_000_000


def test_cadence_exports_the_first_time_then_once_per_interval() -> None:
    cadence = ExportCadence(100)
    assert [cadence.due(t * MS) for t in (0, 10, 99, 100, 150, 201)] == [
        True,
        False,
        False,
        True,
        False,
        True,
    ]


def test_cadence_zero_exports_after_every_invocation() -> None:
    cadence = ExportCadence(0)
    assert all(cadence.due(t) for t in (0, 0, 1, 2))


def test_batched_invocations_wait_for_the_interval_and_leave_at_sigterm(
    receiver: OtlpReceiver,
) -> None:
    # The batch processor's own timer is set past the test too (the harness sets 50 ms).
    env = {"OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS": "60000", "OTEL_BSP_SCHEDULE_DELAY": "60000"}
    with running_sandbox(
        "manual_app.handler",
        receiver,
        code_dir=HANDLERS,
        env=env,
        execution_env="AWS_Lambda_python3.12",
    ) as sandbox:
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3)]
        receiver.wait_for(lambda s: len(invocation_spans(s)) >= 1, timeout=20)
        time.sleep(0.3)
        before = len(invocation_spans(receiver.spans()))
        outcome = sandbox.shutdown()
    assert [r.status for r in results] == ["success"] * 3
    assert before == 1  # the first export (with the init span); the next two wait
    assert outcome.sigterm_sent
    spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 3, timeout=10)
    assert len(init_spans(spans)) == 1

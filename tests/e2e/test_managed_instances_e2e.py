"""Lambda Managed Instances: awslambdaric's multi-concurrent mode (one forked worker per slot,
each with its own INIT, sharing /tmp, LambdaMultiConcurrentRuntimeClient) under the
simulator, which sends extensions no INVOKE events in this mode."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

S = 1_000_000_000
LMI = "lambda-managed-instances"
WAYS_IN = Path(__file__).parents[1] / "ways_in_handlers"


@pytest.mark.parametrize("workers", [1, 4])
def test_each_lmi_worker_reports_its_own_first_init_and_is_never_held(
    receiver: OtlpReceiver, workers: int
) -> None:
    with running_sandbox(
        "lmi_app.handler",
        receiver,
        initialization_type=LMI,
        max_concurrency=workers,
        function_timeout_s=6.0,
    ) as sandbox:
        assert sandbox.wait_init(30).ok
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3 * workers)]
        pids = {r.payload["pid"] for r in results}
        spans = receiver.wait_for(
            lambda s: len(init_spans(s)) >= len(pids) and len(invocation_spans(s)) >= len(results),
            timeout=20,
        )
    assert all(r.status == "success" for r in results)
    for result in results:  # released when the worker posted, not at the 6 s deadline
        assert result.completed_ns - result.responded_ns < 3 * S
    inits = init_spans(spans)
    for init in inits:
        assert init.attributes["lambda_init.init_attempt"] == 1
        assert init.attributes["lambda_init.phase"] == "init"
        assert "lambda_init.runtime_restarted" not in init.attributes
        assert init.status_code != "ERROR"
    assert not [s for s in spans if s.name.startswith("failed attempt")]
    assert {s.attributes["lambda_init.worker.pid"] for s in inits} >= pids


def test_lmi_worker_through_the_exec_wrapper_gets_its_own_init_span(
    receiver: OtlpReceiver,
) -> None:
    import shutil
    import sys

    wrapper = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert wrapper
    with running_sandbox(
        "plain_app.handler",
        receiver,
        code_dir=WAYS_IN,
        initialization_type=LMI,
        max_concurrency=2,
        env={"AWS_LAMBDA_EXEC_WRAPPER": wrapper},
    ) as sandbox:
        assert sandbox.wait_init(30).ok
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(4)]
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 4, timeout=20)
    assert all(r.status == "success" for r in results)
    inits = init_spans(spans)
    assert inits and all(s.attributes["lambda_init.init_attempt"] == 1 for s in inits)
    assert len({s.attributes["lambda_init.worker.pid"] for s in inits}) == len(inits)

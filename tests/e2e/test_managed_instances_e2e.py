"""Lambda Managed Instances: awslambdaric's multi-concurrent mode (one forked worker per slot,
each with its own INIT, sharing /tmp, LambdaMultiConcurrentRuntimeClient) under the
simulator, which sends extensions no INVOKE events in this mode and at shutdown signals the
runtime's process group, as the platform's rapid does."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lambda_harness import (
    dev_layer,
    init_spans,
    invocation_spans,
    otel_env,
    refuse_registration,
    running_sandbox,
)

from otel_lambda_sim import Sandbox
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


def _wait_until_every_worker_waits_for_an_event(sandbox: Sandbox, workers: int) -> None:
    """Each worker's first ``next`` ends its INIT (the sandbox's INIT ends with the first)."""
    deadline = time.monotonic() + 30
    while len(sandbox.api.rules.runtime_next_ns) < workers:
        assert time.monotonic() < deadline, "the workers never all asked for an event"
        sandbox.api.wait_event(0.05)


def test_lmi_workers_that_never_served_export_their_init_as_unused_at_shutdown(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    """Issue 25 item 7: the runtime main process registers an internal extension for no
    events, so the platform sends SIGTERM to the process group (every worker) with 600 ms
    before SIGKILL; each worker that never served exports its INIT, the main process none."""
    workers = 3
    with running_sandbox(
        "plain_app.handler",
        receiver,
        code_dir=WAYS_IN,
        initialization_type=LMI,
        max_concurrency=workers,
        # The layer's layout: the wrapper finds its early hook, our first line is in the
        # runtime main process (an editable install starts us in the workers only).
        env={"AWS_LAMBDA_EXEC_WRAPPER": str(dev_layer(tmp_path) / "otel-lambda-init")},
        execution_env="AWS_Lambda_python3.12",  # SIGTERM reaches Python (helper-thread next)
    ) as sandbox:
        assert sandbox.wait_init(30).ok
        _wait_until_every_worker_waits_for_an_event(sandbox, workers)
        extensions = [e.name for e in sandbox.api.extensions]
        served = sandbox.invoke({"n": 1}, timeout=30)
        receiver.wait_for(lambda s: len(invocation_spans(s)) >= 1, timeout=20)
        outcome = sandbox.shutdown()
        logs = sandbox.logs()
    print(f"shutdown took {outcome.duration_ms:.0f} ms, SIGKILL: {outcome.sigkill_sent}")
    assert served.status == "success"
    assert extensions == ["otel-lambda-init"], logs
    assert outcome.sigterm_sent and outcome.sigterm_to_group
    # Every worker and the main process ended within the grace: nothing was SIGKILLed.
    assert outcome.runtime_exited_in_grace and not outcome.sigkill_sent, (outcome, logs)
    spans = receiver.wait_for(lambda s: len(init_spans(s)) >= workers, timeout=20)
    inits = init_spans(spans)
    assert len(inits) == workers, [s.attributes for s in inits]  # the main process: none
    assert len({s.attributes["lambda_init.worker.pid"] for s in inits}) == workers
    # Each worker's own first INIT: no worker takes another's for an earlier failed attempt.
    assert all(s.attributes["lambda_init.init_attempt"] == 1 for s in inits)
    assert not [s for s in spans if s.name.startswith("failed attempt")]
    unused = [s for s in inits if s.attributes.get("lambda_init.unused") is True]
    assert len(unused) == workers - 1
    (invocation,) = invocation_spans(spans)
    (used,) = [s for s in inits if s not in unused]  # the served worker's, at its invocation
    assert invocation.trace_id == used.trace_id or used.span_id in [
        link.span_id for link in invocation.links
    ]


def _lmi_wrapper_sandbox(receiver: OtlpReceiver, tmp_path: Path, **env: str) -> Sandbox:
    """Two LMI workers behind the wrapper as the layer lays it out (not started yet)."""
    wrapper = str(dev_layer(tmp_path) / "otel-lambda-init")
    return Sandbox(
        "plain_app.handler",
        WAYS_IN,
        env=otel_env(receiver, AWS_LAMBDA_EXEC_WRAPPER=wrapper, **env),
        initialization_type=LMI,
        max_concurrency=2,
        execution_env="AWS_Lambda_python3.12",
    )


def test_lmi_register_refused_leaves_the_workers_serving_and_says_why_once(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    with _lmi_wrapper_sandbox(receiver, tmp_path) as sandbox:
        sandbox.api.start()
        refuse_registration(sandbox)
        sandbox.start()
        assert sandbox.wait_init(30).ok
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3)]
        receiver.wait_for(lambda s: len(invocation_spans(s)) >= 3, timeout=20)
        outcome = sandbox.shutdown()
    assert [r.payload["n"] for r in results] == [0, 1, 2]
    assert sandbox.logs().count("could not register the internal extension") == 1
    assert outcome.mode == "no-extensions"  # as without us: SIGKILL, nothing more to lose


@pytest.mark.parametrize("value", ["true", " True "])
def test_lmi_with_the_sdk_disabled_registers_no_extension(
    receiver: OtlpReceiver, tmp_path: Path, value: str
) -> None:
    with _lmi_wrapper_sandbox(receiver, tmp_path, OTEL_SDK_DISABLED=value) as sandbox:
        assert sandbox.wait_init(30).ok
        assert sandbox.invoke({"n": 1}, timeout=30).payload["n"] == 1
        extensions = sandbox.api.extensions
        outcome = sandbox.shutdown()
    assert extensions == [] and outcome.mode == "no-extensions"

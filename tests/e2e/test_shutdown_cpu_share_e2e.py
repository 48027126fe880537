"""Issue 25 item 7: the SIGTERM export of an INIT nobody used, at Lambda's CPU share for the
function's memory (the simulator's ``cpu_share``: 1,769 MB is one vCPU), where the 500 ms
grace is wall-clock time and the export's CPU is spent at a fraction of a core."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_harness import init_spans, installed_wrapper, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

WAYS_IN = Path(__file__).parent.parent / "ways_in_handlers"


def test_an_unused_init_whose_exporter_never_ran_is_exported_at_sigterm_at_256_mb(
    receiver: OtlpReceiver,
) -> None:
    # The function's module starts a span at INIT, so the wrapper route builds tracing then
    # (nothing deferred) but its exporter only at the first export: here, at SIGTERM. At
    # 256 MB (14 % of a vCPU) importing the OTLP exporter and urllib3 there took the whole
    # grace and the INIT span was lost (0 of 3 runs); the loopback sender needs neither.
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    with running_sandbox(
        "eager_otel_app.handler",
        receiver,
        code_dir=WAYS_IN,
        env=env,
        execution_env="AWS_Lambda_python3.12",  # SIGTERM reaches Python
        memory_mb=256,
        cpu_share=True,
    ) as sandbox:
        if sandbox.cpu is None or not sandbox.cpu.active:
            pytest.skip("this host does not let the simulator set a CPU share (root, cgroups)")
        assert sandbox.wait_init(60).status == "done"
        outcome = sandbox.shutdown()
        logs = sandbox.logs()
    print(f"shutdown took {outcome.duration_ms:.0f} ms, SIGKILL: {outcome.sigkill_sent}")
    assert outcome.sigterm_sent
    assert not outcome.sigkill_sent, (outcome.duration_ms, logs)
    spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=10)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.unused"] is True
    assert invocation_spans(spans) == []
    assert "could not send" not in logs

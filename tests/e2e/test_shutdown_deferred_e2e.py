"""Issue 25 item 7: an INIT no invocation used is exported at SIGTERM within the platform's
shutdown grace: on the deferred wrapper route with both cores busy (by lower-priority work),
and at Lambda's CPU share for the function's memory."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lambda_harness import init_spans, installed_wrapper, invocation_spans, running_sandbox

from otel_lambda_sim import slow_extension
from otel_lambda_sim.receiver import Behaviour, OtlpReceiver

WAYS_IN = Path(__file__).parent.parent / "ways_in_handlers"


@pytest.fixture
def busy_cores() -> Iterator[None]:
    """Both cores kept busy for as long as the test runs, by work that yields to the
    function's (``nice 10``): a loaded host, without the test depending on how loaded."""
    loop = ["nice", "-n", "10", sys.executable, "-c", "while True: pass"]
    loops = [subprocess.Popen(loop) for _ in range(2)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def _unused_init_leaves_within_the_grace(
    receiver: OtlpReceiver, handler: str, **settings: Any
) -> None:
    """SIGTERM right after INIT (python3.12 runtime: SIGTERM reaches Python): the sandbox ends
    within Lambda's grace beside our internal extension (500 ms, then SIGKILL) and its init
    span arrives marked unused, with no invocation span."""
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    with running_sandbox(
        handler,
        receiver,
        code_dir=WAYS_IN,
        env=env,
        execution_env="AWS_Lambda_python3.12",
        **settings,
    ) as sandbox:
        if settings.get("cpu_share") and not (sandbox.cpu and sandbox.cpu.active):
            pytest.skip("this host does not let the simulator set a CPU share (root, cgroups)")
        assert sandbox.wait_init(60).status == "done"
        outcome = sandbox.shutdown()
        logs = sandbox.logs()
    print(f"runtime left {outcome.runtime_exit_ms} ms after SIGTERM; {outcome}")
    assert outcome.sigterm_sent
    assert outcome.runtime_exited_in_grace, (outcome, logs)
    assert not outcome.sigkill_sent, (outcome.duration_ms, logs)
    spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=10)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.unused"] is True
    assert invocation_spans(spans) == []
    assert "could not send" not in logs


def test_an_unused_deferred_init_is_exported_at_sigterm_within_the_grace(
    receiver: OtlpReceiver, busy_cores: None
) -> None:
    _unused_init_leaves_within_the_grace(receiver, "plain_app.handler")


def test_an_unused_init_whose_exporter_never_ran_is_exported_at_sigterm_at_256_mb(
    receiver: OtlpReceiver,
) -> None:
    """At Lambda's CPU share for 256 MB (14 % of a vCPU; the simulator's ``cpu_share``): the
    function's module starts a span at INIT, so the wrapper route builds tracing then (nothing
    deferred) but its exporter only at the first export, here at SIGTERM. Importing the OTLP
    exporter and urllib3 there took the whole grace and the INIT span was lost (0 of 3 runs);
    the loopback sender needs neither."""
    _unused_init_leaves_within_the_grace(
        receiver, "eager_otel_app.handler", memory_mb=256, cpu_share=True
    )


@pytest.mark.parametrize("handler", ["plain_app.handler", "eager_otel_app.handler"])
@pytest.mark.parametrize("external_extension", [False, True], ids=["internal", "external"])
def test_an_unused_init_is_exported_at_sigterm_at_128_mb(
    receiver: OtlpReceiver, tmp_path: Path, external_extension: bool, handler: str
) -> None:
    """At 128 MB (7 % of a vCPU), SIGTERM right after INIT, beside our internal extension
    (500 ms for the runtime) or an external one too (300 ms). Before: the deferred route
    (``plain_app``) imported the SDK at SIGTERM, ~550 ms of wall time: SIGKILLed, the INIT lost
    (5 of 5 internal, 3 of 3 external); with tracing built at INIT (``eager_otel_app``) the
    sender imported the proto packages: lost 3 of 3 beside an external extension. Now neither
    imports anything of OpenTelemetry's there (``_delivery/unused_init.py``, ``otlp_wire``)."""
    settings: dict[str, Any] = {"memory_mb": 128, "cpu_share": True}
    if external_extension:
        settings["extensions_dir"] = tmp_path / "extensions"
        slow_extension.install(settings["extensions_dir"], 0)
    _unused_init_leaves_within_the_grace(receiver, handler, **settings)


@pytest.mark.parametrize("behaviour", [Behaviour(delay_s=5.0), Behaviour(status=503)])
def test_an_unused_init_sent_to_a_failing_collector_costs_the_grace_nothing_more(
    receiver: OtlpReceiver, behaviour: Behaviour
) -> None:
    """The SDK-free export of the deferred route's unused INIT, to a collector that hangs or
    refuses: the runtime still leaves inside its grace, said once, without a traceback."""
    receiver.behaviour = behaviour
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    with running_sandbox(
        "plain_app.handler",
        receiver,
        code_dir=WAYS_IN,
        env=env,
        execution_env="AWS_Lambda_python3.12",
    ) as sandbox:
        assert sandbox.wait_init(60).status == "done"
        outcome = sandbox.shutdown()
        logs = sandbox.logs()
    assert outcome.runtime_exited_in_grace and not outcome.sigkill_sent, (outcome, logs)
    assert outcome.runtime_exit_ms is not None and outcome.runtime_exit_ms < 500
    assert logs.count("otel-lambda-init") == 1 and "Traceback" not in logs, logs
    assert "at shutdown" in logs

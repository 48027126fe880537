"""Issue 25 item 7: on the deferred wrapper route, an INIT no invocation used is exported at
SIGTERM within the platform's shutdown grace, with both cores busy (by lower-priority work)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from lambda_harness import init_spans, installed_wrapper, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

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


def test_an_unused_deferred_init_is_exported_at_sigterm_within_the_grace(
    receiver: OtlpReceiver, busy_cores: None
) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    with running_sandbox(
        "plain_app.handler",
        receiver,
        code_dir=WAYS_IN,
        env=env,
        execution_env="AWS_Lambda_python3.12",  # SIGTERM reaches Python
    ) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        outcome = sandbox.shutdown()
        logs = sandbox.logs()
    print(f"shutdown took {outcome.duration_ms:.0f} ms, SIGKILL: {outcome.sigkill_sent}")
    assert outcome.sigterm_sent
    # Ended within Lambda's grace beside our internal extension (500 ms, then SIGKILL).
    assert not outcome.sigkill_sent, (outcome.duration_ms, logs)
    spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=10)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.unused"] is True
    assert invocation_spans(spans) == []

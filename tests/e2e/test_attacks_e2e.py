"""More habits real functions have (issue 25 item 9), on both routes: each must leave the
function as it is without us and keep one span per invocation and one init span."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

SAFETY = Path(__file__).parent.parent / "safety_handlers"


@pytest.mark.parametrize("attack", ["sigterm-ignored", "modules-deleted", "socket-patched"])
@pytest.mark.parametrize("route", ["wrapper", "manual"])
def test_a_handler_habit_leaves_the_function_and_its_spans(
    receiver: OtlpReceiver, route: str, attack: str
) -> None:
    env = {"ATTACK": attack, "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}
    if route == "wrapper":
        wrapper = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
        assert wrapper
        env["AWS_LAMBDA_EXEC_WRAPPER"] = wrapper
        handler = "attack_app.handler"
    else:
        handler = "attack_manual_app.handler"
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3)]
        sandbox.shutdown()
    logs = sandbox.logs()
    assert [r.status for r in results] == ["success"] * 3, ([r.payload for r in results], logs)
    spans = receiver.spans()  # the sandbox has exited: every export has arrived
    numbers = sorted(
        s.attributes["lambda_init.sandbox_invocation"] for s in invocation_spans(spans)
    )
    assert numbers == [1, 2, 3], logs[-3000:]
    assert len(init_spans(spans)) == 1

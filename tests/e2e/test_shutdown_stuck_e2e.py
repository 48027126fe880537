"""SIGTERM while an earlier export is stuck (issue 25, item 6): what is queued behind it still
leaves within Lambda's shutdown grace."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from lambda_harness import invocation_spans, running_sandbox

from otel_lambda_sim.receiver import Behaviour, OtlpReceiver

TESTS = Path(__file__).parents[1]


def _route(route: str) -> tuple[str, Path, dict[str, str]]:
    if route == "manual":
        return "manual_app.handler", TESTS / "handlers", {}
    wrapper = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert wrapper, "otel-lambda-init-wrapper is not installed next to the interpreter"
    return "plain_app.handler", TESTS / "ways_in_handlers", {"AWS_LAMBDA_EXEC_WRAPPER": wrapper}


# The wrapper route's processor (ours) is flushed beside the stuck export. A function's own
# BatchSpanProcessor exports one batch at a time under its lock: what it queued behind a stuck
# export leaves only once that export ends (docs/safety.md).
@pytest.mark.parametrize("route", ["wrapper"])
def test_spans_queued_behind_a_stuck_export_leave_at_sigterm(
    receiver: OtlpReceiver, route: str
) -> None:
    handler, code_dir, env = _route(route)
    env.update(
        OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS="300",
        AWS_EXECUTION_ENV="AWS_Lambda_python3.12",  # SIGTERM reaches Python
    )
    with running_sandbox(handler, receiver, code_dir=code_dir, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        receiver.behaviour = Behaviour(delay_s=0.9)  # the first export is stuck
        first = sandbox.invoke({"n": 1}, timeout=30)
        receiver.behaviour = Behaviour()  # then the collector is healthy again
        second = sandbox.invoke({"n": 2}, timeout=30)
        outcome = sandbox.shutdown()
    assert first.status == second.status == "success"
    assert outcome.sigterm_sent and not outcome.sigkill_sent, outcome
    spans: list[Any] = receiver.spans()  # the sandbox has exited: every export has arrived
    numbers = sorted(
        s.attributes["lambda_init.sandbox_invocation"] for s in invocation_spans(spans)
    )
    assert 2 in numbers, (numbers, outcome, sandbox.logs()[-4000:])

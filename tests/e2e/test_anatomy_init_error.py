"""INIT that raises: the init span ends with ERROR and reaches the collector before the
runtime reports the error and exits; the runtime reports exactly what it would without us."""

from __future__ import annotations

from pathlib import Path

import pytest
from lambda_harness import init_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

HANDLERS = Path(__file__).parents[1] / "anatomy_handlers"


def init_outcome(receiver: OtlpReceiver, how: str, disabled: bool):  # type: ignore[no-untyped-def]
    env = {"RAISE_HOW": how, "OTEL_LAMBDA_INIT_DISABLED": "true" if disabled else "false"}
    with running_sandbox("raising_app.handler", receiver, code_dir=HANDLERS, env=env) as sandbox:
        outcome = sandbox.wait_init(30)
        for _ in range(100):  # the runtime exits right after reporting
            if sandbox.exit_code is not None:
                break
            import time

            time.sleep(0.05)
        return outcome, sandbox.exit_code


@pytest.mark.parametrize(
    ("how", "error_type"),
    [("raise", "RuntimeError"), ("missing-module", "Runtime.ImportModuleError")],
)
def test_init_error_is_exported_with_error_status_and_reported_unchanged(
    how: str, error_type: str
) -> None:
    with OtlpReceiver() as receiver:
        outcome, exit_code = init_outcome(receiver, how, disabled=False)
        # The span was flushed before init/error was posted: it is there already.
        spans = receiver.spans()
    with OtlpReceiver() as baseline_receiver:
        baseline, baseline_exit = init_outcome(baseline_receiver, how, disabled=True)
        assert baseline_receiver.spans() == []

    assert outcome.status == baseline.status == "error"
    assert outcome.error_type == baseline.error_type == error_type
    assert outcome.message == baseline.message
    assert exit_code == baseline_exit == 1

    (init,) = init_spans(spans)
    assert init.status_code == "ERROR"
    assert init.parent_span_id in (None, "")  # nothing else to join: its own trace
    (event,) = [e for e in init.events if e.name == "exception"]
    assert event.attributes["exception.type"] == error_type
    assert event.attributes["exception.message"] == outcome.message
    if how == "raise":
        assert "raising_app.py" in event.attributes["exception.stacktrace"]
    assert init.attributes["lambda_init.duration_ms"] > 0
    assert any(s.name == "runtime" and s.parent_span_id == init.span_id for s in spans)

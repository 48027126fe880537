"""The examples under examples/ run as written, through the simulator."""

from __future__ import annotations

from pathlib import Path

from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_instrument_handler_keyword_options_win_over_environment() -> None:
    env = {
        "OTEL_LAMBDA_INIT_TRACE": "separate",
        "OTEL_LAMBDA_INIT_FLUSH": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "60000",  # only a flush can export within the test
    }
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "app.handler", receiver, code_dir=EXAMPLES / "manual_options", env=env
        ) as sandbox,
    ):
        result = sandbox.invoke({}, timeout=30)
        # flush="sync" beat OTEL_LAMBDA_INIT_FLUSH=none: the spans are already out.
        spans = receiver.wait_for(
            lambda s: len(init_spans(s)) >= 1 and len(invocation_spans(s)) >= 1, timeout=10
        )
    assert result.payload == {"ok": True}
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert init.trace_id == invocation.trace_id  # first-invocation beat separate
    assert invocation.attributes["app.tier"] == "gold"
    assert invocation.resource["service.name"] == "orders"  # the provider passed in


def test_wrapper_example_function_runs_behind_the_installed_wrapper() -> None:
    import shutil
    import sys

    wrapper = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert wrapper
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "app.handler",
            receiver,
            code_dir=EXAMPLES / "wrapper_function",
            env={"AWS_LAMBDA_EXEC_WRAPPER": wrapper},
        ) as sandbox,
    ):
        result = sandbox.invoke({"rawPath": "/hello"}, timeout=30)
        spans = receiver.wait_for(
            lambda s: len(init_spans(s)) >= 1 and len(invocation_spans(s)) >= 1, timeout=10
        )
    assert result.payload == {"statusCode": 200, "body": "hello"}
    (invocation,) = invocation_spans(spans)
    assert len(invocation.links) == 1

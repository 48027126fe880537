"""The examples under examples/ run as written, through the simulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan
from otel_lambda_sim.runtime_api import InvocationResult

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(
    directory: str, event: dict[str, Any], env: dict[str, str] | None = None
) -> tuple[InvocationResult, list[ReceivedSpan]]:
    """One invocation of examples/<directory>/app.handler; its result and the spans that
    arrived once an init span and an invocation span had."""
    with (
        OtlpReceiver() as receiver,
        running_sandbox(
            "app.handler", receiver, code_dir=EXAMPLES / directory, env=env or {}
        ) as sandbox,
    ):
        result = sandbox.invoke(event, timeout=30)
        spans = receiver.wait_for(
            lambda s: len(init_spans(s)) >= 1 and len(invocation_spans(s)) >= 1, timeout=10
        )
    return result, spans


def test_decorator_example_makes_a_cold_start_trace_with_the_init_span_in_it() -> None:
    result, spans = run_example("decorator", {})
    assert result.payload == {"ok": True}
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert invocation.attributes["faas.coldstart"] is True
    assert init.trace_id == invocation.trace_id  # a cold start joins its invocation's trace
    assert [link.span_id for link in invocation.links] == [init.span_id]
    assert invocation.resource["service.name"] == "orders"  # the example's own provider


def test_instrument_handler_keyword_options_win_over_environment() -> None:
    env = {
        "OTEL_LAMBDA_INIT_TRACE": "separate",
        "OTEL_LAMBDA_INIT_FLUSH": "none",
        "OTEL_BSP_SCHEDULE_DELAY": "60000",  # only a flush can export within the test
    }
    # flush="sync" beat OTEL_LAMBDA_INIT_FLUSH=none: the spans are out within the wait.
    result, spans = run_example("manual_options", {}, env)
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
    result, spans = run_example(
        "wrapper_function", {"rawPath": "/hello"}, {"AWS_LAMBDA_EXEC_WRAPPER": wrapper}
    )
    assert result.payload == {"statusCode": 200, "body": "hello"}
    (invocation,) = invocation_spans(spans)
    assert len(invocation.links) == 1

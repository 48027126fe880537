"""Zero-code routes with only what a user sets: the exec wrapper, the switch, an endpoint.
No protocol, no batch delay, no exporter names: the package must be right without them."""

from __future__ import annotations

from pathlib import Path

from lambda_harness import init_spans, installed_wrapper, invocation_spans

from otel_lambda_sim.receiver import OtlpReceiver
from otel_lambda_sim.sandbox import Sandbox

WAYS_IN = Path(__file__).parents[1] / "ways_in_handlers"
UPSTREAM_SCOPE = "opentelemetry.instrumentation.aws_lambda"


def test_auto_instrumentation_with_only_an_endpoint_runs_the_instrumentors(
    receiver: OtlpReceiver,
) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(),
        "OTEL_LAMBDA_INIT_AUTO_INSTRUMENT": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
    }
    with Sandbox("plain_app.handler", WAYS_IN, env=env) as sandbox:
        sandbox.start()
        assert sandbox.wait_init(30).ok
        result = sandbox.invoke({"n": 1}, timeout=30)
        spans = receiver.wait_for(
            lambda s: bool(init_spans(s)) and bool(invocation_spans(s)), timeout=20
        )
    assert result.status == "success"
    (invocation,) = invocation_spans(spans)
    assert invocation.scope_name == UPSTREAM_SCOPE  # the instrumentors were not skipped
    assert "not found" not in sandbox.logs()

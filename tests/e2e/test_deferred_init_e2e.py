"""Deferred zero-code INIT on the wrapper route, through real awslambdaric sandboxes.

When nothing needs a live span, INIT and the first invocation import nothing from
OpenTelemetry; their spans are built after the first response and must read exactly like
live ones. Whatever imports OpenTelemetry (the module at INIT, the handler lazily) gets live
spans at that moment.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from lambda_harness import init_spans, invocation_spans, running_sandbox, sent_for_this_sandbox

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan

WAYS_IN = Path(__file__).parents[1] / "ways_in_handlers"


def wrapper_env(**extra: str) -> dict[str, str]:
    path = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert path, "otel-lambda-init-wrapper is not installed next to the interpreter"
    return {"AWS_LAMBDA_EXEC_WRAPPER": path, **extra}


def wait_invocations(receiver: OtlpReceiver, count: int) -> list[ReceivedSpan]:
    return receiver.wait_for(
        lambda s: len(init_spans(s)) >= 1 and len(invocation_spans(s)) >= count, timeout=20
    )


def test_first_invocation_runs_without_opentelemetry_and_its_spans_match_live_ones(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(
        "deferred_app.handler", receiver, code_dir=WAYS_IN, env=wrapper_env()
    ) as sandbox:
        # The request that created the sandbox, stamped by its trigger: event-time decides.
        first = sandbox.invoke(sent_for_this_sandbox(sandbox), request_id="req-1", timeout=30)
        second = sandbox.invoke({}, request_id="req-2", timeout=30)
        spans = wait_invocations(receiver, 2)
    assert first.payload == {"otel_at_import": False, "otel_when_called": False}
    assert second.payload["otel_when_called"] is True  # built after the first response
    (init,) = init_spans(spans)
    inv1, inv2 = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    assert inv1.attributes["faas.invocation_id"] == "req-1"
    assert inv2.attributes["faas.invocation_id"] == "req-2"
    # The well-formed cold-start shape: a root from INIT start holds the init span and the
    # invocation span, as on the live route.
    (root,) = [s for s in spans if s.name.startswith("cold start ")]
    assert init.parent_span_id == inv1.parent_span_id == root.span_id
    assert init.trace_id == inv1.trace_id == root.trace_id
    assert root.start_ns <= init.start_ns and inv1.end_ns <= root.end_ns
    assert [link.span_id for link in inv1.links] == [init.span_id]
    assert inv1.attributes["faas.coldstart"] is True
    assert inv1.attributes["lambda_init.classified_by"] == "event-time"
    assert inv1.attributes["lambda_init.sandbox_invocation"] == 1
    assert inv2.attributes["faas.coldstart"] is False
    assert inv2.attributes["lambda_init.sandbox_invocation"] == 2
    assert init.attributes["lambda_init.end_source"] == "runtime-next"
    assert init.attributes["lambda_init.gap_ms"] == inv1.attributes["lambda_init.gap_ms"]
    # Real times, not the build's: the invocation ran after INIT and before the response.
    assert init.end_ns <= inv1.start_ns <= inv1.end_ns <= first.completed_ns
    assert inv1.end_ns <= inv2.start_ns
    children = [s for s in spans if s.parent_span_id == init.span_id]
    assert any(s.name == "runtime" for s in children)


def test_a_handler_importing_opentelemetry_lazily_gets_live_spans_in_its_first_call(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(
        "deferred_app.handler", receiver, code_dir=WAYS_IN, env=wrapper_env()
    ) as sandbox:
        first = sandbox.invoke(sent_for_this_sandbox(sandbox, {"lazy": True}), timeout=30)
        spans = receiver.wait_for(
            lambda s: any(x.name == "user work" for x in s) and init_spans(s), timeout=20
        )
    assert first.status == "success" and first.payload["otel_when_called"] is False
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    (user,) = [s for s in spans if s.name == "user work"]
    assert user.parent_span_id == invocation.span_id  # the invocation span was current
    assert [link.span_id for link in invocation.links] == [init.span_id]
    (root,) = [s for s in spans if s.name.startswith("cold start ")]
    assert init.parent_span_id == invocation.parent_span_id == root.span_id
    assert root.start_ns <= init.start_ns and invocation.end_ns <= root.end_ns
    assert invocation.start_ns <= user.start_ns <= user.end_ns <= invocation.end_ns


def test_a_module_using_opentelemetry_at_import_gets_its_provider_during_init(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(
        "eager_otel_app.handler", receiver, code_dir=WAYS_IN, env=wrapper_env()
    ) as sandbox:
        first = sandbox.invoke({}, timeout=30)
        spans = receiver.wait_for(
            lambda s: {"load config", "user work"} <= {x.name for x in s} and init_spans(s),
            timeout=20,
        )
    assert first.status == "success"
    (invocation,) = invocation_spans(spans)
    (user,) = [s for s in spans if s.name == "user work"]
    assert user.parent_span_id == invocation.span_id


def test_a_failing_first_invocation_is_built_with_its_error_inside_the_span(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(
        "deferred_app.handler", receiver, code_dir=WAYS_IN, env=wrapper_env()
    ) as sandbox:
        first = sandbox.invoke({"raise": True}, timeout=30)
        spans = wait_invocations(receiver, 1)
    assert first.status == "error" and first.payload["errorType"] == "ValueError"
    (invocation,) = invocation_spans(spans)
    assert invocation.status_code == "ERROR"
    (event,) = [e for e in invocation.events if e.name == "exception"]
    assert event.attributes["exception.type"] == "ValueError"
    assert invocation.start_ns <= event.time_ns <= invocation.end_ns


def test_deferral_can_be_turned_off(receiver: OtlpReceiver) -> None:
    env = wrapper_env(OTEL_LAMBDA_INIT_DEFERRED_INIT="false")
    with running_sandbox("deferred_app.handler", receiver, code_dir=WAYS_IN, env=env) as sandbox:
        first = sandbox.invoke({}, timeout=30)
        wait_invocations(receiver, 1)
    assert first.payload["otel_when_called"] is True


def test_a_warm_span_nobody_looked_at_says_what_the_invocation_was_when_it_started(
    receiver: OtlpReceiver,
) -> None:
    """Warm spans decide their identity and attributes after the response when nothing
    asked: what they say is still what the event and context were at the start, even when
    the handler emptied its event, and their identity is one nobody else has."""
    http = {
        "consume": True,
        "requestContext": {"http": {"method": "GET"}},
        "routeKey": "GET /orders",
        "headers": {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
    }
    with running_sandbox(
        "deferred_app.handler", receiver, code_dir=WAYS_IN, env=wrapper_env()
    ) as sandbox:
        sandbox.invoke({}, request_id="req-1", timeout=30)
        warm = [sandbox.invoke(http, request_id=f"req-{n}", timeout=30) for n in (2, 3)]
        spans = wait_invocations(receiver, 3)
    assert [w.status for w in warm] == ["success", "success"]
    by_id = {s.attributes["faas.invocation_id"]: s for s in invocation_spans(spans)}
    for n in (2, 3):
        span = by_id[f"req-{n}"]
        assert span.attributes["faas.trigger"] == "http" and span.kind == "SERVER"
        assert span.attributes["faas.coldstart"] is False
        assert span.attributes["lambda_init.sandbox_invocation"] == n
        assert span.trace_id == "0af7651916cd43dd8448eb211c80319c"
        assert span.parent_span_id == "b7ad6b7169203331"
    assert by_id["req-2"].span_id != by_id["req-3"].span_id

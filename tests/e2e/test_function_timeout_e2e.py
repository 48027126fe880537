"""A function timeout: the simulator enforces it as Lambda does (Sandbox.Timedout, SIGTERM to a
runtime with an extension, then SIGKILL, a fresh INIT for the next request), and the timed-out
invocation's span is ended with ERROR and exported with the INIT span. Real awslambdaric."""

from __future__ import annotations

from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan

HANDLER = "manual_app.handler"


def orphans(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    """Spans whose parent was never exported (no remote parents in these tests)."""
    ids = {s.span_id for s in spans}
    return [s for s in spans if s.parent_span_id and s.parent_span_id not in ids]


def test_a_timed_out_invocation_ends_with_error_and_its_init_span_has_its_parent(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(HANDLER, receiver, function_timeout_s=2.0) as sandbox:
        assert sandbox.wait_init(30).ok
        timed_out = sandbox.invoke({"n": 1, "sleep_s": 3}, timeout=30)
        spans = receiver.wait_for(lambda s: bool(invocation_spans(s)), timeout=20)
        retried = sandbox.invoke({"n": 2}, timeout=30)
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=20)
    assert timed_out.status == "error" and timed_out.error_type == "Sandbox.Timedout"
    assert sandbox.timeouts == [timed_out.request_id]
    assert sandbox.attempts[0].reset_for_function_timeout and len(sandbox.attempts) == 2
    first, second = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    assert first.status_code == "ERROR" and first.attributes["error.type"] == "timeout"
    assert not orphans(spans)
    assert retried.status == "success" and retried.init_rerun
    # The fresh INIT Lambda ran for the retried request continues this sandbox's story.
    rerun_init = max(init_spans(spans), key=lambda s: s.start_ns)
    assert rerun_init.attributes["lambda_init.phase"] == "invoke"
    assert rerun_init.attributes["lambda_init.runtime_restarted"] is True
    assert second.attributes["lambda_init.sandbox_invocation"] == 2

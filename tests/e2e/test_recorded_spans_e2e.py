"""Warm invocation spans under after-response delivery are live SDK spans: what the export
holds is what the handler saw and did (identity, parentage, the user's attributes, events,
exceptions and name, times), through real awslambdaric and OTLP/HTTP."""

from __future__ import annotations

from lambda_harness import by_name, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan

HANDLER = "recorded_app.handler"
S = 1_000_000_000


def by_invocation(spans: list[ReceivedSpan], n: int) -> ReceivedSpan:
    (span,) = [s for s in spans if s.attributes.get("lambda_init.sandbox_invocation") == n]
    return span


def test_a_warm_invocation_span_holds_what_the_handler_did_to_it(
    receiver: OtlpReceiver,
) -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    event = {"n": 2, "headers": {"traceparent": traceparent}}
    with running_sandbox(HANDLER, receiver) as sandbox:
        assert sandbox.wait_init(30).ok
        assert sandbox.invoke({"n": 1}, timeout=30).status == "success"
        warm = sandbox.invoke(event, timeout=30)
        assert warm.status == "success"
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=20)
    seen = warm.payload
    assert seen["recording"] is True
    span = by_invocation(invocation_spans(spans), 2)
    # The identity the handler saw is the exported one, under the caller's parent.
    assert span.span_id == seen["span_id"] and span.trace_id == seen["trace_id"]
    assert span.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent_span_id == "b7ad6b7169203331"
    assert seen["child_parent"] == span.span_id
    assert seen["traceparent"] == f"00-{span.trace_id}-{span.span_id}-01"
    (child,) = [s for s in spans if s.name == "charge" and s.parent_span_id == span.span_id]
    assert child.trace_id == span.trace_id
    # What the handler did to it, and what we put on it.
    assert span.name == "handle order"
    assert span.attributes["app.order_id"] == "o-42"
    assert [e.name for e in span.events] == ["validated"]
    assert span.attributes["faas.coldstart"] is False
    assert span.attributes["faas.trigger"] == "other"
    assert span.kind == "SERVER"
    # Its times are the invocation's: within what the simulator saw, not the export's.
    assert warm.served_ns - 5_000_000 <= span.start_ns <= span.end_ns <= warm.responded_ns
    assert child.start_ns >= span.start_ns and child.end_ns <= span.end_ns


def test_errors_on_a_warm_invocation_are_recorded_as_a_live_span_records_them(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(HANDLER, receiver) as sandbox:
        assert sandbox.wait_init(30).ok
        sandbox.invoke({"n": 1}, timeout=30)
        recorded = sandbox.invoke({"n": 2, "recorded_error": True}, timeout=30)
        raised = sandbox.invoke({"n": 3, "raise": True}, timeout=30)
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 3, timeout=20)
    assert recorded.status == "success" and raised.status == "error"
    assert raised.payload["errorType"] == "ValueError"  # the handler's error, unchanged
    second = by_invocation(invocation_spans(spans), 2)
    (exception,) = [e for e in second.events if e.name == "exception"]
    assert exception.attributes["exception.type"] == "KeyError"
    third = by_invocation(invocation_spans(spans), 3)
    assert third.status_code == "ERROR"
    assert any(e.attributes.get("exception.type") == "ValueError" for e in third.events)


def test_an_unsampled_warm_invocation_exports_nothing_and_its_children_follow(
    receiver: OtlpReceiver,
) -> None:
    # A ratio that (almost) never samples, so INIT is still exported (a ratio of 0 exports
    # nothing at all: tests/e2e/test_safety_e2e.py).
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1e-12"}
    with running_sandbox(HANDLER, receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).ok
        sandbox.invoke({"n": 1}, timeout=30)
        warm = sandbox.invoke({"n": 2}, timeout=30)
        sandbox.invoke({"n": 3}, timeout=30)  # exports what the second left
        receiver.wait_for(lambda s: any(x.name.startswith("init ") for x in s), timeout=20)
        spans = receiver.spans()
    assert warm.status == "success" and warm.payload["recording"] is False
    flags = int(warm.payload["traceparent"].rsplit("-", 1)[1], 16)
    assert flags & 0x01 == 0  # not sampled, as the SDK would say
    assert invocation_spans(spans) == [] and [s for s in spans if s.name == "charge"] == []


def test_spans_batched_by_the_export_cadence_are_exported_at_shutdown(
    receiver: OtlpReceiver,
) -> None:
    env = {"OTEL_LAMBDA_INIT_EXPORT_INTERVAL_MS": "600000"}
    with running_sandbox(
        HANDLER, receiver, env=env, execution_env="AWS_Lambda_python3.12"
    ) as sandbox:
        assert sandbox.wait_init(30).ok
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(1, 6)]
        first = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 1, timeout=20)
        assert len(invocation_spans(first)) == 1  # the first export; the rest wait
        outcome = sandbox.shutdown()
    assert outcome.sigterm_sent
    spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 5, timeout=10)
    assert [r.status for r in results] == ["success"] * 5
    for n, result in enumerate(results[1:], start=2):
        span = by_invocation(invocation_spans(spans), n)
        assert span.span_id == result.payload["span_id"]
        assert span.trace_id == result.payload["trace_id"] and span.parent_span_id is None


def test_a_warm_invocation_that_times_out_is_ended_with_error_at_sigterm(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(HANDLER, receiver, function_timeout_s=2.0) as sandbox:
        assert sandbox.wait_init(30).ok
        assert sandbox.invoke({"n": 1}, timeout=30).status == "success"
        timed_out = sandbox.invoke({"n": 2, "sleep_s": 3}, timeout=30)
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=20)
    assert timed_out.status == "error" and timed_out.error_type == "Sandbox.Timedout"
    span = by_invocation(invocation_spans(spans), 2)
    assert span.status_code == "ERROR" and span.attributes["error.type"] == "timeout"
    assert span.name == "handle order"  # what the handler did before it was stopped
    assert span.parent_span_id is None  # its own root, as when it started
    (child,) = [s for s in spans if s.name == "charge" and s.parent_span_id == span.span_id]
    assert child.trace_id == span.trace_id


def test_a_server_span_the_handler_starts_in_a_new_trace_is_not_taken_for_the_invocation(
    receiver: OtlpReceiver,
) -> None:
    """With our processor on the provider, a SERVER span the warm handler starts in a new
    trace is its own work: the invocation span holds the runtime window (through the
    processor's on_start), so the processor does not decorate it."""
    with running_sandbox("processor_root_app.handler", receiver) as sandbox:
        assert sandbox.wait_init(30).ok
        results = [sandbox.invoke({"n": n}, timeout=30) for n in (1, 2, 3)]
        spans = receiver.wait_for(
            lambda s: len(invocation_spans(s)) >= 3 and len(by_name(s, "own root")) >= 3,
            timeout=20,
        )
    assert [r.status for r in results] == ["success"] * 3
    ours = invocation_spans(spans)
    assert sorted(s.attributes["lambda_init.sandbox_invocation"] for s in ours) == [1, 2, 3]
    for own in by_name(spans, "own root"):
        assert "faas.invocation_id" not in own.attributes
        assert own.parent_span_id is None

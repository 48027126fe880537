"""Delivery: export after the caller has its response, nothing lost at shutdown, faults
never reaching the handler. Real awslambdaric, real OTLP/HTTP, the simulator's rules (an
invocation is complete when the runtime posted and asked for its next event, and every
INVOKE extension called next).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest
from lambda_harness import init_spans, invocation_spans, running_sandbox, sent_for_this_sandbox

from otel_lambda_sim.receiver import Behaviour, OtlpReceiver
from otel_lambda_sim.sandbox import Sandbox

HANDLER = "manual_app.handler"
S = 1_000_000_000


def our_extension(sandbox):  # type: ignore[no-untyped-def]
    (extension,) = [e for e in sandbox.api.extensions if e.name == "otel-lambda-init"]
    return extension


@contextlib.contextmanager
def slow_receiver_sandbox(receiver: OtlpReceiver) -> Iterator[Sandbox]:
    """A sandbox past its INIT whose exports wait 2 s for the receiver (flush timeout 5 s)."""
    receiver.behaviour = Behaviour(delay_s=2.0)
    env = {"OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS": "5000"}
    with running_sandbox(HANDLER, receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        yield sandbox


def test_after_response_caller_is_answered_before_a_slow_export_finishes(
    receiver: OtlpReceiver,
) -> None:
    with slow_receiver_sandbox(receiver) as sandbox:
        extension = our_extension(sandbox)
        assert not extension.external  # registered by the runtime process
        assert extension.events == []  # for SIGTERM only: never part of an invocation
        result = sandbox.invoke({"n": 1}, timeout=30)
        assert result.status == "success"
        spans = receiver.wait_for(lambda s: bool(invocation_spans(s)), timeout=20)
        assert len(extension.next_ns) == 1  # its INIT next, and no event since
    # The caller had its response; the runtime's thread exported before asking for more.
    assert result.completed_ns - result.responded_ns >= 1.5 * S
    assert result.responded_ns - result.served_ns < 1.5 * S
    assert init_spans(spans)


def test_sync_flush_holds_the_response_at_most_the_flush_timeout(receiver: OtlpReceiver) -> None:
    receiver.behaviour = Behaviour(delay_s=2.0)
    env = {"OTEL_LAMBDA_INIT_FLUSH": "sync", "OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS": "300"}
    with running_sandbox(HANDLER, receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        assert sandbox.api.extensions == []  # sync mode registers nothing
        first = sandbox.invoke({"n": 1}, timeout=30)
        second = sandbox.invoke({"n": 2}, timeout=30)
    for result in (first, second):
        assert result.status == "success"
        # Waited for the flush (bounded at 300 ms), not for the 2 s collector.
        assert result.responded_ns - result.served_ns < 1.5 * S
    assert first.responded_ns - first.served_ns >= 0.25 * S


FAULTS = {
    "refused": {"endpoint": "http://127.0.0.1:9"},
    "hanging": {"behaviour": Behaviour(delay_s=30.0)},
    "http-500": {"behaviour": Behaviour(status=500)},
    "http-429": {"behaviour": Behaviour(status=429, retry_after_s=1)},
    "bad-url": {"endpoint": "http://not a url:43 18"},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_exporter_fault_never_reaches_the_handler_and_is_logged_once(
    receiver: OtlpReceiver, fault: str
) -> None:
    spec = FAULTS[fault]
    env = {"OTEL_EXPORTER_OTLP_TIMEOUT": "2", "OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS": "500"}
    if "endpoint" in spec:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = spec["endpoint"]
    if "behaviour" in spec:
        receiver.behaviour = spec["behaviour"]
    with running_sandbox(HANDLER, receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        for n in range(4):
            result = sandbox.invoke({"n": n}, timeout=30)
            assert result.status == "success" and result.payload["n"] == n
            # Never held by the collector beyond the flush bound (+ generous slack).
            assert result.completed_ns - result.served_ns < 3 * S
        if "behaviour" in spec:
            # The collector comes back: the next invocation's spans arrive.
            receiver.behaviour = Behaviour()
            assert sandbox.invoke({"n": 99}, timeout=30).status == "success"

            def fifth_arrived(spans: list) -> bool:  # type: ignore[type-arg]
                return any(x.attributes.get("lambda_init.sandbox_invocation") == 5 for x in spans)

            # Until the hanging export times out (OTEL_EXPORTER_OTLP_TIMEOUT=2) a flush is not
            # queued behind it; the fifth invocation's spans leave with a later one. Waits on
            # their arrival (bounded at 60 s), not on a guess of when the export gives up.
            deadline = time.monotonic() + 60
            while not fifth_arrived(receiver.spans()) and time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    receiver.wait_for(fifth_arrived, timeout=1.0)
                    break
                assert sandbox.invoke({"n": 100}, timeout=30).status == "success"
            assert fifth_arrived(receiver.spans())
        logs = sandbox.logs()
    export_lines = [
        ln for ln in logs.splitlines() if "Failed to export" in ln or "Transient error" in ln
    ]
    # One line per fault kind per sandbox (an error, plus at most one retry warning).
    assert 1 <= len(export_lines) <= 2, export_lines
    assert len({ln.split(":", 1)[0] for ln in export_lines}) == len(export_lines)


def test_unused_proactive_sandbox_exports_its_init_span_at_shutdown(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(HANDLER, receiver, execution_env="AWS_Lambda_python3.12") as sandbox:
        assert sandbox.wait_init(30).status == "done"
        time.sleep(0.2)
        assert init_spans(receiver.spans()) == []  # auto mode: nothing exported yet
        outcome = sandbox.shutdown()
    assert outcome.sigterm_sent
    spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=10)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.unused"] is True
    assert init.attributes["faas.coldstart"] is False
    assert init.parent_span_id is None
    assert invocation_spans(spans) == []


def test_the_export_after_a_late_response_is_cut_to_the_deadline_and_nothing_is_lost(
    receiver: OtlpReceiver,
) -> None:
    # The function timeout covers the time after the response too: an export that ran past
    # the deadline would turn a finished invocation into a timeout.
    with slow_receiver_sandbox(receiver) as sandbox:
        deadline_ms = int(time.time() * 1000) + 1_000
        late = sandbox.invoke({"sleep_s": 0.8}, deadline_ms=deadline_ms, timeout=30)
        assert late.status == "success"
        # Free by the deadline: the export had what was left of it minus the margin.
        assert late.completed_ns <= (deadline_ms + 150) * 1_000_000
        receiver.behaviour = Behaviour()
        time.sleep(2.5)  # the cut export goes on in the background until the receiver answers
        later = sandbox.invoke({"n": 2}, timeout=30)
        assert later.status == "success"
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=20)
    assert init_spans(spans)  # nothing of the late invocation's export was lost


def test_unsampled_first_invocation_still_exports_the_init_span(receiver: OtlpReceiver) -> None:
    # A ratio that (almost) never samples; always_off turns INIT off too (issue 25).
    env = {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1e-12"}
    with running_sandbox(HANDLER, receiver, env=env) as sandbox:
        result = sandbox.invoke(sent_for_this_sandbox(sandbox, {"n": 1}), timeout=30)
        assert result.status == "success"
        spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=60)
        assert len(our_extension(sandbox).next_ns) == 1  # INIT's next; never an event
    (init,) = init_spans(spans)
    assert invocation_spans(spans) == []  # the user's sampling is unchanged
    assert init.parent_span_id is None and init.attributes["faas.coldstart"] is True


def test_no_event_header_or_environment_value_reaches_the_exported_data(
    receiver: OtlpReceiver,
) -> None:
    secrets = ["s3cr3t-body-7f1c", "s3cr3t-header-91aa", "s3cr3t-env-52de", "s3cr3t-ctx-0b3e"]
    event = {
        "body": secrets[0],
        "headers": {"authorization": secrets[1], "x-api-key": secrets[1]},
        "requestContext": {"authorizer": {"token": secrets[3]}},
        "n": 1,
    }
    env = {"DATABASE_PASSWORD": secrets[2], "OTEL_LAMBDA_INIT_TRACE": "separate"}
    with running_sandbox(HANDLER, receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        assert sandbox.invoke(event, timeout=30).status == "success"
        assert sandbox.invoke({"raise": True, "body": secrets[0]}, timeout=30).status == "error"
        receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=20)
    raw = b"".join(request.body for request in receiver.requests)
    assert raw
    for secret in secrets:
        assert secret.encode() not in raw, secret
    for span in receiver.spans():
        for value in span.attributes.values():
            assert not isinstance(value, str) or len(value) <= 256


def test_on_python311_runtimes_only_separate_mode_saves_an_unused_init(
    receiver: OtlpReceiver,
) -> None:
    """awslambdaric blocks the main thread in native code before python3.12, so no Python
    SIGTERM handler runs: the unused INIT is lost in auto mode, kept by separate mode."""
    with OtlpReceiver() as separate_receiver:
        with (
            running_sandbox(HANDLER, receiver, execution_env="AWS_Lambda_python3.11") as auto,
            running_sandbox(
                HANDLER,
                separate_receiver,
                execution_env="AWS_Lambda_python3.11",
                env={"OTEL_LAMBDA_INIT_TRACE": "separate"},
            ) as separate,
        ):
            assert auto.wait_init(30).status == "done"
            assert separate.wait_init(30).status == "done"
            assert auto.shutdown().sigkill_sent
            separate.shutdown()
        assert init_spans(receiver.spans()) == []
        assert len(init_spans(separate_receiver.spans())) == 1


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


RSS_GROWTH_BOUND_KB = 4_096


@pytest.mark.slow
def test_ten_thousand_warm_invocations_keep_memory_flat(receiver: OtlpReceiver) -> None:
    with running_sandbox(HANDLER, receiver) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        for n in range(1_000):  # warm-up: allocator pools, SDK queues, receiver buffers
            assert sandbox.invoke({"n": n}, timeout=30).status == "success"
        before = rss_kb(sandbox.pid)
        for n in range(9_000):
            assert sandbox.invoke({"n": n}, timeout=30).status == "success"
        after = rss_kb(sandbox.pid)
    print(f"RSS after 1000: {before} kB, after 10000: {after} kB, growth {after - before} kB")
    assert after - before < RSS_GROWTH_BOUND_KB

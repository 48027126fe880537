"""The platform side of "never break a function, never lose an INIT": what the Runtime and
Extensions APIs (or the runtime itself) do that our code must survive. Real awslambdaric
against the simulator, spans over real OTLP/HTTP."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from lambda_harness import (
    dev_layer,
    init_spans,
    invocation_spans,
    refuse_registration,
    running_sandbox,
)

from otel_lambda_sim.receiver import OtlpReceiver

S = 1_000_000_000


# -- item 2: an invocation that never reaches the decorated function -----------------------

BYPASSES: dict[str, Any] = {
    "warm-up answered by the entry point": {"warmup": True},
    "outer middleware raises first": {"middleware_raises": True},
    "event the runtime cannot parse": b"{not json",
}


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_invocation_that_never_reaches_the_decorated_function_is_released_at_once(
    receiver: OtlpReceiver, name: str
) -> None:
    with running_sandbox("bypass_app.handler", receiver, function_timeout_s=8.0) as sandbox:
        assert sandbox.wait_init(30).ok
        bypass = sandbox.invoke(BYPASSES[name], timeout=30)
        served = sandbox.invoke({"n": 2}, timeout=30)
        spans = receiver.wait_for(lambda s: bool(invocation_spans(s)), timeout=20)
    # Lambda holds the sandbox until the runtime (and any INVOKE extension) calls next: an
    # invocation released only by the decorator was once held to the 8 s deadline.
    assert bypass.completed_ns - bypass.responded_ns < 4 * S
    assert served.status == "success"
    assert served.served_ns - bypass.responded_ns < 4 * S
    assert init_spans(spans)  # the INIT span still left the sandbox


# -- item 8: the Extensions API answering 200 with "null" -----------------------------------


def test_extension_survives_an_event_next_answered_with_null(receiver: OtlpReceiver) -> None:
    from lambda_harness import HANDLERS, otel_env

    from otel_lambda_sim.sandbox import Sandbox

    def null_three_times(name: str, calls: int) -> Any:
        return b"null" if name == "otel-lambda-init" and calls <= 3 else None

    with Sandbox("manual_app.handler", HANDLERS, env=otel_env(receiver)) as sandbox:
        sandbox.api.start()
        sandbox.api.faults.extension_next = null_three_times
        sandbox.start()
        assert sandbox.wait_init(30).ok
        results = [sandbox.invoke({"n": n}, timeout=30) for n in (1, 2, 3)]
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 3, timeout=20)
        (extension,) = [e for e in sandbox.api.extensions if e.name == "otel-lambda-init"]
        # The fourth call, after the retries' pauses (50, 100, 200 ms): waited for, bounded
        # generously (a busy host pauses longer, never fewer times).
        deadline = time.monotonic() + 30
        while len(extension.next_ns) < 4 and time.monotonic() < deadline:
            sandbox.api.wait_event(0.05)
        calls = len(extension.next_ns)
    assert [r.status for r in results] == ["success"] * 3
    for result in results:
        assert result.completed_ns - result.responded_ns < 1 * S
    assert calls == 4  # three answered with null, the fourth waits as it should
    assert len(invocation_spans(spans)) == 3 and init_spans(spans)
    assert sandbox.logs().count("event/next call failed") == 1


def extension_next_calls_in_2_5_s(receiver: OtlpReceiver, answer: Any) -> tuple[Any, int, str]:
    """One invocation with our extension's event/next answered by ``answer`` (the fault
    hook's result for it), then 2 s: the invocation, how often next was called, the logs.
    The spans of the invocation must arrive all the same."""
    from lambda_harness import HANDLERS, otel_env

    from otel_lambda_sim.sandbox import Sandbox

    def faulty(name: str, calls: int) -> Any:
        return answer if name == "otel-lambda-init" else None

    with Sandbox("manual_app.handler", HANDLERS, env=otel_env(receiver)) as sandbox:
        sandbox.api.start()
        sandbox.api.faults.extension_next = faulty
        sandbox.start()
        assert sandbox.wait_init(30).ok
        result = sandbox.invoke({"n": 1}, timeout=30)
        time.sleep(2.0)
        (extension,) = [e for e in sandbox.api.extensions if e.name == "otel-lambda-init"]
        calls = len(extension.next_ns)
        spans = receiver.wait_for(lambda s: bool(invocation_spans(s)), timeout=10)
    assert init_spans(spans)
    return result, calls, sandbox.logs()


def test_an_event_the_extension_never_asked_for_answered_at_once_is_not_polled_hot(
    receiver: OtlpReceiver,
) -> None:
    result, calls, logs = extension_next_calls_in_2_5_s(
        receiver, (200, {"eventType": "INVOKE", "requestId": "never-asked-for"})
    )
    assert result.status == "success"
    # Pauses double from 50 ms: about 7 calls in the first 2.5 s, not thousands.
    assert 2 <= calls <= 10, calls
    assert logs.count("an event it never asked for") == 1


def test_a_runtime_api_failing_every_event_next_is_not_polled_hot(
    receiver: OtlpReceiver,
) -> None:
    result, calls, logs = extension_next_calls_in_2_5_s(
        receiver, (500, {"errorType": "Extension.Unknown", "errorMessage": "down"})
    )
    assert result.status == "success"
    # Pauses double from 50 ms: about 7 calls in the first 2.5 s, not thousands.
    assert 3 <= calls <= 10, calls
    assert logs.count("event/next call failed") == 1


# -- item 13: the container-image recipe on a non-AWS base image ----------------------------


def test_container_image_without_aws_execution_env_exports_an_unused_init_at_shutdown(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    ways_in = Path(__file__).parents[1] / "ways_in_handlers"
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(dev_layer(tmp_path) / "otel-lambda-init")}
    with running_sandbox(
        "plain_app.handler", receiver, code_dir=ways_in, env=env, execution_env=""
    ) as sandbox:
        assert sandbox.wait_init(30).ok
        assert "AWS_EXECUTION_ENV" not in sandbox.environment()
        outcome = sandbox.shutdown()
    assert outcome.sigterm_sent and not outcome.sigkill_sent  # our handler ran, then exited
    spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=10)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.unused"] is True


# -- item 8: exit paths that stall ----------------------------------------------------------


def test_system_exit_with_a_hanging_collector_reaches_the_caller_within_the_flush_bound(
    receiver: OtlpReceiver,
) -> None:
    from otel_lambda_sim.receiver import Behaviour

    receiver.behaviour = Behaviour(delay_s=30.0)
    env = {"AWS_LAMBDA_EXEC_WRAPPER": _installed_wrapper()}
    with running_sandbox("exit_app.handler", receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).ok
        result = sandbox.invoke({"n": 1}, timeout=60)
    assert result.status == "error" and result.error_type == "Runtime.ExitError"
    # The provider's export at interpreter exit is bounded (OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS,
    # 2 s by default), not the exporter's 10 s timeout plus retries.
    assert result.responded_ns - result.served_ns < 6 * S


def _installed_wrapper() -> str:
    import sys

    path = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert path, "otel-lambda-init-wrapper is not installed next to the interpreter"
    return path


def test_sync_mode_first_invocation_killed_at_its_timeout_still_exports_the_init_span(
    receiver: OtlpReceiver,
) -> None:
    env = {"OTEL_LAMBDA_INIT_FLUSH": "sync"}
    with running_sandbox("manual_app.handler", receiver, env=env, function_timeout_s=2.0) as sb:
        assert sb.wait_init(30).ok
        assert sb.api.extensions == []  # sync registers nothing: Lambda just kills it
        result = sb.invoke({"n": 1, "sleep_s": 3}, timeout=30)
        assert result.error_type == "Sandbox.Timedout"
        spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=10)
    assert init_spans(spans)


def test_sigterm_while_an_export_is_stuck_still_exports_the_queued_spans(
    receiver: OtlpReceiver,
) -> None:
    from otel_lambda_sim.receiver import Behaviour

    receiver.behaviour = Behaviour(delay_s=0.4)  # the first export hangs a while
    env = {"OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS": "100"}
    with running_sandbox("manual_app.handler", receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).ok
        first = sandbox.invoke({"n": 1}, timeout=30)  # its export is still stuck after this
        receiver.behaviour = Behaviour()
        second = sandbox.invoke({"n": 2}, timeout=30)  # queued behind it: flush skipped
        outcome = sandbox.shutdown()
    assert first.status == second.status == "success"
    assert outcome.sigterm_sent
    spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=10)
    assert {s.attributes["faas.invocation_id"] for s in invocation_spans(spans)} >= {
        first.request_id,
        second.request_id,
    }


# -- five new platform attacks --------------------------------------------------------------


def test_register_refused_still_exports_after_the_response_and_says_why_once(
    receiver: OtlpReceiver,
) -> None:
    from lambda_harness import HANDLERS, otel_env

    from otel_lambda_sim.sandbox import Sandbox

    with Sandbox("manual_app.handler", HANDLERS, env=otel_env(receiver)) as sandbox:
        sandbox.api.start()
        refuse_registration(sandbox)
        sandbox.start()
        assert sandbox.wait_init(30).ok
        result = sandbox.invoke({"n": 1}, timeout=30)
        spans = receiver.wait_for(lambda s: bool(init_spans(s) and invocation_spans(s)), 10)
    assert result.status == "success" and result.payload["n"] == 1
    assert init_spans(spans)
    assert sandbox.logs().count("could not register the internal extension") == 1


def test_a_register_answered_after_inits_wait_still_ends_init_and_gets_sigterm(
    receiver: OtlpReceiver,
) -> None:
    """A busy host answered register after the 2 s INIT waits for it. Lambda had registered
    the extension, so it waited for its first next until the 10 s INIT cap: the INIT stall
    of loaded test runs. The late answer is read on the extension's thread instead."""
    from lambda_harness import HANDLERS, otel_env

    from otel_lambda_init._delivery.extension import _REGISTER_WAIT_S
    from otel_lambda_sim.sandbox import Sandbox

    def late(status: int, body: Any, headers: dict[str, str]) -> Any:
        time.sleep(_REGISTER_WAIT_S + 1.0)  # forces the order: the package stopped waiting
        return status, body, headers

    with Sandbox("manual_app.handler", HANDLERS, env=otel_env(receiver)) as sandbox:
        sandbox.api.start()
        sandbox.api.faults.register = late
        sandbox.start()
        outcome = sandbox.wait_init(30)
        result = sandbox.invoke({"n": 1}, timeout=30)
        registered = [e.name for e in sandbox.api.extensions]
    assert outcome.status == "done", outcome  # was "timeout": the cap ended it
    assert result.status == "success"
    assert registered == ["otel-lambda-init"] and sandbox.api.faults.touched == ["register"]
    assert sandbox.shutdown_outcome is not None and sandbox.shutdown_outcome.sigterm_sent
    assert "could not register" not in sandbox.logs()


# Deadlines awslambdaric's native client lets through (a non-numeric, zero or overflowing
# header aborts the runtime before any of our code runs): long past, negative, exponent.
@pytest.mark.parametrize("deadline", ["1000", "-5", "1e400"])
def test_an_invocation_with_a_garbage_deadline_still_exports_after_the_response(
    receiver: OtlpReceiver, deadline: str
) -> None:
    def garbage_deadline(headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "Lambda-Runtime-Deadline-Ms": deadline}

    with running_sandbox("manual_app.handler", receiver) as sandbox:
        assert sandbox.wait_init(30).ok
        sandbox.api.faults.invocation_headers = garbage_deadline
        result = sandbox.invoke({"n": 1}, timeout=30)
        sandbox.api.faults.invocation_headers = None
        # A deadline already past leaves nothing to export in: the spans wait for the next
        # invocation's export, never for the SDK's timers.
        later = sandbox.invoke({"n": 2}, timeout=30)
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=3)
    assert result.status == "success" and later.status == "success"
    assert init_spans(spans)
    assert result.completed_ns - result.responded_ns < 1 * S
    assert "Traceback" not in sandbox.logs()


def test_a_second_sigterm_during_the_shutdown_export_does_not_cut_it_short(
    receiver: OtlpReceiver,
) -> None:
    import os
    import signal
    import time

    from otel_lambda_sim.receiver import Behaviour

    receiver.behaviour = Behaviour(delay_s=0.3)
    # SIGTERM reaches Python only under a python3.12+ managed runtime (awslambdaric's polling
    # thread); the simulator now defaults to its own interpreter's runtime.
    with running_sandbox(
        "manual_app.handler", receiver, execution_env="AWS_Lambda_python3.12"
    ) as sandbox:
        assert sandbox.wait_init(30).ok
        pid = sandbox.pid
        assert pid is not None
        for delay_s in (0.0, 0.002, 0.002):  # more arrive while our handler is exporting
            time.sleep(delay_s)
            os.kill(pid, signal.SIGTERM)
        spans = receiver.wait_for(lambda s: bool(init_spans(s)), timeout=5)
    (init,) = init_spans(spans)
    assert init.attributes["lambda_init.unused"] is True


def test_an_unwritable_tmpdir_is_reported_once_and_the_function_serves(
    receiver: OtlpReceiver,
) -> None:
    env = {"TMPDIR": "/proc"}  # a directory nobody, not even root, can create files in
    with running_sandbox("manual_app.handler", receiver, env=env) as sandbox:
        assert sandbox.wait_init(30).ok
        results = [sandbox.invoke({"n": n}, timeout=30) for n in (1, 2)]
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=10)
    assert [r.status for r in results] == ["success", "success"]
    assert init_spans(spans)
    assert sandbox.logs().count("could not write") == 1
    assert "Traceback" not in sandbox.logs()


def test_an_oversized_request_id_is_cut_and_never_breaks_the_export(
    receiver: OtlpReceiver,
) -> None:
    request_id = "r" * 4000
    with running_sandbox("manual_app.handler", receiver) as sandbox:
        assert sandbox.wait_init(30).ok
        result = sandbox.invoke({"n": 1}, request_id=request_id, timeout=30)
        spans = receiver.wait_for(lambda s: bool(invocation_spans(s)), timeout=10)
    assert result.status == "success"
    (invocation,) = invocation_spans(spans)
    assert 0 < len(invocation.attributes["faas.invocation_id"]) <= 256
    assert result.completed_ns - result.responded_ns < 4 * S

"""Attacks on the INIT path, through real awslambdaric: the function must behave exactly as
it does without us (issue 13)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from lambda_harness import init_spans, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

HOSTILE = Path(__file__).parents[1] / "hostile_handlers"


def installed_wrapper() -> str:
    path = shutil.which("otel-lambda-init-wrapper", path=str(Path(sys.executable).parent))
    assert path, "otel-lambda-init-wrapper is not installed next to the interpreter"
    return path


def test_a_package_that_inspects_its_loader_imports_unchanged_on_the_wrapper_route(
    receiver: OtlpReceiver,
) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    with running_sandbox("resource_app.handler", receiver, code_dir=HOSTILE, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        result = sandbox.invoke({}, timeout=30)
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 1, timeout=20)
    assert result.status == "success", result.payload
    assert result.payload == {
        "loader_is_real": True,
        "has_data": True,
        "listing": ["data.txt"],
        "is_dir": True,
        "data": "hello",
    }
    assert len(init_spans(spans)) == 1


def test_a_package_that_inspects_its_loader_imports_unchanged_on_the_manual_route(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox("resource_manual_app.handler", receiver, code_dir=HOSTILE) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        result = sandbox.invoke({}, timeout=30)
    assert result.status == "success", result.payload
    assert result.payload == {"loader_is_real": True, "has_data": True}


def _init_error(receiver: OtlpReceiver, env: dict[str, str]) -> Any:
    with running_sandbox(
        "import_raising_app.handler", receiver, code_dir=HOSTILE, env=env
    ) as sandbox:
        outcome = sandbox.wait_init(30)
    assert outcome.status == "error"
    return outcome.body


def test_an_error_at_import_is_reported_with_the_frames_it_has_without_us(
    receiver: OtlpReceiver,
) -> None:
    ours = _init_error(receiver, {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()})
    with OtlpReceiver() as baseline_receiver:
        baseline = _init_error(baseline_receiver, {})
    assert ours["errorType"] == baseline["errorType"] == "RuntimeError"
    assert ours["errorMessage"] == baseline["errorMessage"]
    assert ours["stackTrace"] == baseline["stackTrace"]
    assert not any("otel_lambda_init" in frame for frame in ours["stackTrace"])
    (init,) = init_spans(receiver.wait_for(lambda s: len(init_spans(s)) >= 1, timeout=20))
    assert init.status_code == "ERROR"


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_a_misspelled_propagator_warns_once_and_the_others_still_work(
    receiver: OtlpReceiver,
) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(),
        "OTEL_PROPAGATORS": "tracecontext,b3multi_typo",
    }
    with running_sandbox("resource_app.handler", receiver, code_dir=HOSTILE, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        event = {"headers": {"traceparent": TRACEPARENT}}
        for n in range(3):
            assert sandbox.invoke(event, request_id=f"req-{n}", timeout=30).status == "success"
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 3, timeout=20)
        logs = sandbox.logs()
    invocations = invocation_spans(spans)
    assert len(invocations) == 3
    assert {s.trace_id for s in invocations} == {TRACEPARENT.split("-")[1]}
    (init,) = init_spans(spans)
    assert "lambda_init.unused" not in init.attributes
    assert logs.count("b3multi_typo") == 1, logs


def test_an_enormous_import_threshold_still_exports_the_init_error_span(
    receiver: OtlpReceiver,
) -> None:
    env = {"OTEL_LAMBDA_INIT_IMPORT_THRESHOLD_MS": "1e303", "RAISE_HOW": "raise"}
    anatomy = Path(__file__).parents[1] / "anatomy_handlers"
    with running_sandbox("raising_app.handler", receiver, code_dir=anatomy, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "error"
        spans = receiver.wait_for(lambda s: len(init_spans(s)) >= 1, timeout=20)
        logs = sandbox.logs()
    (init,) = init_spans(spans)
    assert init.status_code == "ERROR"
    assert not [s for s in spans if s.name.startswith("import ")]  # nothing is that slow
    assert "OverflowError" not in logs


def _one_span_and_one_count_per_invocation(spans: list[Any]) -> None:
    servers = sorted((s for s in spans if s.kind == "SERVER"), key=lambda s: s.start_ns)
    assert [s.attributes.get("lambda_init.sandbox_invocation") for s in servers] == [1, 2]
    assert len(invocation_spans(spans)) == 2
    (init,) = init_spans(spans)
    assert [link.span_id for link in servers[0].links] == [init.span_id]


@pytest.mark.parametrize(
    "handler", ["double_wrapped_app.twice", "double_wrapped_app.behind_middleware"]
)
def test_a_handler_wrapped_twice_has_one_invocation_span_and_one_count(
    receiver: OtlpReceiver, handler: str
) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}  # its provider, from the variables
    with running_sandbox(handler, receiver, code_dir=HOSTILE, env=env) as sandbox:
        assert sandbox.invoke({}, request_id="req-1", timeout=30).status == "success"
        assert sandbox.invoke({}, request_id="req-2", timeout=30).status == "success"
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=20)
        import time

        time.sleep(0.3)  # a second span, if any, would arrive in the same batch
        spans = receiver.spans()
    _one_span_and_one_count_per_invocation(spans)


def test_the_upstream_instrumentor_around_our_decorator_makes_one_span_and_one_count(
    receiver: OtlpReceiver,
) -> None:
    with running_sandbox(
        "upstream_and_decorator_app.handler", receiver, code_dir=HOSTILE
    ) as sandbox:
        assert sandbox.invoke({}, request_id="req-1", timeout=30).status == "success"
        assert sandbox.invoke({}, request_id="req-2", timeout=30).status == "success"
        receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=20)
        import time

        time.sleep(0.3)
        spans = receiver.spans()
    _one_span_and_one_count_per_invocation(spans)
    assert {s.scope_name for s in spans if s.kind == "SERVER"} == {
        "opentelemetry.instrumentation.aws_lambda"
    }


def test_an_exception_quoting_the_event_is_cut_before_export(receiver: OtlpReceiver) -> None:
    secret = "hunter2-password"
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    with running_sandbox("validation_app.handler", receiver, code_dir=HOSTILE, env=env) as sandbox:
        result = sandbox.invoke({"password": secret}, timeout=30)
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 1, timeout=20)
    assert result.status == "error"
    assert secret in str(result.payload)  # the runtime's own report is the user's, unchanged
    (invocation,) = invocation_spans(spans)
    (event,) = [e for e in invocation.events if e.name == "exception"]
    assert len(event.attributes["exception.message"]) <= 256
    assert len(event.attributes["exception.stacktrace"]) <= 4096
    assert "validation_app.py" in event.attributes["exception.stacktrace"]
    assert all(secret not in str(value) for value in event.attributes.values())
    assert invocation.status_code == "ERROR"

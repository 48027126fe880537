"""Zero-code ways in, started exactly as Lambda starts a runtime.

Every test runs the simulator's bootstrap (``exec "$AWS_LAMBDA_EXEC_WRAPPER" python
bootstrap.py``) with real awslambdaric and real OTLP/HTTP. The function module
(tests/ways_in_handlers/plain_app.py) never mentions the package.
"""

from __future__ import annotations

from pathlib import Path

from lambda_harness import (
    HANDLERS,
    assert_cold_start_shape,
    dev_layer,
    init_spans,
    installed_wrapper,
    invocation_spans,
    running_sandbox,
    sent_for_this_sandbox,
)

from otel_lambda_sim.receiver import OtlpReceiver, ReceivedSpan

WAYS_IN = Path(__file__).parents[1] / "ways_in_handlers"
PLAIN = "plain_app.handler"
SHIM = "otel_lambda_init.auto.shim.handler"
UPSTREAM_SCOPE = "opentelemetry.instrumentation.aws_lambda"


def layer_wrapper(tmp_path: Path) -> Path:
    """The OpenTelemetry layer's route: set ORIG_HANDLER, point _HANDLER at its handler
    module, default the OTLP protocol to http/protobuf, exec opentelemetry-instrument (as its
    otel-instrument wrapper does)."""
    wrapper = tmp_path / "otel-instrument"
    wrapper.write_text(
        "#!/bin/sh\n"
        'export ORIG_HANDLER="$_HANDLER"\n'
        'export _HANDLER="${TEST_LAYER_HANDLER:-otel_wrapper.lambda_handler}"\n'
        'export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-$AWS_LAMBDA_FUNCTION_NAME}"\n'
        'export OTEL_EXPORTER_OTLP_PROTOCOL="${OTEL_EXPORTER_OTLP_PROTOCOL:-http/protobuf}"\n'
        'exec opentelemetry-instrument "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


def wait_spans(receiver: OtlpReceiver, invocations: int = 1) -> list[ReceivedSpan]:
    return receiver.wait_for(
        lambda s: len(init_spans(s)) >= 1 and len(invocation_spans(s)) >= invocations,
        timeout=20,
    )


def test_wrapper_alone_traces_a_function_that_never_mentions_the_package(
    receiver: OtlpReceiver,
) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        event = sent_for_this_sandbox(sandbox, {"n": 7})  # its trigger's time: event-time
        result = sandbox.invoke(event, request_id="req-1", timeout=30)
        spans = wait_spans(receiver)
    assert result.status == "success"
    assert result.payload["ok"] is True and result.payload["n"] == 7  # unchanged
    assert result.payload["request_id"] == "req-1"
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert invocation.attributes["faas.invocation_id"] == "req-1"
    assert_cold_start_shape(spans, init, invocation)
    assert [link.span_id for link in invocation.links] == [init.span_id]
    for span in (init, invocation):
        assert span.attributes["faas.coldstart"] is True
        assert span.attributes["lambda_init.proactive_initialization"] is False
        assert span.attributes["lambda_init.phase"] == "init"
        assert span.attributes["lambda_init.classified_by"] == "event-time"
        assert span.resource["service.name"] == "demo-fn"  # defaults to the function name
        assert span.resource["faas.name"] == "demo-fn"
        assert span.resource["cloud.platform"] == "aws_lambda"
        assert span.resource["faas.instance"] == sandbox.log_stream_name
    assert init.attributes["lambda_init.start_source"] == "proc"
    assert init.attributes["lambda_init.end_source"] == "runtime-next"


def test_wrapper_keeps_a_service_name_the_user_set(receiver: OtlpReceiver) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(),
        "OTEL_RESOURCE_ATTRIBUTES": "service.name=orders,deployment.environment=prod",
    }
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        assert sandbox.invoke({}, timeout=30).status == "success"
        spans = wait_spans(receiver)
    (invocation,) = invocation_spans(spans)
    assert invocation.resource["service.name"] == "orders"
    assert invocation.resource["deployment.environment"] == "prod"
    assert invocation.resource["faas.name"] == "demo-fn"


def test_opentelemetry_layer_route_has_one_invocation_span_carrying_our_link(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": str(layer_wrapper(tmp_path)),
        "OTEL_LAMBDA_INIT_FLUSH": "none",
        # This route never sees the event's time: the sandbox-local rules decide, with the
        # idle threshold a user on a host as busy as CI's would set (docs/verdicts.md).
        "OTEL_LAMBDA_INIT_IDLE_GAP_MS": "2000",
    }
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        first = sandbox.invoke({"n": 1}, timeout=30)
        second = sandbox.invoke({"n": 2}, timeout=30)
        spans = wait_spans(receiver, invocations=2)
    assert first.payload["n"] == 1 and second.payload["n"] == 2
    assert first.payload["started_by"] == "opentelemetry-instrument"  # the pre-instrument hook
    (init,) = init_spans(spans)
    invocations = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    assert len(invocations) == 2
    assert {s.scope_name for s in invocations} == {UPSTREAM_SCOPE}  # no span of ours
    one, two = invocations
    assert [link.span_id for link in one.links] == [init.span_id]
    assert_cold_start_shape(spans, init, one)
    assert one.attributes["faas.coldstart"] is True
    assert one.attributes["lambda_init.sandbox_invocation"] == 1
    assert two.attributes["lambda_init.sandbox_invocation"] == 2
    assert two.attributes["faas.coldstart"] is False and not two.links
    assert init.attributes["lambda_init.end_source"] == "runtime-next"


def test_wrapper_with_auto_instrumentation_and_upstream_makes_no_second_span(
    receiver: OtlpReceiver,
) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(),
        "OTEL_LAMBDA_INIT_AUTO_INSTRUMENT": "true",
        "OTEL_LAMBDA_INIT_FLUSH": "none",
    }
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        result = sandbox.invoke({"n": 3}, timeout=30)
        spans = wait_spans(receiver)
    assert result.status == "success" and result.payload["n"] == 3
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert invocation.scope_name == UPSTREAM_SCOPE
    assert [link.span_id for link in invocation.links] == [init.span_id]
    assert invocation.resource["faas.name"] == "demo-fn"  # our resource detector
    assert not [s for s in spans if s.kind == "SERVER" and s is not invocation]


def test_legacy_instrumentor_span_is_recognised_after_start_and_a_local_server_child_is_not(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": str(layer_wrapper(tmp_path)),
        "TEST_LAYER_HANDLER": "legacy_instrumentor.lambda_handler",
        "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "aws-lambda",
        "OTEL_LAMBDA_INIT_FLUSH": "none",
    }
    event = {"Records": [{"eventSource": "aws:sqs", "body": "x"}]}
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        assert sandbox.invoke(event, timeout=30).status == "success"
        spans = wait_spans(receiver)
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert invocation.name == PLAIN and invocation.kind == "CONSUMER"
    assert [link.span_id for link in invocation.links] == [init.span_id]
    assert invocation.attributes["lambda_init.sandbox_invocation"] == 1
    (inner,) = [s for s in spans if s.name == "inner work"]
    assert "lambda_init.sandbox_invocation" not in inner.attributes
    assert not inner.links


def test_wrapper_starts_our_code_before_the_runtime_client_and_earlier_than_manual_route(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    layer = dev_layer(tmp_path)
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(layer / "otel-lambda-init")}
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        wrapped = sandbox.invoke({}, timeout=30)
        wrapped_spans = wait_spans(receiver)
    with (
        OtlpReceiver() as manual_receiver,
        running_sandbox("manual_app.handler", manual_receiver, code_dir=HANDLERS) as sb,
    ):
        manual = sb.invoke({"n": 0}, timeout=30)
        manual_spans = wait_spans(manual_receiver)
    assert wrapped.payload["started_by"] == "sitecustomize"
    (w_init,) = init_spans(wrapped_spans)
    (m_init,) = init_spans(manual_spans)
    # Both start at the process start: the wrapper cannot beat /proc, and costs it nothing.
    assert w_init.attributes["lambda_init.start_source"] == "proc"
    assert m_init.attributes["lambda_init.start_source"] == "proc"
    # What the wrapper moves earlier is our first line (the INIT start we fall back to
    # without /proc, and the end of the `runtime` child): before the runtime client is
    # imported and before the function's module, where the manual route's first line is.
    assert wrapped.payload["runtime_client_loaded_first"] is False
    assert w_init.start_ns <= wrapped.payload["our_first_line_ns"]
    assert wrapped.payload["our_first_line_ns"] < wrapped.payload["first_line_ns"]
    assert manual.payload["first_line_ns"] > m_init.start_ns
    # Ours ran earlier than even the manual route's function module, which the runtime client
    # imports (and which imports the package later still). Said by order, not by clocks: the
    # offsets from each process's start (~24 ms vs ~53 ms on a quiet host) are two processes'
    # wall time, which a loaded host reorders (it did once, at load 9).
    assert manual.payload["runtime_client_loaded_first"] is True


def test_no_endpoint_still_answers_with_one_log_line(receiver: OtlpReceiver) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(),
        "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        "OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS": "300",
    }
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(2)]
        logs = sandbox.logs()
    assert [r.payload["n"] for r in results] == [0, 1]
    assert logs.count("no OTEL_EXPORTER_OTLP_ENDPOINT set") == 1


def test_refusing_endpoint_still_answers(receiver: OtlpReceiver) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(),
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        "OTEL_LAMBDA_INIT_FLUSH_TIMEOUT_MS": "300",
    }
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3)]
    assert [r.status for r in results] == ["success"] * 3
    assert [r.payload["n"] for r in results] == [0, 1, 2]


def test_missing_function_module_fails_exactly_as_without_the_wrapper(
    receiver: OtlpReceiver,
) -> None:
    outcomes = []
    for env in ({"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}, {}):
        with running_sandbox("no_such_module.handler", receiver, code_dir=WAYS_IN, env=env) as sb:
            outcome = sb.wait_init(30)
            logs = sb.logs()
        outcomes.append((outcome.status, outcome.error_type, outcome.body, outcome.exit_code))
        if env:
            assert logs.count("otel-lambda-init: the function's handler") == 1
    assert outcomes[0] == outcomes[1]
    status, error_type, body, _ = outcomes[0]
    assert status == "error" and error_type == "Runtime.ImportModuleError"
    assert "no_such_module" in body["errorMessage"]


def test_container_entrypoint_python_m_awslambdaric_behind_the_wrapper(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    """An image whose ENTRYPOINT is ``otel-lambda-init-wrapper python -m awslambdaric`` and
    CMD the handler: the handler is rewritten on the command line, not in _HANDLER."""
    import sys

    entrypoint = tmp_path / "python-entrypoint"
    entrypoint.write_text(
        "#!/bin/sh\n"
        "unset _HANDLER\n"
        f'exec {installed_wrapper()} {sys.executable} -m awslambdaric "$TEST_CMD"\n'
    )
    entrypoint.chmod(0o755)
    # The simulator's bootstrap execs the wrapper variable with "python bootstrap.py";
    # this entrypoint ignores those arguments, as an image's ENTRYPOINT would.
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(entrypoint), "TEST_CMD": PLAIN}
    with running_sandbox(PLAIN, receiver, code_dir=WAYS_IN, env=env) as sandbox:
        result = sandbox.invoke({"n": 5}, timeout=30)
        spans = wait_spans(receiver)
    assert result.payload["n"] == 5
    (init,) = init_spans(spans)
    (invocation,) = invocation_spans(spans)
    assert [link.span_id for link in invocation.links] == [init.span_id]

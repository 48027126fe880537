"""The simulator's core: real handlers in real awslambdaric processes, Lambda's rules enforced."""

from __future__ import annotations

import os
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from otel_lambda_sim import Behaviour, OtlpReceiver, Sandbox
from otel_lambda_sim.launch import group_members
from otel_lambda_sim.runtime_api import Invocation

HANDLERS = Path(__file__).parents[1] / "simulator_handlers"
pytestmark = pytest.mark.timeout(60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes, but the simulator reaps, so check state too.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_init_completes_and_invoke_returns_the_handler_payload() -> None:
    with Sandbox("echo.handler", HANDLERS) as sb:
        outcome = sb.wait_init(10)
        assert outcome.status == "done"
        assert sb.api.init_done_ns >= sb.api.runtime_ready_ns > sb.api.init_start_ns
        result = sb.invoke({"order": 7}, timeout=10)
        pid = sb.pid
        tmpdir = sb.tmpdir
    assert result.status == "success"
    assert result.payload["event"] == {"order": 7}
    assert result.payload["request_id"] == result.request_id
    assert result.served_ns <= result.responded_ns <= result.completed_ns
    assert pid is not None and not _alive(pid)
    assert not tmpdir.exists()


def test_sandbox_environment_matches_lambda() -> None:
    with Sandbox("echo.handler", HANDLERS, env={"OTEL_SERVICE_NAME": "svc"}) as sb:
        env = sb.invoke({}, timeout=10).payload["env"]
        stream = sb.log_stream_name
        tmpdir = str(sb.tmpdir)
    assert env["_HANDLER"] == "echo.handler"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    # The Python that runs the simulator runs the sandbox: its managed runtime by default.
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_python3.{sys.version_info.minor}"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"] == stream
    assert stream is not None and "/[$LATEST]" in stream and len(stream.split("]")[1]) == 32
    assert env["LAMBDA_TASK_ROOT"] == str(HANDLERS.resolve())
    assert str(HANDLERS.resolve()) in env["PYTHONPATH"].split(":")
    assert env["TZ"] == ":UTC"
    assert env["TMPDIR"] == tmpdir
    assert env["OTEL_SERVICE_NAME"] == "svc"
    assert "AWS_LAMBDA_MAX_CONCURRENCY" not in env
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")


def test_two_sandboxes_get_distinct_log_streams_and_tmpdirs() -> None:
    with Sandbox("echo.handler", HANDLERS) as a, Sandbox("echo.handler", HANDLERS) as b:
        pa = a.invoke({}, timeout=10).payload
        pb = b.invoke({}, timeout=10).payload
    assert pa["log_stream"] != pb["log_stream"]
    assert pa["tmpdir"] != pb["tmpdir"]


def test_handler_exception_is_returned_as_an_error_with_its_type() -> None:
    with Sandbox("raises.handler", HANDLERS) as sb:
        result = sb.invoke({}, timeout=10)
    assert result.status == "error"
    assert result.error_type == "OrderNotFound"
    assert result.payload["errorMessage"] == "order 42 does not exist"


def test_unknown_module_is_an_import_module_init_error() -> None:
    with Sandbox("no_such_module.handler", HANDLERS) as sb:
        outcome = sb.wait_init(10)
        result = sb.invoke({}, timeout=10)
        pid = sb.pid
    assert outcome.status == "error"
    assert outcome.error_type == "Runtime.ImportModuleError"
    assert "no_such_module" in outcome.message
    assert result.status == "error" and result.error_type == "Runtime.ImportModuleError"
    assert pid is not None and not _alive(pid)


def test_exception_at_import_is_an_init_error_with_the_message() -> None:
    with Sandbox("import_error.handler", HANDLERS) as sb:
        outcome = sb.wait_init(10)
    assert outcome.status == "error"
    # awslambdaric reports the exception's own type for anything but an ImportError.
    assert outcome.error_type == "RuntimeError"
    assert "cannot connect to the database" in outcome.message


def test_missing_exec_wrapper_exits_127(tmp_path: Path) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": str(tmp_path / "missing-wrapper")}
    with Sandbox("echo.handler", HANDLERS, env=env) as sb:
        outcome = sb.wait_init(10)
        result = sb.invoke({}, timeout=10)
        logs = sb.logs()
    assert outcome.status == "exited" and outcome.exit_code == 127
    assert "does not exist" in logs
    assert result.status == "error" and result.error_type == "Runtime.ExitError"


def test_non_executable_exec_wrapper_exits_126(tmp_path: Path) -> None:
    wrapper = tmp_path / "wrapper"
    wrapper.write_text('#!/bin/sh\nexec "$@"\n')
    wrapper.chmod(0o644)
    with Sandbox("echo.handler", HANDLERS, env={"AWS_LAMBDA_EXEC_WRAPPER": str(wrapper)}) as sb:
        outcome = sb.wait_init(10)
    assert outcome.status == "exited" and outcome.exit_code == 126


def test_exec_wrapper_runs_in_front_of_the_runtime(tmp_path: Path) -> None:
    wrapper = tmp_path / "wrapper"
    wrapper.write_text('#!/bin/sh\nexport WRAPPED_BY=test-wrapper\nexec "$@"\n')
    wrapper.chmod(0o755)
    with Sandbox("echo.handler", HANDLERS, env={"AWS_LAMBDA_EXEC_WRAPPER": str(wrapper)}) as sb:
        payload = sb.invoke({}, timeout=10).payload
        pid = sb.pid
    assert payload["pid"] == pid  # the wrapper exec'd: the runtime is the launched process


def test_init_waits_for_internal_extension_and_invocation_completes_after_its_next() -> None:
    env = {"EXTENSION_WORK_S": "0.3"}
    with Sandbox("internal_extension.handler", HANDLERS, env=env) as sb:
        assert sb.wait_init(10).status == "done"
        assert [e.name for e in sb.api.extensions] == ["flusher"]
        first = sb.invoke({}, timeout=10)
        second = sb.invoke({}, timeout=10)
        outcome = sb.shutdown()
    # The extension works 0.3 s after each INVOKE: off the caller's path, but the next event
    # is not served before it calls next again.
    assert (first.completed_ns - first.responded_ns) / 1e6 >= 250
    assert second.served_ns >= first.completed_ns
    # The extension saw the first INVOKE before the second was served (the second one races
    # with the handler reading the list, as it would in Lambda).
    assert second.payload["seen"][0] == first.request_id
    assert outcome.mode == "internal" and outcome.sigterm_sent


def test_extension_cannot_register_after_init() -> None:
    with Sandbox("echo.handler", HANDLERS) as sb:
        sb.wait_init(10)
        req = urllib.request.Request(
            f"http://{sb.api.address}/2020-01-01/extension/register",
            data=b'{"events": ["INVOKE"]}',
            method="POST",
            headers={"Lambda-Extension-Name": "late"},
        )
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 403


def test_shutdown_without_extensions_is_sigkill() -> None:
    with Sandbox("echo.handler", HANDLERS) as sb:
        sb.invoke({}, timeout=10)
        outcome = sb.shutdown()
    assert outcome.mode == "no-extensions"
    assert not outcome.sigterm_sent and outcome.sigkill_sent and outcome.exit_code == -9


def test_managed_instances_shutdown_without_extensions_is_sigkill_for_every_worker() -> None:
    lmi = {"initialization_type": "lambda-managed-instances", "max_concurrency": 2}
    with Sandbox("echo.handler", HANDLERS, **lmi) as sb:
        sb.invoke({}, timeout=10)
        pgid = sb.pid
        outcome = sb.shutdown()
    assert outcome.mode == "no-extensions" and not outcome.sigterm_to_group
    assert not outcome.sigterm_sent and outcome.sigkill_sent and outcome.exit_code == -9
    assert group_members(pgid) == []  # the workers too (zombies left for their reaper)


def test_external_extension_gets_shutdown_event(tmp_path: Path) -> None:
    ext_dir = tmp_path / "extensions"
    ext_dir.mkdir()
    marker = tmp_path / "shutdown.json"
    ext = ext_dir / "recorder"
    ext.write_text(
        f"""#!{sys.executable}
import json, os, urllib.request
api = os.environ["AWS_LAMBDA_RUNTIME_API"]
req = urllib.request.Request(f"http://{{api}}/2020-01-01/extension/register",
    data=json.dumps({{"events": ["INVOKE", "SHUTDOWN"]}}).encode(), method="POST",
    headers={{"Lambda-Extension-Name": "recorder"}})
ext_id = urllib.request.urlopen(req, timeout=10).headers["Lambda-Extension-Identifier"]
while True:
    req = urllib.request.Request(f"http://{{api}}/2020-01-01/extension/event/next",
        headers={{"Lambda-Extension-Identifier": ext_id}})
    event = json.loads(urllib.request.urlopen(req, timeout=30).read())
    if event["eventType"] == "SHUTDOWN":
        open({str(marker)!r}, "w").write(json.dumps(event))
        break
"""
    )
    ext.chmod(0o755)
    with Sandbox("echo.handler", HANDLERS, extensions_dir=ext_dir) as sb:
        assert sb.wait_init(10).status == "done"
        assert [e.external for e in sb.api.extensions] == [True]
        assert sb.invoke({}, timeout=10).status == "success"
        outcome = sb.shutdown("spindown")
    assert outcome.mode == "external" and outcome.shutdown_event_sent
    assert '"shutdownReason": "spindown"' in marker.read_text()


def test_init_cap_kills_the_runtime_and_first_invocation_reruns_init() -> None:
    env = {"SLOW_INIT_S": "2.5"}
    with Sandbox("slow_init.handler", HANDLERS, env=env, init_timeout_s=1.5) as sb:
        outcome = sb.wait_init(10)
        first_pid = sb.attempts[0].pid
        (sb.tmpdir / "kept.txt").write_text("survives the re-run")
        result = sb.invoke({}, timeout=20)
    assert outcome.status == "timeout"
    assert sb.attempts[0].killed_for_timeout and sb.attempts[0].exit_code == -9
    assert not _alive(first_pid)
    assert result.status == "success" and result.init_rerun
    assert result.payload["pid"] != first_pid
    assert result.payload["tmpdir_files"] == ["kept.txt"]
    assert result.duration_ms >= 2500  # the re-run INIT is inside the invocation


def test_receiver_decodes_spans_from_the_sdk_exporter(receiver: OtlpReceiver) -> None:
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}
    with Sandbox("otel_spans.handler", HANDLERS, env=env) as sb:
        result = sb.invoke({}, timeout=15)
    spans = receiver.wait_for(lambda s: any(x.name == "handle" for x in s), timeout=10)
    by_name = {s.name: s for s in spans}
    handle, child, init = by_name["handle"], by_name["child"], by_name["module import"]
    assert handle.trace_id == result.payload["trace_id"]
    assert handle.kind == "SERVER" and child.kind == "INTERNAL"
    assert child.parent_span_id == handle.span_id and handle.parent_span_id is None
    assert handle.attributes == {"faas.coldstart": True, "n": 3, "ratio": 0.5, "tags": ["a", "b"]}
    assert (
        handle.links[0].span_id == init.span_id and handle.links[0].attributes["reason"] == "init"
    )
    assert handle.events[0].name == "working" and handle.events[0].attributes == {"step": 1}
    assert handle.resource["faas.name"] == "demo-fn"
    assert handle.scope_name == "simulator.test"
    assert handle.status_code == "UNSET"
    assert len(handle.trace_id) == 32 and len(handle.span_id) == 16


def test_receiver_fault_injection_and_json(receiver: OtlpReceiver, tmp_path: Path) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

    receiver.behaviour = Behaviour(status=500)
    exporter = OTLPSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces", timeout=2)
    provider = TracerProvider()
    provider.get_tracer("t").start_span("x").end()
    from opentelemetry.sdk.trace import ReadableSpan

    span: ReadableSpan = provider.get_tracer("t").start_span("rejected")  # type: ignore[assignment]
    span.end()
    assert exporter.export([span]) == SpanExportResult.FAILURE
    assert receiver.requests and receiver.requests[-1].status == 500
    assert receiver.spans() == []

    receiver.behaviour = Behaviour(status=429, retry_after_s=1)
    req = urllib.request.Request(f"{receiver.endpoint}/v1/traces", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=5)
    assert err.value.code == 429 and err.value.headers["Retry-After"] == "1"

    # A hanging collector: the exporter gives up after its timeout, stop() is not held up.
    receiver.behaviour = Behaviour(delay_s=30)
    t0 = time.monotonic()
    exporter_short = OTLPSpanExporter(endpoint=f"{receiver.endpoint}/v1/traces", timeout=0.5)
    exporter_short.export([span])
    assert time.monotonic() - t0 < 10

    receiver.behaviour = Behaviour()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("t").start_span("accepted").end()
    body = (
        '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c",'
        '"spanId":"b7ad6b7169203331","name":"from-json","kind":2,"startTimeUnixNano":"1",'
        '"endTimeUnixNano":"2"}]}]}]}'
    )
    req = urllib.request.Request(
        f"{receiver.endpoint}/v1/traces",
        data=body.encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    assert urllib.request.urlopen(req, timeout=5).status == 200
    names = {s.name: s for s in receiver.wait_for(lambda s: len(s) >= 2, timeout=5)}
    assert names["from-json"].trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert names["from-json"].kind == "SERVER"
    out = receiver.to_jsonl(tmp_path / "t.jsonl")
    lines = out.read_text().splitlines()
    assert len(lines) == 2 and "0af7651916cd43dd8448eb211c80319c" in lines[1]
    t0 = time.monotonic()
    receiver.behaviour = Behaviour(delay_s=30)
    urllib.request.Request(f"{receiver.endpoint}/v1/traces", data=b"", method="POST")
    receiver.stop()
    assert time.monotonic() - t0 < 5


def test_servers_bind_loopback_only(receiver: OtlpReceiver) -> None:
    with Sandbox("echo.handler", HANDLERS) as sb:
        sb.start()
        assert sb.api.address.startswith("127.0.0.1:")
        assert receiver.endpoint.startswith("http://127.0.0.1:")
        assert sb.api._server is not None and sb.api._server.server_address[0] == "127.0.0.1"


def test_nothing_left_running_after_exception_in_with_block() -> None:
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt), Sandbox("echo.handler", HANDLERS) as sb:
        sb.wait_init(10)
        assert sb.pid is not None
        pids.append(sb.pid)
        raise KeyboardInterrupt
    assert pids and not _alive(pids[0])


def test_a_request_to_a_sandbox_in_its_first_init_waits_in_it() -> None:
    # A cold start's request waits in the sandbox while INIT runs, and the Runtime API hands
    # it over as INIT ends: the idle gap is the hand-over, not when the caller's thread woke.
    with Sandbox("slow_init.handler", HANDLERS, env={"SLOW_INIT_S": "0.8"}) as sb:
        sb.start()
        submitted: list[Invocation] = []
        caller = threading.Thread(target=lambda: submitted.append(sb.submit({"n": 1})))
        caller.start()
        deadline = time.monotonic() + 5
        while not sb.api.pending and time.monotonic() < deadline:
            time.sleep(0.005)
        assert sb.api.pending and not sb.api.init_done  # queued while INIT still ran
        caller.join(10)
        result = submitted[0].wait(10)
        handed_over_ms = (result.served_ns - sb.api.init_done_ns) / 1e6
    assert result.status == "success"
    assert 0 <= handed_over_ms < 50, handed_over_ms

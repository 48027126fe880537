"""Settings and habits real functions have (issue 25): the standard off switch, sampling
turned off, handlers that fork, concurrency libraries that patch the stdlib."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
from lambda_harness import init_spans, installed_wrapper, invocation_spans, running_sandbox

from otel_lambda_sim.receiver import OtlpReceiver

SAFETY = Path(__file__).parent.parent / "safety_handlers"


def _footprint(receiver: OtlpReceiver, handler: str, env: dict[str, str]) -> tuple[Any, Any]:
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        result = sandbox.invoke({}, timeout=30)
        extensions = [e.name for e in sandbox.api.extensions]
    assert result.status == "success", result.payload
    return result.payload, extensions


# Item 1: OTEL_SDK_DISABLED=true, the standard off switch, on both routes.
@pytest.mark.parametrize(
    "route, handler",
    [("wrapper", "plain_footprint_app.handler"), ("manual", "footprint_app.handler")],
)
def test_otel_sdk_disabled_means_no_extension_thread_hook_or_import_tracer(
    receiver: OtlpReceiver, route: str, handler: str
) -> None:
    baseline, none = _footprint(receiver, "plain_footprint_app.handler", {})
    assert none == []
    env = {"OTEL_SDK_DISABLED": "true"}
    if route == "wrapper":
        env["AWS_LAMBDA_EXEC_WRAPPER"] = installed_wrapper()
    ours, extensions = _footprint(receiver, handler, env)
    assert extensions == []
    assert ours["threads"] == baseline["threads"]
    assert ours["finders"] == []
    assert ours["hooked"] is False
    if route == "wrapper":
        assert ours["ours"] == []  # the wrapper execs the runtime as if we were not there
    assert receiver.spans() == []  # the sandboxes have exited: any export has arrived


def test_otel_sdk_disabled_on_the_manual_route_imports_no_opentelemetry(
    receiver: OtlpReceiver,
) -> None:
    env = {"OTEL_SDK_DISABLED": "true"}
    ours, _ = _footprint(receiver, "footprint_app.handler", env)
    assert ours["ours"] == ["otel_lambda_init", *ours["ours"][1:]]
    assert not [
        m for m in ours["ours"] if m.startswith(("otel_lambda_init._sdk", "otel_lambda_init._api"))
    ]
    assert ours["opentelemetry"] is False


HANDLERS = Path(__file__).parent.parent / "handlers"
WAYS_IN = Path(__file__).parent.parent / "ways_in_handlers"


def _route(route: str) -> tuple[str, Path, dict[str, str]]:
    if route == "wrapper":
        return "plain_app.handler", WAYS_IN, {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    return "manual_app.handler", HANDLERS, {}


def _spans_of_three_invocations(receiver: OtlpReceiver, route: str, **env: str) -> list[Any]:
    handler, code_dir, route_env = _route(route)
    with running_sandbox(handler, receiver, code_dir=code_dir, env={**route_env, **env}) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        for n in range(3):
            assert sandbox.invoke({"n": n}, timeout=30).status == "success"
    return receiver.spans()  # the sandbox has exited: every export has arrived


# Item 2: a sampler that drops every new trace drops INIT too; ratio samplers keep it.
@pytest.mark.parametrize("route", ["wrapper", "manual"])
@pytest.mark.parametrize("sampler", ["always_off", "parentbased_always_off"])
def test_a_sampler_that_samples_nothing_exports_nothing(
    receiver: OtlpReceiver, route: str, sampler: str
) -> None:
    spans = _spans_of_three_invocations(receiver, route, OTEL_TRACES_SAMPLER=sampler)
    assert [s.name for s in spans] == []


@pytest.mark.parametrize("route", ["wrapper", "manual"])
def test_a_ratio_of_zero_exports_nothing(receiver: OtlpReceiver, route: str) -> None:
    env = {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}
    assert [s.name for s in _spans_of_three_invocations(receiver, route, **env)] == []


@pytest.mark.parametrize("route", ["wrapper", "manual"])
def test_a_tiny_ratio_keeps_the_init_span_and_drops_the_invocations(
    receiver: OtlpReceiver, route: str
) -> None:
    env = {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1e-12"}
    spans = _spans_of_three_invocations(receiver, route, **env)
    assert len(init_spans(spans)) == 1
    assert invocation_spans(spans) == []


# Item 3: a handler that forks a multiprocessing pool (the pool ends its workers with SIGTERM).
@pytest.mark.parametrize(
    "route, handler",
    [("wrapper", "plain_fork_app.handler"), ("manual", "fork_app.handler")],
)
def test_a_handler_that_forks_a_pool_gets_one_span_per_invocation_and_one_init(
    receiver: OtlpReceiver, route: str, handler: str
) -> None:
    env = {"FORK_APP_CHILD_SPAN": "1"}
    if route == "wrapper":
        env["AWS_LAMBDA_EXEC_WRAPPER"] = installed_wrapper()
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=60) for n in range(3)]
    logs = sandbox.logs()
    assert [r.status for r in results] == ["success"] * 3, [r.payload for r in results]
    assert all(r.payload["squares"] == [0, 1, 4, 9] for r in results)
    spans = receiver.spans()  # the sandbox has exited: every export has arrived
    invocations = invocation_spans(spans)
    numbers = sorted(s.attributes["lambda_init.sandbox_invocation"] for s in invocations)
    ids = [(s.span_id, s.attributes.get("lambda_init.sandbox_invocation")) for s in invocations]
    assert numbers == [1, 2, 3], (ids, logs[-3000:])
    assert len(init_spans(spans)) == 1
    assert len([s for s in spans if s.name.startswith("cold start")]) <= 1
    # The workers' own spans follow the SDK's rules: a worker ended by SIGTERM exports none.
    assert [s for s in spans if s.name == "square"] == []
    assert "could not write" not in logs  # no worker touched the sandbox's state file


def test_a_child_sigtermed_before_it_is_ready_ends_by_the_default_exporting_nothing(
    receiver: OtlpReceiver,
) -> None:
    """SIGTERM reaching a forked child before our at-fork callback stepped aside met our
    Python handler: run there, it exported the parent's open invocation span (two
    invocations, four spans); caught before CPython's after-fork reset, it was dropped and a
    pool worker outlived ``Pool.terminate`` (the fork-pool test's 30 s timeout under load).
    Held blocked across the fork, it waits for the default disposition, as without us."""
    with running_sandbox("fork_window_app.handler", receiver, code_dir=SAFETY) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=60) for n in range(2)]
    assert [r.payload for r in results] == [{"exitcode": -signal.SIGTERM}] * 2
    spans = receiver.spans()  # the sandbox has exited: every export has arrived
    numbers = sorted(
        s.attributes["lambda_init.sandbox_invocation"] for s in invocation_spans(spans)
    )
    assert numbers == [1, 2]  # was [1, 1, 2, 2]: each child exported its parent's span
    assert len(init_spans(spans)) == 1


@pytest.mark.parametrize(
    "route, handler",
    [("wrapper", "plain_terminate_app.handler"), ("manual", "terminate_app.handler")],
)
def test_a_pool_worker_in_c_code_ends_at_terminate_as_without_us(
    receiver: OtlpReceiver, route: str, handler: str
) -> None:
    """A worker inheriting our Python-level SIGTERM handler ran it only back in bytecode: a
    terminate waited out the C code (and hung when SIGTERM came just before a semaphore wait,
    the fork-pool flake). The kernel's default ends it at once, as without us."""
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()} if route == "wrapper" else {}
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        result = sandbox.invoke({}, timeout=90)
    assert result.status == "success", result.payload
    assert result.payload["terminate_s"] < 8.0  # the C code alone takes ~20 s on an idle host
    assert len(invocation_spans(receiver.spans())) == 1


@pytest.mark.parametrize(
    "route, handler",
    [("wrapper", "plain_fork_exit_app.handler"), ("manual", "fork_exit_app.handler")],
)
def test_a_forked_child_leaving_with_sys_exit_exports_nothing_it_inherited(
    receiver: OtlpReceiver, route: str, handler: str
) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()} if route == "wrapper" else {}
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=60) for n in range(3)]
    assert [r.status for r in results] == ["success"] * 3, [r.payload for r in results]
    spans = receiver.spans()  # the sandbox has exited: every export has arrived
    invocations = invocation_spans(spans)
    assert sorted(s.attributes["lambda_init.sandbox_invocation"] for s in invocations) == [1, 2, 3]
    assert len(init_spans(spans)) == 1


# Item 5: concurrency libraries that patch threading, socket and time at the top of the module.
@pytest.mark.parametrize("library", ["gevent", "eventlet"])
@pytest.mark.parametrize("route", ["wrapper", "manual"])
def test_a_function_patched_by_a_concurrency_library_initializes_and_is_traced(
    receiver: OtlpReceiver, library: str, route: str
) -> None:
    pytest.importorskip(library)
    if route == "wrapper":
        handler, env = (
            f"plain_{library}_app.handler",
            {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()},
        )
    else:
        handler, env = f"{library}_app.handler", {}
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(20).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=20) for n in range(3)]
    assert [r.status for r in results] == ["success"] * 3, [r.payload for r in results]
    assert all(r.payload["patched"] for r in results)
    spans = receiver.spans()  # the sandbox has exited: every export has arrived
    invocations = invocation_spans(spans)
    assert sorted(s.attributes["lambda_init.sandbox_invocation"] for s in invocations) == [1, 2, 3]
    assert len(init_spans(spans)) == 1


def test_a_gevent_function_on_the_wrapper_route_with_sync_flush_initializes(
    receiver: OtlpReceiver,
) -> None:
    pytest.importorskip("gevent")
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(), "OTEL_LAMBDA_INIT_FLUSH": "sync"}
    with running_sandbox("plain_gevent_app.handler", receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(20).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=20) for n in range(3)]
    assert [r.status for r in results] == ["success"] * 3, [r.payload for r in results]
    spans = receiver.spans()
    assert len(invocation_spans(spans)) == 3 and len(init_spans(spans)) == 1


# Item 4: exception messages that quote personal data; the switch keeps type and stack only.
SECRET = "jane.doe@example.com"


def _raising_spans(receiver: OtlpReceiver, route: str, env: dict[str, str]) -> tuple[Any, Any]:
    if route == "wrapper":
        handler = "pydantic_like_app.handler"
        env = {**env, "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper()}
    else:
        handler = "pydantic_like_manual_app.handler"
    with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
        result = sandbox.invoke({"email": SECRET}, timeout=30)
    assert result.status == "error"
    assert SECRET in str(result.payload)  # the runtime's own report is the user's, unchanged
    (invocation,) = invocation_spans(receiver.spans())
    (event,) = [e for e in invocation.events if e.name == "exception"]
    return invocation, event


@pytest.mark.parametrize("route", ["wrapper", "manual"])
def test_exception_messages_can_be_left_out_keeping_type_and_stack(
    receiver: OtlpReceiver, route: str
) -> None:
    env = {"OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES": "false"}
    invocation, event = _raising_spans(receiver, route, env)
    assert event.attributes["exception.type"] == "ValueError"
    assert "pydantic_like_app.py" in event.attributes["exception.stacktrace"]
    assert "exception.message" not in event.attributes
    assert invocation.status_code == "ERROR"
    raw = b"".join(request.body for request in receiver.requests)
    assert SECRET.encode() not in raw and b"input_value" not in raw


@pytest.mark.parametrize("route", ["wrapper", "manual"])
def test_exception_messages_are_recorded_by_default_as_the_sdk_does(
    receiver: OtlpReceiver, route: str
) -> None:
    _, event = _raising_spans(receiver, route, {})
    assert SECRET in event.attributes["exception.message"]


def test_an_init_error_quoting_its_input_can_leave_the_message_out(
    receiver: OtlpReceiver,
) -> None:
    env = {
        "AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(),
        "RAISE_AT_IMPORT": SECRET,
        "OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES": "false",
    }
    with running_sandbox(
        "pydantic_like_app.handler", receiver, code_dir=SAFETY, env=env
    ) as sandbox:
        assert sandbox.wait_init(30).status == "error"
    (init,) = init_spans(receiver.spans())
    assert init.status_code == "ERROR"
    (event,) = [e for e in init.events if e.name == "exception"]
    assert event.attributes["exception.type"] == "ValueError"
    raw = b"".join(request.body for request in receiver.requests)
    assert SECRET.encode() not in raw and b"input_value" not in raw


# Item 7: the manual route's import error is reported with the frames it has without us.
def test_an_import_error_on_the_manual_route_shows_no_frame_of_ours(
    receiver: OtlpReceiver,
) -> None:
    def init_error(env: dict[str, str]) -> Any:
        handler = "manual_import_raising_app.handler"
        with running_sandbox(handler, receiver, code_dir=SAFETY, env=env) as sandbox:
            outcome = sandbox.wait_init(30)
        assert outcome.status == "error"
        return outcome.body

    ours = init_error({"WITH_OTEL_LAMBDA_INIT": "1"})
    baseline = init_error({})
    assert ours["errorType"] == baseline["errorType"] == "RuntimeError"
    assert ours["stackTrace"] == baseline["stackTrace"]
    assert not any("otel_lambda_init" in frame for frame in ours["stackTrace"])


def test_a_timed_out_invocation_on_the_processor_route_ends_the_upstream_span(
    receiver: OtlpReceiver,
) -> None:
    env = {"_HANDLER": "upstream_processor_app.handler"}
    with running_sandbox(
        "upstream_processor_app.handler",
        receiver,
        code_dir=SAFETY,
        env=env,
        function_timeout_s=2.0,
        execution_env="AWS_Lambda_python3.12",  # SIGTERM reaches Python
    ) as sandbox:
        assert sandbox.wait_init(30).ok
        timed_out = sandbox.invoke({"n": 1, "sleep_s": 3}, timeout=30)
        retried = sandbox.invoke({"n": 2}, timeout=30)
    assert timed_out.error_type == "Sandbox.Timedout"
    assert retried.status == "success", retried.payload
    first = [s for s in invocation_spans(receiver.spans()) if s.start_ns < retried.served_ns]
    assert len(first) == 1, [s.name for s in receiver.spans()]
    assert first[0].status_code == "ERROR" and first[0].attributes["error.type"] == "timeout"


# Item 9: the wrapper route builds tracing after the first response; a handler that changed
# the process's world by then (its environment, the recursion limit) must not lose its spans.
@pytest.mark.parametrize("attack", ["environ-clear", "recursion-limit"])
def test_a_handler_changing_the_process_before_the_deferred_build_keeps_its_spans(
    receiver: OtlpReceiver, attack: str
) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(), "ATTACK": attack}
    with running_sandbox("attack_app.handler", receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3)]
    assert [r.status for r in results] == ["success"] * 3
    spans = receiver.spans()  # the sandbox has exited: every export has arrived
    assert len(invocation_spans(spans)) == 3 and len(init_spans(spans)) == 1


def test_a_handler_replacing_the_global_provider_keeps_the_wrapper_routes_spans(
    receiver: OtlpReceiver,
) -> None:
    env = {"AWS_LAMBDA_EXEC_WRAPPER": installed_wrapper(), "ATTACK": "replace-provider"}
    with running_sandbox("attack_app.handler", receiver, code_dir=SAFETY, env=env) as sandbox:
        assert sandbox.wait_init(30).status == "done"
        results = [sandbox.invoke({"n": n}, timeout=30) for n in range(3)]
    assert [r.status for r in results] == ["success"] * 3
    spans = receiver.spans()  # the sandbox has exited: every export has arrived
    assert len(invocation_spans(spans)) == 3 and len(init_spans(spans)) == 1

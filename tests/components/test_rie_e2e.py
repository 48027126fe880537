"""The three ways in under AWS's Lambda Runtime Interface Emulator (aws-lambda-rie): the real
Runtime API and Extensions API, real awslambdaric, real OTLP/HTTP to our receiver.

RIE is not Lambda; assertions stay off what only RIE decides (README, "Real components"):
- it answers the caller only after every extension called `next` again (Lambda answers when
  the runtime posts), so our after-response export is on the caller's path here;
- it sets AWS_LAMBDA_LOG_STREAM_NAME=$LATEST (and function name test_function) for every run,
  and leaves AWS_EXECUTION_ENV, AWS_REGION and AWS_LAMBDA_INITIALIZATION_TYPE unset; Lambda sets
  AWS_EXECUTION_ENV=AWS_Lambda_python3.X, so we set it to the interpreter that really runs;
- INIT starts with the first invoke (no proactive INIT can happen);
- AWS_LAMBDA_EXEC_WRAPPER is not honoured: RIE runs its command, so the wrapper goes in it.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest
from components import Rie, running_rie, sandbox_env
from lambda_harness import (
    HANDLERS,
    OtlpReceiver,
    assert_cold_start_shape,
    init_spans,
    invocation_spans,
)

pytestmark = [pytest.mark.rie, pytest.mark.timeout(180)]

WAYS_IN = Path(__file__).parents[1] / "ways_in_handlers"
PYTHON = sys.executable
EXECUTION_ENV = f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}"
# awslambdaric lets a Python SIGTERM handler run only on python3.12+ runtimes.
SIGTERM_HANDLED = sys.version_info >= (3, 12)
UPSTREAM_SCOPE = "opentelemetry.instrumentation.aws_lambda"
REGISTERED = "Internal agent otel-lambda-init"
KILLED = "did not exit after deadline"


def script(name: str) -> str:
    path = shutil.which(name, path=str(Path(PYTHON).parent))
    assert path, f"{name} is not installed next to {PYTHON}"
    return path


# route -> (code dir, RIE's command, what the user sets, our extension registers)
ROUTES = {
    "decorator": (HANDLERS, [PYTHON, "-m", "awslambdaric", "manual_app.handler"], {}, True),
    "exec-wrapper": (
        WAYS_IN,
        ["otel-lambda-init-wrapper", PYTHON, "-m", "awslambdaric", "plain_app.handler"],
        {},
        True,
    ),
    # The README's setting beside the upstream instrumentor (it flushes every invocation).
    "upstream-processor": (
        WAYS_IN,
        ["opentelemetry-instrument", PYTHON, "-m", "awslambdaric", "plain_app.handler"],
        {"OTEL_LAMBDA_INIT_FLUSH": "none", "OTEL_METRICS_EXPORTER": "none"},
        False,
    ),
}


def start_route(  # type: ignore[no-untyped-def]
    route: str, receiver: OtlpReceiver, workdir: Path, tmp: Path | None = None
):
    """RIE running one route. Each run gets its own temporary directory (TMPDIR), as each
    Lambda sandbox (or RIE container) gets a fresh /tmp; pass tmp to share one between runs."""
    code_dir, command, user_env, _ = ROUTES[route]
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = tmp or workdir / "tmp"
    tmp.mkdir(exist_ok=True)
    program = command[0] if Path(command[0]).is_absolute() else script(command[0])
    env = sandbox_env(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        AWS_EXECUTION_ENV=EXECUTION_ENV,
        TMPDIR=str(tmp),
        **user_env,
    )
    return running_rie([program, *command[1:]], cwd=code_dir, env=env, log_path=workdir / "rie.log")


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_route_under_rie_cold_then_warm_then_sigterm(
    route: str, receiver: OtlpReceiver, tmp_path: Path
) -> None:
    registers = ROUTES[route][3]
    with start_route(route, receiver, tmp_path) as rie:
        results = [rie.invoke({"n": n}, timeout=60) for n in range(3)]
        spans = receiver.wait_for(
            lambda s: bool(init_spans(s)) and len(invocation_spans(s)) >= 3, timeout=30
        )
        runtime = rie.runtime_pids()
        time.sleep(0.2)
        exit_code = rie.terminate(timeout=10)
        logs = rie.logs()
    assert [r.status for r in results] == [200] * 3
    assert [r.payload["n"] for r in results] == [0, 1, 2]
    assert exit_code == 0 and runtime

    (init,) = init_spans(spans)
    first, second, third = sorted(invocation_spans(spans), key=lambda s: s.start_ns)
    # One init span, in the first invocation's trace (both under the cold-start root), linked.
    assert init.trace_id == first.trace_id
    assert_cold_start_shape(spans, init, first)
    assert [link.span_id for link in first.links] == [init.span_id]
    assert init.name == f"init {init.attributes['faas.name']}" == "init test_function"
    assert init.start_ns < init.end_ns <= first.start_ns
    assert init.attributes["lambda_init.start_source"] == "proc"
    assert init.attributes["lambda_init.end_source"] == "runtime-next"
    for span in (init, first):
        assert span.attributes["faas.coldstart"] is True
        assert span.attributes["lambda_init.proactive_initialization"] is False
        assert span.attributes["lambda_init.phase"] == "init"
        assert span.attributes["lambda_init.initialization_type"] == "on-demand"
    # The warm counter, no second init, no link on warm spans.
    assert [s.attributes["lambda_init.sandbox_invocation"] for s in (first, second, third)] == [
        1,
        2,
        3,
    ]
    for warm in (second, third):
        assert warm.attributes["faas.coldstart"] is False and not warm.links
        assert warm.trace_id != first.trace_id
    request_ids = {s.attributes["faas.invocation_id"] for s in (first, second, third)}
    assert len(request_ids) == 3  # RIE's request ids, one per invoke
    if route == "upstream-processor":
        assert {s.scope_name for s in (first, second, third)} == {UPSTREAM_SCOPE}
    else:
        assert first.kind == "SERVER" and first.scope_name == "otel_lambda_init"

    # The internal extension registered with RIE's Extensions API during INIT.
    assert (REGISTERED in logs) is registers, logs
    # Shutdown: with an extension registered RIE sends SIGTERM; on python3.12+ runtimes the
    # runtime exits on its own before RIE's deadline. Without one RIE sends SIGKILL (as Lambda).
    if registers and SIGTERM_HANDLED:
        assert KILLED not in logs and "Sending SIGKILL" not in logs, logs
    elif not registers:
        assert "Sending SIGKILL to runtime" in logs
    assert "Traceback" not in logs, logs
    assert len(init_spans(receiver.spans())) == 1  # nothing new or duplicated at shutdown


def test_second_rie_run_keeping_tmp_is_a_new_cold_start(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    """RIE reuses the log stream name ($LATEST) and, on a host or a restarted container, /tmp:
    the state the first run left must not make the second run look like the same sandbox."""
    shared_tmp = tmp_path / "shared-tmp"
    shared_tmp.mkdir()
    for run in range(2):
        with start_route("decorator", receiver, tmp_path / f"run-{run}", shared_tmp) as rie:
            assert rie.invoke({"n": run}, timeout=60).status == 200
            receiver.wait_for(lambda s, r=run: len(init_spans(s)) == r + 1, timeout=30)
    inits = sorted(init_spans(receiver.spans()), key=lambda s: s.start_ns)
    firsts = sorted(invocation_spans(receiver.spans()), key=lambda s: s.start_ns)
    assert len(inits) == len(firsts) == 2
    assert {s.attributes["faas.instance"] for s in firsts} == {"$LATEST"}  # RIE's, every run
    for init, first in zip(inits, firsts, strict=True):
        assert init.attributes["lambda_init.phase"] == "init"
        assert first.attributes["lambda_init.sandbox_invocation"] == 1
        assert first.attributes["faas.coldstart"] is True
        assert [link.span_id for link in first.links] == [init.span_id]


def test_handler_error_under_rie_is_recorded_and_returned_unchanged(
    receiver: OtlpReceiver, tmp_path: Path
) -> None:
    with start_route("exec-wrapper", receiver, tmp_path) as rie:
        ok = rie.invoke({"n": 1}, timeout=60)
        failed = rie.invoke({"raise": True}, timeout=60)
        spans = receiver.wait_for(lambda s: len(invocation_spans(s)) >= 2, timeout=30)
    assert ok.status == 200
    assert failed.payload["errorType"] == "ValueError"
    assert failed.payload["errorMessage"] == "the handler failed on purpose"
    errored = [s for s in invocation_spans(spans) if s.status_code == "ERROR"]
    assert len(errored) == 1
    assert errored[0].attributes["lambda_init.sandbox_invocation"] == 2


def measure(rie: Rie, warm: int) -> tuple[float, list[float]]:
    cold = rie.invoke({"n": 0}, timeout=60).latency_s
    return cold, [rie.invoke({"n": n}, timeout=60).latency_s for n in range(warm)]


def test_caller_latency_with_and_without_the_package(
    receiver: OtlpReceiver, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Caller-visible latency under RIE (request sent -> response read), printed for the
    README; bounded loosely, since RIE waits for our extension's `next` before answering."""
    rows = {}
    plain = sandbox_env(AWS_EXECUTION_ENV=EXECUTION_ENV)
    command = [PYTHON, "-m", "awslambdaric", "plain_app.handler"]
    with running_rie(command, cwd=WAYS_IN, env=plain, log_path=tmp_path / "plain.log") as rie:
        rows["no package"] = measure(rie, 20)
    for route in ("exec-wrapper", "decorator"):
        with start_route(route, receiver, tmp_path / route) as rie:
            rows[route] = measure(rie, 20)
    for name, (cold, warm) in rows.items():
        warm_ms = sorted(w * 1000 for w in warm)
        with capsys.disabled():  # into the CI log
            print(
                f"\nRIE caller latency [{name}] python{sys.version_info[0]}."
                f"{sys.version_info[1]}: cold {cold * 1000:.1f} ms, warm median "
                f"{warm_ms[len(warm_ms) // 2]:.1f} ms, warm max {warm_ms[-1]:.1f} ms"
            )
    plain_warm = sorted(rows["no package"][1])[10]
    for route in ("exec-wrapper", "decorator"):
        assert sorted(rows[route][1])[10] < plain_warm + 0.25  # warm: well under 250 ms added
